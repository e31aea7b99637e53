package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
)

// csvHeader reads the column names of a CSV file's first line.
func csvHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cols, err := csv.NewReader(bufio.NewReader(f)).Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading its header: %w", path, err)
	}
	return cols, nil
}

// boolColumn says whether a column of pinsh's export holds true/false,
// which the sqlite3 tables keep as INT 1/0, as a careful user would.
func boolColumn(name string) bool {
	switch name {
	case "is_pin_set", "is_locked_out", "is_pin_expired", "enabled", "enterprise_voice_enabled":
		return true
	}
	return false
}

// narrowSQL builds the narrow table from pinsh's export of get_users() |
// pin_info: users(identity TEXT PRIMARY KEY, is_pin_set INT, is_locked_out
// INT).
func narrowSQL(pinsCSV string) string {
	return `.mode csv
.import ` + pinsCSV + ` p
CREATE TABLE users(identity TEXT PRIMARY KEY, is_pin_set INT, is_locked_out INT);
INSERT INTO users SELECT identity, is_pin_set = 'true', is_locked_out = 'true' FROM p;
DROP TABLE p;
VACUUM;
`
}

// wideSQL builds the wide table: every column of pinsh's export of
// get_users() and of get_users() | pin_info, one row per user, identity the
// primary key.
func wideSQL(usersCSV, pinsCSV string, userCols, pinCols []string) string {
	var defs, sel []string
	seen := map[string]bool{}
	add := func(table, col string) {
		if seen[col] {
			return
		}
		seen[col] = true
		typ, expr := "TEXT", table+"."+quoteIdent(col)
		if boolColumn(col) {
			typ, expr = "INT", expr+" = 'true'"
		}
		def := quoteIdent(col) + " " + typ
		if col == "identity" {
			def += " PRIMARY KEY"
		}
		defs = append(defs, def)
		sel = append(sel, expr)
	}
	for _, c := range userCols {
		add("u", c)
	}
	for _, c := range pinCols {
		add("p", c)
	}
	return `.mode csv
.import ` + usersCSV + ` u
.import ` + pinsCSV + ` p
CREATE TABLE users(` + strings.Join(defs, ", ") + `);
INSERT INTO users SELECT ` + strings.Join(sel, ", ") + ` FROM u JOIN p USING (identity);
DROP TABLE u;
DROP TABLE p;
VACUUM;
`
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
