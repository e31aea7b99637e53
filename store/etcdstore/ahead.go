package etcdstore

import (
	"context"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/store"
)

// A scan of PIN info is a series of calls, each reading a window of
// blocks; while the caller works through one chunk, the Store already
// reads the window of the next (readAhead), so that a pipeline over the
// whole directory waits for one round trip, not one per chunk. A window
// read ahead is used only by the call that asks for it, and only if this
// Store committed nothing since the read began: a process still reads its
// own writes.

// window is what one window read returns: the blocks of users from..to-1
// and, first, the ID counter.
type window struct {
	from, to store.UserID
	gen      int64 // kv.gen when the read began
	done     chan struct{}
	resp     *clientv3.TxnResponse
	err      error
}

// readAhead holds the window being read ahead of a scan (nil: none).
type readAhead struct {
	mu   sync.Mutex
	next *window
}

// windowGets reads the ID counter and the blocks of users from..to-1.
func (s *Store) windowGets(from, to store.UserID) []clientv3.Op {
	return []clientv3.Op{
		clientv3.OpGet(s.key(keyUserSeq)),
		clientv3.OpGet(s.blockKey(blockOf(from)), clientv3.WithRange(s.blockKey(blockOf(to-1)+1))),
	}
}

// readWindow returns the window of users from..to-1: the one read ahead if
// it is that window and still good, else a new read.
func (s *Store) readWindow(ctx context.Context, from, to store.UserID) (*clientv3.TxnResponse, error) {
	s.ahead.mu.Lock()
	w := s.ahead.next
	s.ahead.next = nil
	s.ahead.mu.Unlock()
	if w != nil && w.from == from && w.to == to {
		select {
		case <-w.done:
			if w.err == nil && w.gen == s.kv.gen.Load() {
				return w.resp, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.kv.read(ctx, s.windowGets(from, to))
}

// startReadAhead begins reading the window of users from..to-1 in the
// background, for the next call of a scan. It is bounded by readTimeout
// and needs no waiting for: nothing but the next readWindow looks at it.
func (s *Store) startReadAhead(from, to store.UserID) {
	w := &window{from: from, to: to, gen: s.kv.gen.Load(), done: make(chan struct{})}
	s.ahead.mu.Lock()
	s.ahead.next = w
	s.ahead.mu.Unlock()
	go func() {
		defer close(w.done)
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		defer cancel()
		w.resp, w.err = s.kv.cli.Txn(ctx).Then(s.windowGets(from, to)...).Commit()
	}()
}
