package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// Mutating builtins read their input in chunks of readChunk items and
// commit up to commitBatch targets in one store call. A big commit batch
// amortizes the commit (bbolt writes and syncs once per call); reading in
// small chunks keeps only the targets' keys, not the records, in memory.
// The batch being gathered when the pipeline fails or is interrupted is not
// applied.
const (
	readChunk   = 4096
	commitBatch = 65536
)

// mutationOptionKeys are the options every mutating builtin takes.
var mutationOptionKeys = []string{"whatif", "confirm", "force", "error_action"}

// splitOptions separates a trailing options map (a map without an identity
// key) from the other arguments, parses it with the allowed keys, and
// applies the shell-wide --whatif.
func (sh *Shell) splitOptions(name string, args []tengo.Object, allowed ...string) ([]tengo.Object, options, error) {
	var m map[string]tengo.Object
	if n := len(args); n > 0 {
		switch o := args[n-1].(type) {
		case *tengo.Map:
			if _, isTarget := o.Value["identity"]; !isTarget {
				m, args = o.Value, args[:n-1]
			}
		case *tengo.ImmutableMap:
			if _, isTarget := o.Value["identity"]; !isTarget {
				m, args = o.Value, args[:n-1]
			}
		}
	}
	opts, err := parseOptions(name, m, allowed...)
	if err != nil {
		return nil, opts, err
	}
	opts.whatIf = opts.whatIf || sh.cfg.WhatIf
	return args, opts, nil
}

// reporter shows and records the per-item errors of one builtin call as its
// options say (force, error_action).
type reporter struct {
	sh   *Shell
	name string
	opts options
	w    io.Writer
}

func (sh *Shell) reporter(env *lang.Env, name string, opts options) *reporter {
	return &reporter{sh: sh, name: name, opts: opts, w: env.Stderr()}
}

// report handles one per-item error. It returns err itself when the error
// must end the call and the script (error_action "stop").
func (r *reporter) report(err error) error {
	switch r.opts.errorAction {
	case Stop:
		return err
	case Ignore:
		return nil
	case SilentlyContinue:
		r.sh.recordError(r.name, err)
		return nil
	}
	r.sh.recordError(r.name, err)
	if r.opts.force {
		return nil
	}
	fmt.Fprintf(r.w, "%s: %v\n", r.name, err)
	r.sh.shown.Add(1)
	return nil
}

// applyFunc commits one batch of a mutation.
type applyFunc func(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error)

// targetWalk is one pass of a target-taking builtin over its input: what
// to call it in WhatIf and Confirm texts, its options, how many targets to
// commit at once, and commit itself. walkTargets fills in the counts.
type targetWalk struct {
	name   string
	opts   options
	batch  int // targets per commit
	rep    *reporter
	commit func(ctx context.Context, batch []target) error // must not keep batch

	unresolved int // input items that named no user (reported)
	whatIf     int // targets only described (whatif)
	declined   int // targets the admin said No to
}

// walkTargets reads in, resolves its items to users, describes them
// (whatif) or asks about them (confirm), and commits the rest in batches,
// each user once per batch. It reads readChunk items at a time and keeps
// only the targets, so a batch costs memory for its keys, not its records.
// With error_action "stop" or confirm it commits one target at a time:
// nothing after a failing or declined target may change. If the input fails
// or is interrupted, the batch being gathered is not committed.
func (sh *Shell) walkTargets(env *lang.Env, in *lang.Stream, w *targetWalk) error {
	ctx := env.Context()
	conf := confirmer{prompter: sh.cfg.Prompter}
	chunk, batch := readChunk, w.batch
	if w.opts.errorAction == Stop || w.opts.confirm {
		chunk, batch = 1, 1
	}
	var pending []target
	inBatch := map[store.UserID]bool{}
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := w.commit(ctx, pending)
		pending = pending[:0]
		clear(inBatch)
		return err
	}
	for {
		items, err := in.Take(ctx, chunk)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return flush()
		}
		targets, errs, err := sh.resolve(ctx, items)
		if err != nil {
			return err
		}
		for _, e := range errs {
			w.unresolved++
			if err := w.rep.report(e); err != nil {
				return err
			}
		}
		for _, t := range targets {
			if inBatch[t.id] {
				continue // named twice in one batch: act once
			}
			switch {
			case w.opts.whatIf:
				fmt.Fprintln(env.Stdout(), WhatIfText(w.name, t.identity))
				w.whatIf++
				continue
			case w.opts.confirm:
				ok, err := conf.ok(w.name, t.identity)
				if err != nil {
					return err
				}
				if !ok {
					w.declined++
					continue
				}
			}
			inBatch[t.id] = true
			pending = append(pending, t)
			if len(pending) >= batch { // counted in targets: one wildcard may name many
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
}

// mutate runs a target-taking mutation (lock_pin, unlock_pin, ...) over in:
// it checks the operator's role, walks the targets (walkTargets), commits
// them with apply, reports per-item errors, and returns the summary record.
func (sh *Shell) mutate(env *lang.Env, in *lang.Stream, name string, opts options, apply applyFunc) (tengo.Object, error) {
	if err := sh.authorizeInput(env.Context(), name, in); err != nil {
		return nil, err
	}
	sum := summary{action: name, whatIf: opts.whatIf}
	rep := sh.reporter(env, name, opts)
	w := &targetWalk{name: name, opts: opts, batch: commitBatch, rep: rep,
		commit: func(ctx context.Context, batch []target) error {
			ids := make([]store.UserID, len(batch))
			named := make(map[store.UserID]string, len(batch))
			for i, t := range batch {
				ids[i], named[t.id] = t.id, t.identity
			}
			results, err := apply(ctx, sh.op(), ids)
			if err != nil {
				return err
			}
			for _, r := range results {
				switch r.Outcome {
				case store.Changed:
					sum.changed++
					continue
				case store.Skipped:
					sum.skipped++
					if r.Err == nil {
						continue // a no-op that needs no message
					}
				default:
					sum.failed++
				}
				if r.Identity == "" { // the user was removed since it was named
					r.Identity = named[r.ID]
				}
				if err := rep.report(resultError(r)); err != nil {
					return err
				}
			}
			return nil
		}}
	if err := sh.walkTargets(env, in, w); err != nil {
		return nil, err
	}
	sum.failed += w.unresolved
	sum.changed += w.whatIf
	sum.skipped += w.declined
	return sum.record(), nil
}

// resultError is the per-item error of a store result, naming its target
// once.
func resultError(r store.ItemResult) error {
	err := r.Err
	if errors.Is(err, store.ErrNotFound) && r.ID != 0 {
		err = errNoSuchUser // the user was removed since it was named
	}
	if r.Identity == "" || strings.HasPrefix(err.Error(), r.Identity) {
		return err
	}
	return &itemError{input: r.Identity, err: err}
}
