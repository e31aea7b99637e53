package store

import (
	"errors"
	"slices"
	"testing"
)

// lines returns the line numbers of r.Bad.
func lines(r ImportReport) []int {
	var out []int
	for _, e := range r.Bad {
		out = append(out, e.Line)
	}
	return out
}

func TestImportReportBadRows(t *testing.T) {
	bad := errors.New("bad")
	// Rows arrive out of order (parallel writers): 100 down to 1.
	var r ImportReport
	for line := 100; line >= 1; line-- {
		r.AddBad(RowError{Line: line, Err: bad})
		if len(r.Bad) >= 2*MaxBadRows {
			t.Fatalf("after line %d Bad holds %d rows; AddBad keeps fewer than %d", line, len(r.Bad), 2*MaxBadRows)
		}
	}
	r.Sort()
	want := make([]int, MaxBadRows)
	for i := range want {
		want[i] = i + 1
	}
	if r.BadCount != 100 || !slices.Equal(lines(r), want) {
		t.Fatalf("BadCount %d, lines %v; want 100 and %v", r.BadCount, lines(r), want)
	}

	// Merge keeps both counts and the lowest lines of both.
	var o ImportReport
	o.Imported = 7
	for _, line := range []int{3, 200, 1} {
		o.AddBad(RowError{Line: line, Err: bad})
	}
	var m ImportReport
	m.Imported = 5
	m.AddBad(RowError{Line: 2, Err: bad})
	m.Merge(o)
	if m.Imported != 12 || m.BadCount != 4 || !slices.Equal(lines(m), []int{1, 2, 3, 200}) {
		t.Errorf("merged: imported %d, BadCount %d, lines %v; want 12, 4, [1 2 3 200]", m.Imported, m.BadCount, lines(m))
	}
	r.Merge(o)
	if r.BadCount != 103 || len(r.Bad) != MaxBadRows || r.Bad[0].Line != 1 || r.Bad[1].Line != 1 || r.Bad[MaxBadRows-1].Line != MaxBadRows-2 {
		t.Errorf("merged into a full report: BadCount %d, lines %v", r.BadCount, lines(r))
	}
}
