//go:build !linux

package main

import "errors"

func mountTmpfs(dir, size string) error {
	return errors.New("mounting a tmpfs is done on Linux only")
}

func unmount(dir string) {}
