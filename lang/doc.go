// Package lang is pinsh's language runtime: Tengo (github.com/d5/tengo/v2)
// extended with lazy streams, pipeline stages and the | operator, records and
// times for domain data, printing in several formats, error positions, and a
// sandbox. The builtins (package builtins) are declared to it as a table; it
// imports neither the store nor the builtins.
//
// # The language an admin writes
//
// Scripts and REPL input are Tengo (https://github.com/d5/tengo), with the
// additions below. A pipeline reads left to right:
//
//	get_users() | pin_info | where(func(p) { return p.is_pin_set }) | lock_pin
//	get_users() | pin_info | where({is_locked_out: true}) | count
//
// # Streams
//
// A stream is a lazy sequence of records. Sources (get_users()) return one;
// nothing is read until something consumes it: a stage, a sink, a for loop,
// or printing. Sources read in chunks, so `for u in get_users() { ... break }`
// reads one chunk, and a pipeline over a million users runs in bounded
// memory. A stream is read once: using it a second time is an error that says
// so; collect() it into an array to keep its records. for i, x in s {} gives
// the index and the item.
//
// Some streams carry values that exist nowhere else, such as the PINs
// set_pin generates (see Precious): only a consumer that keeps every item
// (printing, a for loop, collect, export_csv) may read one, each batch
// reaches it before the next is made, and whatever was made but not
// delivered when an input ends is printed then. A statement whose value is
// such a record prints it in scripts too.
//
// A record whose schema names a secret field (Schema.Secret: set_pin's pin)
// stays undelivered after the stream hands it on, until its secret reaches
// the admin or a file or the script: printed in any format (also by fmt's
// print functions), written by a sink that calls Delivered once the file
// is synced (export_csv, export_jsonl), or read by the script (r.pin,
// r["pin"], for k, v in r, to_map(r), string(r), json.encode). A value the
// script holds is the script's to keep. When an input ends, however it
// ends (an error, Ctrl-C, a timeout, exit()), its undelivered records are
// printed under a header (Precious.Unshown) before Eval returns; only
// undelivered records are remembered, so memory stays bounded.
//
// # Stages and |
//
// A stage is a pipeline builtin used as a value (pin_info, count) or called
// with only its non-input arguments (where(f), select("identity"),
// lock_pin({whatif: true})). x | stage feeds x to the stage: the result is a
// new lazy stream, or, for a sink (count, collect, lock_pin...), the sink's
// result, computed at once. The input x may be a stream or an array; for
// builtins that take targets (pin_info, lock_pin...) it may also be one
// identity string or one record (anything with an identity field). On one
// target, a record-producing stage returns that record itself, so
// pin_info("kenmyer@litwareinc.com").is_locked_out works. A map without an
// identity field is an options argument, never an input.
//
// Every stage can also be called with its input first: where(users, f),
// pin_info(users), count(users). Stages compose into new stages:
//
//	locked := pin_info | where({is_locked_out: true})
//	get_users() | locked | count
//	locked(get_users())          // a stage is also a function of its input
//
// A source may head a pipe without parentheses: get_users | count.
//
// | binds like + (tighter than ==, && and ||), left to right, so
// `users | count == 3` compares the count. Between two integers | is still
// bitwise OR, and x |= stage works. To continue a pipeline on the next line,
// end the line with |.
//
// # Records
//
// Builtins return records: values with named fields in a fixed order (user,
// pin_info, ...). r.field and r["field"] read a field. A field the record's
// type has but this record leaves unset (locked_by of a PIN nobody locked)
// reads as undefined; a name the type does not have is an error, so that a
// misspelt field cannot make !p.IsPinSet true for every record:
//
//	pin_info record has no field "IsPinSet"; did you mean is_pin_set?
//
// The rule holds wherever a script names a field: r.field and r["field"] in
// functions, and the field names builtins take (select, sort_by, where's
// field maps); builtins report it with lang.FieldError, and lang.Hint words
// the suggestion for other names (options, filters). The closest fields are
// the same name in another case or style (PowerShell's IsPinSet,
// PinExpirationTime, LineURI), then names a few typing slips away, then names
// sharing a word. Maps keep Tengo's rule: a missing key reads as undefined.
//
// A field map given as a predicate (where({site: "redmond"})) keeps the
// items whose fields all equal its values; strings compare ignoring case, as
// PowerShell's -eq does, unless MatchOptions.CaseSensitive is set (where's
// {case_sensitive: true}). == in a function is case-sensitive, as in Tengo.
// A field map refuses an undefined value (a misspelt variable would select
// every record leaving the field unset), and a record whose field holds
// another kind of value than the map's (a string for a bool) is an error,
// not a silent mismatch; ints and floats are one kind, plain maps unchecked.
// Records are read-only; to_map(r) returns an ordinary mutable map copy.
// for k, v in r iterates the fields in order; r1 == r2 compares type and
// fields; type_name(r) is the record type. json.encode(r) encodes the fields
// in order.
//
// # Time
//
// Time fields and now() are pinsh times. A PIN that never expires has
// pin_expiration_time never: it prints as empty (null in JSON) and sorts
// after every time, so both
//
//	where(func(p) { return p.pin_expiration_time < now() })
//	where(func(p) { return now() > p.pin_expiration_time })
//
// select exactly the expired PINs, without error. undefined on the right of a
// time comparison counts as never. t + n and t - n shift by n nanoseconds
// (times.hour etc. are durations); t1 - t2 is a duration, an error if either
// is never. The times module takes and returns pinsh times, and its now(),
// since() and until() follow the session's clock (pinsh --now). is_time(x)
// and time(x) know pinsh times.
//
// # Statements and printing
//
// A statement whose value is a stream is run and its records printed, in
// scripts and in the REPL, even inside functions. In the REPL every other
// expression statement outside a function prints its value too (undefined
// prints nothing); assignments print nothing.
//
// Output formats (pinsh --output): table, the default at a terminal; json;
// jsonl, the default when output is not a terminal; csv. See Format for what
// each writes. Streams print as they are read: json writes one array in
// constant memory, table sizes its columns from the first 50 rows and cuts
// longer values with "…" to fit the terminal. Times print in RFC 3339 (UTC as
// stored); never and undefined print as empty.
//
// # Errors
//
// Compile and runtime errors read
//
//	script.tengo:3:39: user record has no field "IsPinSet"; did you mean is_pin_set? (processing sip:ken@litwareinc.com)
//	    n := users | where(func(u) { return u.IsPinSet < limit }) | count
//	                                          ^
//	    called from script.tengo:3:59
//
// An error inside a function that a builtin calls (a predicate) points into
// that function and names the record being processed; "called from" lines
// show the calls that led there. An error a stage's Go code raises while a
// later stage or sink reads from it (a misspelt field in where's field map,
// select or sort_by) names that stage and points at the | that applied it,
// called from the sink.
//
// # Sandbox and limits
//
// Scripts may import the modules base64, enum, fmt, hex, json, math, rand,
// text and times; never os, and no files. No script can crash or hang the
// host: every run recovers panics (1/0, bytes(-1), text.format_int(1, 99),
// unbounded recursion all end as errors with a position), stops on Ctrl-C and
// --timeout (a run's context reaches every VM, including those running
// predicates), and has limits:
//
//   - strings and bytes values: 64 MiB (MaxStringLen, MaxBytesLen);
//   - range(): 4 Mi elements;
//   - objects allocated per VM run: Limits.MaxAllocs (250 million);
//   - heap growth per run: Limits.MaxHeap (2 GiB), checked every 10ms;
//   - script functions nested through Go (a predicate running a pipeline
//     whose predicate...): Limits.MaxCallDepth (64);
//   - source: 1 MiB, brackets nested 250 deep, expressions 1000 deep;
//   - values printed, encoded or formatted: nested 64 deep (so a map that
//     contains itself prints cut short instead of recursing forever).
//
// Known gap: == between two containers that contain themselves still
// recurses without bound inside Tengo (its Equals is called directly by the
// VM). Building such a value needs m.x = m on purpose.
//
// # Differences from plain Tengo
//
// Plain Tengo code runs as in Tengo: TestTengoCompatibility runs the cases
// of Tengo's own tests (vm_test.go and the stdlib tests, read from the
// module cache) through this package and through Tengo and compares the
// results, errors and error positions; the differences it allows are listed
// in its table tengoDifferences with the reason for each (the os module and
// values a Go host provides are absent, allocations count differently,
// random numbers differ). Tail calls keep Tengo's optimisation: a call of
// the running function as a function's last statement runs in the same
// frame, so a loop written as recursion does not overflow the stack (see
// tailCall in rewrite.go for how this keeps stream statements printed). An
// error of an operator is reported where Tengo reports it, at the start of
// its left operand, | between plain values included.
//
// What differs on purpose:
//
//   - | pipes (above); x := v at the top level redefines a global from an
//     earlier input instead of failing with "redeclared"; builtins cannot be
//     redefined or assigned.
//   - a Go panic in the VM (1/0, unbounded recursion) is a runtime error,
//     and a stack overflow's trace shows repeated calls once, with a count.
//   - fmt.print/println write to the session's output; map keys print
//     sorted.
//   - json.encode knows records and times and sorts map keys.
//   - times.sleep is interrupted by Ctrl-C and --timeout.
//
// # Go API for builtin authors
//
// Declare builtins in a table of *Builtin (name, Kind, help text, examples,
// and the Go function) and pass it to NewSession. A Stage or Sink receives
// its input as a claimed *Stream and returns a stream made with the Env's
// constructors (Source, Iter, Items, Filter, Map, Batch) or, for a sink, its
// result. Env.Invoke calls script functions; Env.Predicate turns a where()
// argument into a Go predicate (a map predicate never enters the VM), and
// Env.FieldTest proves a where() function a plain test of a record's
// fields, which Go can then judge on a store's data without a record or a
// call of the VM, with Tengo's own results.
// Records are made with NewSchema and NewRecord, or NewLazyRecord and
// NewFieldsRecord (one allocation per record) when each field is made on
// first read; times with NewTime and Never. A
// target-taking builtin (Targets) also takes an identity string or an
// identity-carrying record as its input; MinArgs says how many arguments
// it always takes, so that a call with no more (a trailing options map, one
// without "identity", not counted) is a bound stage; WrittenUndefined makes
// a literal undefined in its calls arrive as WrittenUndefinedValue, told
// apart from an undefined read from a misspelt variable. A source
// may mark its stream WithOrigin so that the next stage can replace both by
// a faster equivalent while the stream is untouched (Origin); a sink that
// reads what such a stream stands for another way checks Env.Err between
// chunks and reports a source's error with Stream.Fail. Errors a
// builtin returns are prefixed with its name and reported at the script
// position of the call.
//
// A Session is one interpreter (a REPL or a script run); Eval compiles and
// runs one input, keeping globals for the next. Incomplete tells a REPL to
// read another line; Names, Lookup and FieldNames serve tab completion.
// Errors are *Error values whose Kind chooses the exit status.
package lang
