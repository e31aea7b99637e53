// Command pinsh is an interactive, scriptable admin shell for dial-in PINs.
//
// The project's README.md describes the command line, the prompt, the test
// runner and the files pinsh keeps.
package main

import (
	"os"
)

func main() {
	setGCPolicy(os.LookupEnv)
	code := pinshMain()
	for _, f := range atExit {
		f()
	}
	os.Exit(code)
}

// atExit is run when pinsh returns normally: the profiles of a build with
// -tags pinshprof (profile.go).
var atExit []func()

// pinshMain runs pinsh on the process's arguments and standard streams and
// returns its exit status. Deferred clean-up (the --demo directory) has run
// when it returns.
func pinshMain() int {
	a := &app{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		lookupEnv: os.LookupEnv,
	}
	return a.run(os.Args[1:])
}
