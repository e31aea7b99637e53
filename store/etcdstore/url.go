package etcdstore

import (
	"fmt"
	"net"
	"strings"
)

// Scheme is the URL scheme that selects the etcd backend in pinsh --db.
const Scheme = "etcd://"

// IsURL reports whether db names an etcd directory rather than a bbolt file.
func IsURL(db string) bool { return strings.HasPrefix(db, Scheme) }

// ParseURL splits "etcd://h1:2379,h2:2379,h3:2379/NAME" into the client
// endpoints ("h1:2379", ...) and the directory's NAME, the key prefix all
// of its keys live under. Every host needs a port; NAME is one or more
// letters, digits, '.', '_' or '-', so that it cannot overlap another
// directory's keys ("a" and "a/b") or hide a path. Errors name the part
// that is wrong.
func ParseURL(db string) (endpoints []string, name string, err error) {
	rest, ok := strings.CutPrefix(db, Scheme)
	if !ok {
		return nil, "", fmt.Errorf("database URL %q: want %sHOST:PORT[,HOST:PORT...]/NAME", db, Scheme)
	}
	hosts, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" {
		return nil, "", fmt.Errorf("database URL %q: no directory name: add /NAME after the hosts (e.g. %s%s/pinsh)", db, Scheme, hosts)
	}
	if bad := strings.IndexFunc(name, func(r rune) bool { return !nameRune(r) }); bad >= 0 {
		return nil, "", fmt.Errorf("database URL %q: directory name %q may hold only letters, digits, '.', '_' and '-'", db, name)
	}
	if name == "." || name == ".." {
		return nil, "", fmt.Errorf("database URL %q: directory name %q is reserved; choose another", db, name)
	}
	if hosts == "" {
		return nil, "", fmt.Errorf("database URL %q: no hosts: give HOST:PORT[,HOST:PORT...] before /%s", db, name)
	}
	for h := range strings.SplitSeq(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return nil, "", fmt.Errorf("database URL %q: host %q: want HOST:PORT (etcd's client port is usually 2379)", db, h)
		}
		endpoints = append(endpoints, h)
	}
	return endpoints, name, nil
}

func nameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}
