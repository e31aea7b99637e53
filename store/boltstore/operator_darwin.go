package boltstore

import (
	"os/user"
	"strconv"
)

// accountName names uid through os/user, which on macOS asks the system's
// directory services (Open Directory, where its accounts live rather than
// in /etc/passwd) through libSystem, cgo or not.
func accountName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid" + strconv.Itoa(uid)
}
