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
	b.explain("compute: the same script file run by `pinsh --db D FILE` and by Tengo's own command (`tengo FILE`, the Tengo version in go.mod)")
	for i, sc := range computeScripts(b.o.compute) {
		path := b.path("scripts", fmt.Sprintf("compute%d.tengo", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(sc.src), 0o600); err != nil {
			return err
		}
		p := procbench.Command{Name: "pinsh", Path: b.pinsh, Args: []string{"--db", small, path}, Env: b.env}
		t := procbench.Command{Name: "tengo", Path: b.tengo, Args: []string{path}}
		res, err := b.alternate(0, p, t)
		if err != nil {
			return err
		}
		if !bytes.Equal(res[0][0].Stdout, res[1][0].Stdout) {
			return fmt.Errorf("%s: pinsh printed %q, tengo %q", sc.name, res[0][0].Stdout, res[1][0].Stdout)
		}
		b.row("compute: "+sc.name, res[0], "plain Tengo", res[1])
	}
	return nil
}
