package detect

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FindingsSchema is the findings table: one row per finding. Lists are
// comma-separated, evidence is JSON, times are Unix seconds as in the flows.
var FindingsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "kind", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "severity", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "mitre_technique", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "source", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "region", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "targets", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ports", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "interfaces", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "first_seen", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "last_seen", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "windows", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "records", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "packets", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "explanation", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "evidence", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Record returns the findings as a batch of FindingsSchema.
func Record(fs []Finding, mem memory.Allocator) arrow.RecordBatch {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(mem, FindingsSchema)
	defer b.Release()
	str := func(col int, s string) {
		if s == "" {
			b.Field(col).AppendNull()
			return
		}
		b.Field(col).(*array.StringBuilder).Append(s)
	}
	i64 := func(col int, v int64) { b.Field(col).(*array.Int64Builder).Append(v) }
	for _, f := range fs {
		ports := make([]string, len(f.Ports))
		for i, p := range f.Ports {
			ports[i] = strconv.Itoa(int(p))
		}
		evidence, _ := json.Marshal(f.Evidence)
		str(0, f.ID)
		str(1, f.Kind)
		str(2, f.Severity.String())
		str(3, f.Technique)
		str(4, f.Source)
		str(5, f.Region)
		str(6, strings.Join(f.Targets, ","))
		str(7, strings.Join(ports, ","))
		str(8, strings.Join(f.Interfaces, ","))
		i64(9, f.FirstSeen.Unix())
		i64(10, f.LastSeen.Unix())
		i64(11, int64(f.Windows))
		i64(12, f.Records)
		i64(13, f.Packets)
		i64(14, f.Bytes)
		b.Field(15).(*array.Float64Builder).Append(f.Score)
		str(16, f.Explanation)
		str(17, string(evidence))
	}
	return b.NewRecordBatch()
}

// JSONLines returns the findings as JSON, one per line.
func JSONLines(fs []Finding) []byte {
	var sb strings.Builder
	for i := range fs {
		line, _ := json.Marshal(&fs[i]) // a Finding always encodes
		sb.Write(line)
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}
