package boltstore

import "os"

// Operator returns who acts on a database file: the OS account running
// this process, by its real user ID (the invoking user of a setuid or
// setgid program), named from the system's user database, or "uid1234"
// when the ID has no name there.
//
// This is the file backend's answer to "who is the operator": the file
// itself cannot tell who opened it, so the account is as far as identity
// goes, and whoever can write the file can act as anyone (see the README's
// security model). Environment variables (USER, LOGNAME, SUDO_USER) are
// not consulted: every process sets its own. Under sudo the operator is
// therefore the target account (root), not the one who ran sudo. A
// networked backend answers with the user its server authenticated.
//
// How the name is looked up depends on the system (accountName): on macOS
// through its directory services, elsewhere without cgo (see operatorOf).
func Operator() string {
	return accountName(os.Getuid())
}
