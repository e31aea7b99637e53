package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
)

// remoteBackends are the databases --db names by a URL (SCHEME://...)
// rather than a file path, by scheme. Each is compiled into pinsh only with
// its build tag, by a file that sets connect (etcd.go): linking the etcd
// client costs every run of pinsh about 12 ms of package initialisation
// (GODEBUG=inittrace=1), several times the start-up of the rest of pinsh,
// and most sites keep their directory in a file.
var remoteBackends = map[string]*remoteBackend{
	"etcd": {tag: "etcd"},
}

// remoteBackend is one kind of remote database.
type remoteBackend struct {
	tag string // the build tag that compiles it in
	// connect reaches the database url names, with its client settings
	// read through getenv. nil: this pinsh was built without tag.
	connect func(ctx context.Context, url string, getenv func(string) string) (remoteDB, error)
}

// remoteDB is a connection to a directory on a remote database, made once
// per run: unlike a file, the database itself says who runs pinsh.
type remoteDB interface {
	// Account is the operator as the database authenticated it. warning,
	// when not empty, says why pinsh's roles are only advisory there.
	Account() (name, warning string)
	// Open opens the directory as a store, creating it (with opts.Creator
	// as its CsAdministrator) when it does not exist; created reports that.
	// Of opts, KeyFile, Creator and Now are used; without a Creator, a
	// directory that does not exist is an error (store.ErrNotFound).
	Open(ctx context.Context, opts boltstore.Options) (st store.Store, created bool, err error)
	// Scratch returns a new empty directory on the same connection, named
	// after this one, and remove, which deletes it: one per pinsh test
	// file. Closing the scratch directory leaves the connection open.
	Scratch(ctx context.Context) (dir remoteDB, remove func() error, err error)
	// URL names the directory, for messages.
	URL() string
	// Close ends the connection.
	Close() error
}

// remoteScheme returns the scheme of a --db that is a URL ("etcd" for
// "etcd://..."), or "" for a file path.
func remoteScheme(db string) string {
	scheme, _, ok := strings.Cut(db, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/\\.") {
		return ""
	}
	return scheme
}

// connectRemote connects to the database url names. It fails when the
// scheme is unknown, or known but not compiled into this pinsh.
func connectRemote(ctx context.Context, url string, getenv func(string) string) (remoteDB, error) {
	scheme := remoteScheme(url)
	b := remoteBackends[scheme]
	if b == nil {
		var known []string
		for s := range remoteBackends {
			known = append(known, s+"://")
		}
		sort.Strings(known)
		return nil, fmt.Errorf("--db %s: unknown database scheme %s://; use a file path, or %s", cut.Quote(url), scheme, strings.Join(known, ", "))
	}
	if b.connect == nil {
		return nil, fmt.Errorf("--db %s: this pinsh was built without the %s backend; install one with it: go install -tags %s github.com/pinsh/pinsh/cmd/pinsh (or go build -tags %s ./cmd/pinsh in a checkout)",
			cut.Quote(url), scheme, b.tag, b.tag)
	}
	return b.connect(ctx, url, getenv)
}

// connectDB connects to the run's database when --db names a remote one
// (not with --demo, which never touches it), tells the admin once why
// roles are advisory there if they are, and sets cfg.remote. It returns
// the exit status of a failure after showing it, or exitOK.
func (a *app) connectDB(cfg *config) int {
	if cfg.demo || cfg.mode == modeMigrate || remoteScheme(cfg.dbPath) == "" {
		return exitOK
	}
	r, err := connectRemote(context.Background(), cfg.dbPath, a.getenv)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitDatabase
	}
	if _, warning := r.Account(); warning != "" {
		warnAdvisory(a.stderr, warning)
	}
	cfg.remote = r
	return exitOK
}

func warnAdvisory(w io.Writer, warning string) {
	fmt.Fprintln(w, "pinsh: warning:", warning)
}
