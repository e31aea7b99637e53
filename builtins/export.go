package builtins

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
)

// exportSchema is the summary an export sink returns.
var exportSchema = lang.NewSchema("export", "path", "rows").OneLine()

func (sh *Shell) exportBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "export_csv", Kind: lang.Sink, Keeps: true, MinArgs: 1, Options: exportOptionKeys,
			Cmdlets:    []string{"Export-Csv"},
			PowerShell: `Export-Csv -Path F -NoTypeInformation -> export_csv("F")`,
			Sig:        "export_csv(path[, opts])",
			Doc: `Export-Csv: write every item to a new private CSV file (mode 0600).
path is relative to the working directory. A header row of the first item's
fields (every field of a record, the sorted keys of a map, "value" for
other values), then one row per item; an item with other fields than the first is an error. The
file is created readable by you only (mode 0600); a file already at path is
refused unless opts is {overwrite: true}, which replaces it; a symbolic
link at path is always refused, never followed. Returns {path, rows}.
It keeps every item, so it may end a set_pin pipeline: each batch of PINs
is written and synced to disk before set_pin sets the next, so every PIN
set is in the file even if the run stops, and the file suits a mail merge:
get_users({ou: "Sales"}) | set_pin | export_csv("pins.csv"). Under
--whatif it creates nothing and says what it would write. Scripts have no
other file access.`,
			Examples: []lang.Example{
				{Code: `get_users("aidan@litwareinc.com") | set_pin | export_csv("pins.csv")`, Output: "path: pins.csv  rows: 1\n"},
				{Code: `export_csv([1, 2], "n.csv"); export_csv(["a"], "n.csv", {overwrite: true}).rows`, Output: "path: n.csv  rows: 2\n1\n"},
			},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				return sh.export(env, in, args, "export_csv", newCSVWriter)
			},
		},
		{
			Name: "export_jsonl", Kind: lang.Sink, Keeps: true, MinArgs: 1, Options: exportOptionKeys,
			Sig: "export_jsonl(path[, opts])",
			Doc: `Write every item to a new private JSON Lines file (mode 0600).
path is relative to the working directory; one JSON value per line as the jsonl output format writes it.
Like export_csv's, the file is readable by you only; {overwrite: true}
replaces a file already at path, a symbolic link is always refused. Returns
{path, rows}; like export_csv, it may end a set_pin pipeline, and each
batch of PINs is on disk before the next is set.`,
			Examples: []lang.Example{
				{Code: `get_users("* Smith") | select("identity", "display_name") | export_jsonl("smiths.jsonl")`, Output: "path: smiths.jsonl  rows: 2\n"},
			},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				return sh.export(env, in, args, "export_jsonl", newJSONLWriter)
			},
		},
	}
}

// rowWriter writes items to a buffered file in one format.
type rowWriter interface {
	write(item tengo.Object) error
	flush() error // to the file, not yet synced
}

func (sh *Shell) export(env *lang.Env, in *lang.Stream, args []tengo.Object, name string,
	newWriter func(*bufio.Writer) rowWriter) (tengo.Object, error) {
	rest, opts, err := sh.splitOptions(name, args, exportOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, fmt.Errorf("want %s(path[, {overwrite: true}])", name)
	}
	ps, ok := rest[0].(*tengo.String)
	if !ok || ps.Value == "" {
		return nil, fmt.Errorf("the path must be a non-empty string, not %s", rest[0].TypeName())
	}
	path := ps.Value
	if err := checkPrivate(path, opts.overwrite); err != nil {
		return nil, err
	}
	if opts.whatIf {
		// --whatif: say so, and create nothing; the input is read for
		// what it says (set_pin's What if lines) and counted.
		fmt.Fprintln(env.Stdout(), WhatIfText(name, path))
		n, err := streamCount(env, in, nil)
		if err != nil {
			return nil, err
		}
		return lang.NewRecord(exportSchema, []tengo.Object{str(path), n}, nil), nil
	}
	f, err := createPrivate(path, opts.overwrite)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriter(f)
	w := newWriter(buf)
	// unsynced: written since the last sync, of a precious stream or
	// holding a generated PIN not yet delivered (lang.Undelivered): once
	// synced, they are delivered, and not shown at the end of the input.
	var unsynced []tengo.Object
	sync := func() error {
		if err := w.flush(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
		for i, v := range unsynced {
			lang.Delivered(v)
			unsynced[i] = nil
		}
		unsynced = unsynced[:0]
		return nil
	}
	if in.IsPrecious() {
		in.SetSync(sync)
	}
	fail := func(err error) (tengo.Object, error) {
		// What is in the buffer may still reach the disk; what does not
		// goes back to a precious stream, to be shown.
		if sync() != nil {
			in.GiveBack(unsynced)
		}
		f.Close()
		return nil, err
	}
	ctx := env.Context()
	rows := 0
	for {
		v, ok, err := in.Next(ctx)
		if err != nil {
			return fail(err)
		}
		if !ok {
			break
		}
		if err := w.write(v); err != nil {
			// v is not in the file: a precious stream gets it back, and
			// an undelivered PIN stays undelivered, to be shown.
			in.GiveBack([]tengo.Object{v})
			return fail(fmt.Errorf("%s: row %d: %w", path, rows+1, err))
		}
		if in.IsPrecious() || lang.Undelivered(v) {
			unsynced = append(unsynced, v)
		}
		rows++
	}
	if err := sync(); err != nil {
		in.GiveBack(unsynced)
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", path, err)
	}
	return lang.NewRecord(exportSchema, []tengo.Object{str(path), integer(rows)}, nil), nil
}

// createPrivate creates the file at path, readable and writable by its
// owner only, for values that must stay secret. It never follows a symbolic
// link at path, and refuses a file already there unless overwrite, which
// removes it first (a file made in between is refused: O_EXCL).
func createPrivate(path string, overwrite bool) (*os.File, error) {
	if err := checkPrivate(path, overwrite); err != nil {
		return nil, err
	}
	if overwrite {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("replace %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("%s was created by something else meanwhile; choose another path", path)
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%s is a symbolic link; pinsh never writes through one: remove it or choose another path", path)
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		return nil, fmt.Errorf("create %s: the directory %s does not exist; create it first (mkdir -p %s) or choose another path", path, dir, dir)
	case err != nil:
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	// The new name must survive a crash too, not only the data.
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return f, nil
}

// syncDir makes the entries of directory dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkPrivate refuses a path createPrivate would refuse: a symbolic link, a
// directory, or a file unless overwrite.
func checkPrivate(path string, overwrite bool) error {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil // nothing there (or unreadable: OpenFile says why)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; pinsh never writes through one: remove it or choose another path", path)
	case fi.IsDir():
		return fmt.Errorf("%s is a directory; give the path of a file to create", path)
	case !overwrite:
		return fmt.Errorf("%s already exists; pass {overwrite: true} to replace it, or choose another path", path)
	}
	return nil
}

// csvWriter writes a header of the first item's fields, then a row per
// item.
type csvWriter struct {
	w      *csv.Writer
	buf    *bufio.Writer
	header []string
}

func newCSVWriter(buf *bufio.Writer) rowWriter { return &csvWriter{w: csv.NewWriter(buf), buf: buf} }

func (c *csvWriter) write(item tengo.Object) error {
	header, cells := lang.CSVRow(item)
	if c.header == nil {
		c.header = header
		c.w.Write(header)
	} else if !slices.Equal(header, c.header) {
		return fmt.Errorf("its fields (%v) are not those of the first row (%v); select() the same fields for every item, or use export_jsonl",
			header, c.header)
	}
	c.w.Write(cells)
	return c.w.Error()
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

// jsonlWriter writes one JSON value per line.
type jsonlWriter struct{ buf *bufio.Writer }

func newJSONLWriter(buf *bufio.Writer) rowWriter { return jsonlWriter{buf} }

func (j jsonlWriter) write(item tengo.Object) error {
	b, err := lang.JSONValue(item)
	if err != nil {
		return err
	}
	if _, err := j.buf.Write(append(b, '\n')); err != nil {
		return err
	}
	return nil
}

func (j jsonlWriter) flush() error { return j.buf.Flush() }
