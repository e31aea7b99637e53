package store

// UserRecord is a user with its whole PIN state, the hashes included: what
// pinsh migrate copies from one directory to another (see
// Store.ScanRecords). It never leaves pinsh: no builtin shows it.
type UserRecord struct {
	User  User
	State PinState
}
