package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pinsh/pinsh/internal/procbench"
)

// computeSizes are the loop counts of the compute scripts.
type computeSizes struct{ arith, calls, concat int }

var (
	fullCompute  = computeSizes{arith: 3_000_000, calls: 2_000_000, concat: 30_000}
	quickCompute = computeSizes{arith: 300_000, calls: 200_000, concat: 10_000}
)

// computeScripts are plain Tengo, valid in pinsh and in Tengo alike: the
// same file runs under both.
func computeScripts(n computeSizes) []struct{ name, src string } {
	return []struct{ name, src string }{
		{"arithmetic", fmt.Sprintf("fmt := import(\"fmt\")\nx := 0\nfor i := 0; i < %d; i++ { x += i * 3 %% 7 }\nfmt.println(x)\n", n.arith)},
		{"call statements", fmt.Sprintf("fmt := import(\"fmt\")\nn := 0\nf := func(i) { n += i }\nfor i := 0; i < %d; i++ { f(i) }\nfmt.println(n)\n", n.calls)},
		{"`s += \"x\"`", fmt.Sprintf("fmt := import(\"fmt\")\ns := \"\"\nfor i := 0; i < %d; i++ { s += \"x\" }\nfmt.println(len(s))\n", n.concat)},
	}
}

// compute runs each script under pinsh and under plain Tengo's command,
// alternately, and checks they printed the same.
func (b *bench) compute() error {
	small := b.dirs[b.o.sizes[0]]
	b.explain("compute: the same script file run by `pinsh --db D FILE` and by Tengo's own command (`tengo FILE`, the Tengo version in go.mod); the GOGC=100 rows run pinsh under the runtime's default collector, as Tengo's command runs, to compare the interpreters alone")
	for i, sc := range computeScripts(b.o.compute) {
		path := b.path("scripts", fmt.Sprintf("compute%d.tengo", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(sc.src), 0o600); err != nil {
			return err
		}
		p := procbench.Command{Name: "pinsh", Path: b.pinsh, Args: []string{"--db", small, path}, Env: b.env}
		d := p
		d.Name, d.Env = "pinsh GOGC=100", append(append([]string(nil), b.env...), "GOGC=100")
		t := procbench.Command{Name: "tengo", Path: b.tengo, Args: []string{path}}
		res, err := b.alternate(0, p, d, t)
		if err != nil {
			return err
		}
		for _, r := range res[:2] {
			if !bytes.Equal(r[0].Stdout, res[2][0].Stdout) {
				return fmt.Errorf("%s: pinsh printed %q, tengo %q", sc.name, r[0].Stdout, res[2][0].Stdout)
			}
		}
		b.row("compute: "+sc.name, res[0], "plain Tengo", res[2])
		b.row("compute: "+sc.name+", GOGC=100", res[1], "plain Tengo", res[2])
	}
	return nil
}
