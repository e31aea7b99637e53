//go:build tools

// Package tools pins dependencies that the packages being built will import,
// so that `go mod tidy` keeps them while the code that uses them is written.
package tools

import (
	_ "github.com/chzyer/readline"
	_ "github.com/creack/pty"
	_ "github.com/d5/tengo/v2"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/term"
)
