package main

import "syscall"

// mountTmpfs mounts a tmpfs of size (mount's size= option) on dir.
func mountTmpfs(dir, size string) error {
	return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700")
}

func unmount(dir string) { syscall.Unmount(dir, syscall.MNT_DETACH) }
