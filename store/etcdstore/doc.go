// Package etcdstore is pinsh's etcd backend (issue 12): it implements
// store.Store on an etcd cluster, so that several admin hosts share one
// directory, and passes the contract suite store/storetest against a local
// 3-member cluster (internal/etcdcluster/etcdtest). It holds:
//
//   - Open: opens or creates a directory (meta, the global policy, the
//     standard roles with the creator as CsAdministrator, the first audit
//     entry, in one transaction; hosts racing to create it end with one),
//     refusing foreign keys and newer schemas; Close.
//   - Every method of store.Store: the user directory, the PIN state
//     (PinInfos, ScanPinInfos, SetPins, LockPins, UnlockPins, VerifyPin,
//     LoadUsers, ResetKey; see PIN state below), the policies, the admin
//     roles, the audit log, and the PIN key check (hashKey, keyGuard).
//   - ParseURL and IsURL: "etcd://h1:2379,h2:2379,h3:2379/NAME" names the
//     cluster's client endpoints and the directory NAME, the prefix of all
//     of the directory's keys ("NAME/..."), so several directories can
//     share a cluster.
//   - Operator: who acts, from etcd authentication (the etcd user, or the
//     client certificate's common name) when it is on, else the OS account
//     with AdvisoryWarning: roles are a boundary only when the cluster's
//     own authentication limits who can write the keys.
//   - ClientConfig: TLS and credentials from the environment, under
//     PINSH_ETCD_CACERT, _CERT, _KEY, _USER ("USER" or "USER:PASSWORD") and
//     _PASSWORD, each falling back to etcdctl's ETCDCTL_ name.
//   - The transaction layer every change goes through (txn.go).
//
// # Transactions
//
// etcd refuses a transaction with more than 128 compares or 128 operations
// (--max-txn-ops, a server setting), a request over 1.5 MiB
// (--max-request-bytes) and a key written twice. A txn keeps within all
// three (127 of each, the commit adds one compare and one write; at most
// 1 MiB of keys and values); a bulk change fills a txn until it is full
// (errTxnFull) and commits it before the next.
//
// Read-modify-writes (a verify's failure counters, a lock against a
// concurrent set_pin) are compare-and-swap: kv.update reads its keys at one
// revision, computes the change, and commits it only if none of the keys'
// mod revisions moved, else reads again. No lock is held across hosts, and
// no update is lost: two instances incrementing one counter concurrently
// end at the sum (TestUpdateNoLostUpdate).
//
// A commit whose outcome is unknown (a member killed, a connection reset, a
// timeout) is resolved, not repeated or dropped: every transaction also
// compares and sets a witness key, NAME/w/SESSION/SLOT, to a fresh
// transaction id; afterwards "if the witness holds the id, committed; else
// overwrite the witness" tells which, and the overwrite moves the witness's
// mod revision, so a transaction still in flight can no longer commit
// (TestUnknownOutcome). With the leader of three members killed while
// eight writers ran 320 read-modify-writes, all 320 went through, 7 of
// them after resolving an unknown outcome, and every counter ended exact
// (TestLeaderKilled; reads during the election are tried again, with
// backoff, up to 10 times). A bulk LockPins of 4,000 users with the leader
// killed while its second transaction's commit was in flight completed,
// after resolving that commit, with every PIN locked once and audited once
// (TestBulkLockNodeLoss); had it failed, its error says how many PINs it
// had changed. (The members are embedded in the test process: a kill is
// raft's hard stop and the listeners closing, the nearest to SIGKILL an
// in-process member has.)
//
// A failed compare rereads in the commit's own request (the Else branch
// holds the read-modify-write's reads), so a retry costs one round trip,
// not two.
//
// # Retention
//
// Witnesses are deleted when the session closes. A process killed leaves
// its own behind, one small key per commit it had in flight at once. Each
// witness value carries the writer's clock ("ID@UNIXSECONDS"), and Open
// sweeps other sessions' witnesses older than an hour (witnessTTL, far
// beyond the longest resolve), each only if unchanged since read: a live
// session's idle witness may go, and its next commit on that slot then
// fails its compare once and commits on the retry (TestSweepWitnesses).
//
// etcd keeps every old revision until someone compacts. pinsh never reads
// an old revision (scans read windows at the latest one; ScanAudit
// survives a compaction between pages), so a Store compacts the cluster's
// history to 1,000 revisions behind its latest commit every 10,000
// revisions its commits move on (TestCompaction). Compaction is
// cluster-wide: on a cluster shared with programs that read old revisions,
// open with Options.NoCompact and run the cluster with
// --auto-compaction-mode/--auto-compaction-retention instead. Compaction
// frees space for reuse inside the members' files; shrinking the files is
// etcdctl defrag, an admin's job, as is the quota (--quota-backend-bytes,
// 2 GiB by default).
//
// # Key layout
//
// Every key of directory NAME starts with "NAME/"; values are JSON but
// for the PIN state blocks.
//
//	meta                 {"magic":"pinsh directory","schema":2,"created":..,"creator":..}
//	keyid                the PIN key's id (hex), written with the first hash
//	pol/KEY              a policy (store.Policy); KEY from store.ParsePolicyIdentity
//	role/KEY             a role: identity, template, members (builtins follow
//	                     the standard role, as in the bbolt backend); KEY is store.RoleKey
//	seq/audit            the last audit sequence number (decimal)
//	a/SEQ                the audit entries of one transaction, SEQ the last one's,
//	                     16 hex digits: their shared time and operator once, then
//	                     per entry its target (and action, outcome, detail when they
//	                     change; see auditBlock); copied entries and schema 1's: a
//	                     JSON []store.AuditEntry
//	w/SESSION/SLOT       witnesses of commits ("TXNID@UNIXSECONDS"; see Transactions)
//	seq/user             the last user ID assigned (decimal)
//	u/ID                 a user (store.User); ID 16 hex digits
//	x/a/ADDR             unique index: lower-case SIP address (without "sip:"),
//	                     and the UPN when it differs -> user ID (decimal)
//	x/l/DOMAIN\LOGON     unique index: folded domain\logon -> user ID
//	x/d/DN               unique index: the DN's lookup form -> user ID
//	x/n/NAME\0ID         display name index (folded name, ID 16 hex digits), no value
//	x/t/tag:NAME\0ID     tag policy index: the users granted it (ID 16 hex digits), no value
//	p/BLOCK              an entry for each user whose ID / 16 is BLOCK (16 hex
//	                     digits): its PIN state and a summary of its record (SIP
//	                     address, display name, enabled), in a binary layout (block.go)
//	h/ID                 a user's PIN hashes: {"hash":..,"history":[..]}, deleted with the user
//
// The PIN key id is its own key, so that a transaction writing hashes
// compares it ("equals my key's id", or "absent" and then writes it): two
// hosts with different key files can never both write hashes, also when
// they race for the first one. A host whose key file differs, or lacks it
// while the directory has a key id, fails with store.ErrKey.
//
// The audit log is one key per transaction holding its entries, so a bulk
// change spends one of its 128 operations on the audit, not one per item.
// Entries are numbered by one counter, seq/audit, which every change
// compares and advances: simple and dense (the store.Store cursor is a
// sequence number), but a hot spot all writers contend on; the issue
// measured 38% retries with two writers. BenchmarkVerifyTwoHosts (two
// Stores, one writer each, on users of different blocks, so that the audit
// counter is their only common key) measured 0.43–0.63 retries per verify
// (-benchtime 300x -count 2, load average 22–25 on the 2-core machine);
// rereading in the failed commit's request gave 47 and 70 verifies/s
// against 55 and 51 without, no difference that load lets one see. A
// sharded or revision-keyed audit cursor would remove the hot spot but
// change the store.Store contract (dense sequence numbers) for both
// backends; it is not done. ScanAudit reads windows of keys
// (blocks are keyed by their last entry), never a whole remaining range:
// etcd counts a limited range to its end.
//
// # Users
//
// A user change reads the user's unique index keys (and the tag policy it
// names, and the ID counter for a new user) with kv.update and writes the
// record, its index entries and its audit entry in one transaction; since
// the compare covers the index keys, two hosts creating users with one SIP
// address, UPN, logon or DN at once end with one user, and the other gets
// store.ErrDuplicate naming it (TestCreateUserRace). UpdateUser reads the
// old record first to know the index entries to drop, and starts over if
// the record changed before its commit. RemoveUsers commits 12 users per
// transaction, ImportUsers 28 rows per transaction, LoadUsers 24 (a
// batch too big for one transaction is halved; a row repeating a
// value stored by another host meanwhile is refused, never imported twice:
// TestImportRace). ScanUsers reads windows of IDs up to the last assigned, so
// removed users cost windows, bounded per call; an OU query filters on each
// user's DN (no OU index yet). Users are one key each; whether packing them
// (as PIN state will be) pays for bulk imports is not measured.
//
// # PIN state
//
// A user's PIN state is one entry of its block p/BLOCK; its hashes are
// h/ID, so a bulk lock rewrites blocks of small entries only. Every user
// has an entry, created with the user (CreateUser, ImportUsers, LoadUsers)
// and deleted with it (RemoveUsers, comparing the block), and an entry
// exists only for an existing user, so LockPins, UnlockPins and VerifyPin
// need not compare user records. The entry also holds the user's SIP
// address, display name and enabled flag (kept by every change of the
// record, which compares and writes the block), so that ScanPinInfos
// without an OU or a filter, and the bulk locks, read the blocks alone:
// 16 users a key, decoded from a compact binary layout, instead of a JSON
// record per user (schema 2). Open upgrades a directory of schema 1 (JSON
// blocks, entries only for users with a PIN state) in place: it marks
// meta "schema 2, upgrading", so that a pinsh of schema 1 refuses to open
// it, rewrites the blocks span by span from the users' records, and
// clears the mark; an upgrade interrupted is finished by the next Open. A
// pinsh of schema 1 already running during the upgrade may still write a
// JSON block: the scans and locks then read that span's users, and write
// the block back in the binary layout (TestJSONBlockFallback); a user it
// creates without a PIN state in a span already upgraded gets no entry,
// and ScanPinInfos does not see it until its record changes: upgrade
// every host's pinsh before the first of schema 2 opens the directory.
//
// LockPins and UnlockPins take the users in ID order, in spans of at most
// 112 blocks (1,792 users): one transaction per span reads its blocks as
// one range, compares them and the audit counter, and writes the changed
// blocks and one audit block; a span too big for one request is halved.
// While one span commits, the next span's blocks are read, and its
// transaction takes the audit counter as the commit before left it
// (spanChain): a span costs one round trip, unless another host changed
// its blocks or the counter meanwhile, when its compare fails and the
// failed commit's own reads give it what changed.
// VerifyPin reads the user, its block and hashes, the policies and the
// audit counter at one revision (a serializable read, answered by the
// member it reaches without a round to the leader: the commit compares
// what it decided on, so a stale read only costs a retry), decides with
// pinrule.Attempt (the two-tier lockout of facts §6, on the caller's clock
// op.Now, never etcd leases), and commits the new state with its audit
// entry under compare-and-swap, deciding again on a conflict (reusing the
// hash comparison while the hash is the same): two hosts failing one user
// at once both count. SetPins commits 32 requests per transaction,
// comparing each user, block and hashes and the key id. ResetKey marks the
// key id "reset-to NEWID from OLDID" (no host writes or verifies hashes
// while the mark is there), clears the set PINs span by span, and records
// the new id last; an interrupted reset is finished by running it again.
//
// Figures on the package's test cluster (three members on loopback, fsync
// off), a 2-core machine at load average 18–22, test hashing parameters:
//
//	go test ./store/etcdstore -run '^$' -bench 'StoreLock|StoreVerify' -benchtime 3x
//	BenchmarkStoreLock    LockPins of 10,000 users in one call   5,434 users/s
//	BenchmarkStoreVerify  one VerifyPin round trip               1.42 ms
//
// (Measured with schema 1, when each span's transaction also read and
// decoded its 1,792 user records for their identities.) The spans commit
// one after another, since each compares the audit counter the one before
// advanced.
//
// ScanPinInfos reads one window of blocks a call, with the ID counter, in
// one request; when it returns, it already reads the window the next call
// will ask for (ahead.go), so a pipeline over the whole directory waits for
// the cluster once, not once a chunk. The window read ahead is used only
// if this Store committed nothing since the read began: a process sees its
// own changes (TestScanReadAheadSeesOwnWrites).
//
// # PIN state layout (measured and chosen)
//
// BenchmarkLockLayout locks the PIN state of 20,000 users (24 bytes each)
// with 127-key compare-and-swap transactions on the tests' cluster (three
// members on loopback, fsync off, a loaded 2-core machine; three runs of
// -benchtime 1x, so the spread is wide):
//
//	users per key   1 worker             4 workers
//	 1              7,400–10,100 /s      9,700–30,400 /s
//	16              73,000–392,000 /s    197,000–595,000 /s
//	64              81,000–1,240,000 /s  861,000–1,229,000 /s
//
// One key per user is at or below the goal of 20,000 locks/s;
// packing 16 users to a key clears it by an order of magnitude. The price
// is that concurrent verifies of two users of one key retry their
// compare-and-swap. BenchmarkVerifyContention (8 workers verifying users
// drawn at random from 1,000; -benchtime 2000x -count 2) measured:
//
//	users per key   retries per verify   verifies/s
//	 1              0.003                3,050–3,390
//	16              0.055–0.057          2,830–3,100
//	64              0.19–0.22            2,220–2,320
//
// So the choice is 16 users per key (by user ID): bulk locks an order of
// magnitude faster, verifies as fast, at one retry in 18 under that load.
package etcdstore
