package aggregate_test

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/parser"
)

// Example aggregates four flow records (two of one conversation, one
// rejected probe, one NODATA record) into 5-minute windows and prints the
// conversations table.
func Example() {
	lines := strings.Join([]string{
		"2 123456789010 eni-0a1b 10.0.0.5 203.0.113.9 40001 443 6 10 4000 1793491210 1793491260 ACCEPT OK",
		"2 123456789010 eni-0a1b 10.0.0.5 203.0.113.9 40002 443 6 5 1500 1793491300 1793491350 ACCEPT OK",
		"2 123456789010 eni-0a1b 198.51.100.7 10.0.0.5 51515 22 6 1 40 1793491320 1793491330 REJECT OK",
		"2 123456789010 eni-0a1b - - - - - - - 1793491200 1793491260 - NODATA",
	}, "\n")
	f := parser.DefaultFormat()
	batch := parser.NewBatch(f)
	parser.NewParser().ParseBlock(batch, []byte(lines), 1)
	rec := batch.NewRecordBatch(f.ArrowSchema())

	agg := aggregate.New(aggregate.Config{Tables: []string{aggregate.Conversations}}, nil,
		func(table string, out arrow.RecordBatch) error {
			defer out.Release()
			addr := func(col, i int) netip.Addr {
				return netip.AddrFrom16([16]byte(out.Column(col).(*array.FixedSizeBinary).Value(i))).Unmap()
			}
			for i := 0; i < int(out.NumRows()); i++ {
				start := time.Unix(out.Column(0).(*array.Int64).Value(i), 0).UTC()
				fmt.Printf("%s %s %s -> %s:%d %s: %d records, %d packets, %d bytes\n", table, start.Format("15:04"),
					addr(5, i), addr(6, i), out.Column(7).(*array.Int32).Value(i), out.Column(9).(*array.String).Value(i),
					out.Column(12).(*array.Int64).Value(i), out.Column(13).(*array.Int64).Value(i), out.Column(14).(*array.Int64).Value(i))
			}
			return nil
		})
	w := agg.NewWorker()
	if err := w.Add(rec, "us-east-1"); err != nil {
		fmt.Println(err)
	}
	rec.Release()
	if err := agg.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// conversations 00:00 10.0.0.5 -> 203.0.113.9:443 ACCEPT: 2 records, 15 packets, 5500 bytes
	// conversations 00:00 198.51.100.7 -> 10.0.0.5:22 REJECT: 1 records, 1 packets, 40 bytes
}
