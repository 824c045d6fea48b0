package athena

import (
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/parser"
)

// FlowsTable is the name and directory of the flow records table.
const FlowsTable = "flows"

// Unknown is the partition value used when the data has none.
const Unknown = "unknown"

// NewFlowsTable starts the flows table of out: records partitioned by
// region and UTC date of start, columns in the registry's order.
func NewFlowsTable(out *Output, opts TableOptions) *Table {
	opts.Name, opts.Dir = FlowsTable, FlowsTable
	opts.PartitionKeys = []string{"region", "date"}
	opts.ColumnLess = FlowColumnLess
	return NewTable(out, opts)
}

// AggregatesDir is the directory of the aggregate tables.
const AggregatesDir = "aggregates"

// AggregateRowGroupRows caps the row groups of aggregate tables. Their rows
// arrive a window at a time into as many files as partitions, each holding
// a row group in memory until it is full: smaller groups keep a long run's
// memory flat (about 1.2 rows per record would otherwise sit buffered).
const AggregateRowGroupRows = 1 << 17

// NewAggregateTable starts the aggregate table name of out, under
// aggregates/<name>/, partitioned like the flows; columns keep the order of
// the aggregate's schema; row groups hold at most AggregateRowGroupRows.
func NewAggregateTable(out *Output, name string, opts TableOptions) *Table {
	opts.Name, opts.Dir = name, AggregateDir(name)
	if opts.RowGroupRows <= 0 || opts.RowGroupRows > AggregateRowGroupRows {
		opts.RowGroupRows = AggregateRowGroupRows
	}
	opts.PartitionKeys = []string{"region", "date"}
	opts.ColumnLess = nil
	return NewTable(out, opts)
}

// AggregateDir is the directory of an aggregate table in an output.
func AggregateDir(name string) string { return AggregatesDir + "/" + name }

// FlowColumnLess orders flow columns as the field registry does (AWS's
// table order), with unknown fields last by name.
func FlowColumnLess(a, b string) bool {
	fa, oka := parser.LookupField(a)
	fb, okb := parser.LookupField(b)
	switch {
	case oka && okb:
		return fa.ID < fb.ID
	case oka != okb:
		return oka
	}
	return a < b
}

// FlowsDDLColumns returns the columns the flows table declares: every
// registry field (a Parquet table reads absent columns as NULL) but region,
// which is a partition key, plus the extra columns written but date (a field
// unknown to flowlens named so: Athena refuses a column that repeats a
// partition key).
func FlowsDDLColumns(written []pqfile.Column) []DDLColumn {
	var cols []pqfile.Column
	seen := map[string]bool{}
	for _, f := range parser.Fields() {
		cols = append(cols, pqfile.Column{Name: f.Column, Type: kindType(f.Kind)})
		seen[f.Column] = true
	}
	for _, c := range written {
		if !seen[c.Name] {
			cols = append(cols, c)
		}
	}
	return DDLColumns(cols, "region", "date")
}

func kindType(k parser.Kind) pqfile.Type {
	switch k {
	case parser.KindInt32:
		return pqfile.Int32
	case parser.KindInt64:
		return pqfile.Int64
	}
	return pqfile.String
}

// FlowPartitioner assigns flow records to their (region, date) partition:
// the record's region, else the input's (from its S3 key), else "unknown";
// the UTC day of start, else of end, else the input's day, else "unknown".
// Values are sanitised so that none can leave the table's directory.
type FlowPartitioner struct {
	DefaultRegion string // from the input's key, or ""
	DefaultDate   string // YYYY-MM-DD from the input's key, or ""
	// TimeColumns are the Int64 columns of Unix seconds whose first non-NULL
	// value dates a row (default start, then end).
	TimeColumns []string

	regions map[string]string
	days    map[int64]string
}

// SanitizePartitionValue makes s safe as a Hive partition value: lowercase
// letters, digits, '-' and '_' only (anything else becomes '_'), at most 64
// bytes, "unknown" when empty. It cannot contain '/', '=', '.' or control
// characters, so it cannot escape the table's directory.
func SanitizePartitionValue(s string) string {
	if s == "" {
		return Unknown
	}
	b := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			c = '_'
		}
		b = append(b, c)
	}
	return string(b)
}

// maxDay is 9999-12-31: later starts cannot be a date partition.
const maxDay = 2932896

func (p *FlowPartitioner) day(d int64) string {
	if d < 0 || d > maxDay {
		return Unknown
	}
	if s, ok := p.days[d]; ok {
		return s
	}
	if p.days == nil {
		p.days = map[int64]string{}
	}
	s := time.Unix(d*86400, 0).UTC().Format("2006-01-02")
	p.days[d] = s
	return s
}

// region returns the partition value of a region; v may be a view into a
// reused buffer, so the cache keeps a copy.
func (p *FlowPartitioner) region(v string) string {
	if s, ok := p.regions[v]; ok {
		return s
	}
	if p.regions == nil {
		p.regions = map[string]string{}
	}
	s := SanitizePartitionValue(v)
	p.regions[strings.Clone(v)] = s
	return s
}

// Group is the rows of a record batch that share a partition.
type Group struct {
	Values []string // region, date
	Rows   []int32  // nil: every row
}

// Split groups the rows of rec by partition. Records of one flow-log file
// nearly always share one partition: then a single group with Rows nil is
// returned without building row lists.
func (p *FlowPartitioner) Split(rec arrow.RecordBatch) []Group {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	regionCol := stringColumn(rec, "region")
	names := p.TimeColumns
	if names == nil {
		names = []string{"start", "end"}
	}
	var times []*array.Int64
	for _, name := range names {
		if c := int64Column(rec, name); c != nil {
			times = append(times, c)
		}
	}
	defRegion := SanitizePartitionValue(p.DefaultRegion)
	defDate := p.DefaultDate
	if defDate == "" {
		defDate = Unknown
	}
	// keyOf returns a row's region and day number (noDay when no time
	// column dates it): runs of rows are told apart by comparing numbers,
	// the day's text made once per group.
	const noDay = math.MinInt64
	keyOf := func(i int) (string, int64) {
		region := defRegion
		if regionCol != nil && regionCol.IsValid(i) {
			region = p.region(regionCol.Value(i))
		}
		for _, c := range times {
			if c.IsValid(i) {
				return region, floorDiv(c.Value(i), 86400)
			}
		}
		return region, noDay
	}
	date := func(d int64) string {
		if d == noDay {
			return defDate
		}
		return p.day(d)
	}
	r0, d0 := keyOf(0)
	i := 1
	for ; i < n; i++ {
		if r, d := keyOf(i); d != d0 || r != r0 {
			break
		}
	}
	if i == n {
		return []Group{{Values: []string{r0, date(d0)}}}
	}
	index := map[[2]string]int{}
	var groups []Group
	g, lastR, lastD := -1, "", int64(0)
	for i := 0; i < n; i++ {
		// Rows of one partition come in runs: the map is looked up at a
		// run's first row only. Days out of range share the partition
		// "unknown": the map, keyed by text, joins them.
		if r, d := keyOf(i); g < 0 || d != lastD || r != lastR {
			k := [2]string{r, date(d)}
			var ok bool
			if g, ok = index[k]; !ok {
				g = len(groups)
				index[k] = g
				groups = append(groups, Group{Values: k[:]})
			}
			lastR, lastD = r, d
		}
		groups[g].Rows = append(groups[g].Rows, int32(i))
	}
	return groups
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func stringColumn(rec arrow.RecordBatch, name string) *array.String {
	if idx := rec.Schema().FieldIndices(name); len(idx) > 0 {
		a, _ := rec.Column(idx[0]).(*array.String)
		return a
	}
	return nil
}

func int64Column(rec arrow.RecordBatch, name string) *array.Int64 {
	if idx := rec.Schema().FieldIndices(name); len(idx) > 0 {
		a, _ := rec.Column(idx[0]).(*array.Int64)
		return a
	}
	return nil
}
