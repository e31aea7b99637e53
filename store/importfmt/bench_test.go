package importfmt

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeCSV writes n user rows under our header to a file in dir and returns
// its path and size. With quotedDN each row also has a quoted distinguished
// name, which sends every record through the quote-handling path.
func writeCSV(b *testing.B, dir string, n int, quotedDN bool) (string, int64) {
	b.Helper()
	path := filepath.Join(dir, "users.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if quotedDN {
		fmt.Fprintln(w, "sip_address,display_name,user_principal_name,sam_account_name,domain,distinguished_name,enabled,registrar_pool,line_uri,site")
	} else {
		fmt.Fprintln(w, "sip_address,display_name,user_principal_name,sam_account_name,domain,enabled,registrar_pool,line_uri,site")
	}
	for i := range n {
		if quotedDN {
			fmt.Fprintf(w, "sip:user%07d@contoso.com,User %07d,user%07d@contoso.com,user%07d,contoso,\"CN=User %07d,OU=Users,DC=contoso,DC=com\",%t,pool%02d.contoso.com,tel:+1425%07d,Site%d\n",
				i, i, i, i, i, i%10 != 0, i%8, i, i%5)
		} else {
			fmt.Fprintf(w, "sip:user%07d@contoso.com,User %07d,user%07d@contoso.com,user%07d,contoso,%t,pool%02d.contoso.com,tel:+1425%07d;ext=%d,Site%d\n",
				i, i, i, i, i%10 != 0, i%8, i, i%10000, i%5)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

func benchmarkCSV(b *testing.B, n int, quotedDN bool) {
	path, size := writeCSV(b, b.TempDir(), n, quotedDN)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for r := range Rows(f, CSV) {
			if r.Err != nil {
				b.Fatalf("line %d: %v", r.Line, r.Err)
			}
			rows++
		}
		f.Close()
		if rows != n {
			b.Fatalf("%d rows, want %d", rows, n)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(n)*float64(b.N)/sec, "rows/s")
	b.ReportMetric(float64(size)*float64(b.N)/sec/1e6, "MB/s")
	b.ReportMetric(sec*1e9/float64(b.N)/float64(n), "ns/row")
}

// BenchmarkCSV1M parses 1,000,000 unquoted user rows (about 150 MB), the
// store's import budget being about 1.7 s for parse and insert together.
func BenchmarkCSV1M(b *testing.B) { benchmarkCSV(b, 1_000_000, false) }

// BenchmarkCSV1MQuoted parses 1,000,000 rows that each quote a DN.
func BenchmarkCSV1MQuoted(b *testing.B) { benchmarkCSV(b, 1_000_000, true) }
