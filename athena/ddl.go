package athena

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowlens/flowlens/athena/pqfile"
)

// DDLColumn is a column of a CREATE TABLE statement.
type DDLColumn struct {
	Name string `json:"name"`
	Type string `json:"type"` // int, bigint or string
}

// TableDDL is what a CREATE TABLE statement needs to know of a table.
type TableDDL struct {
	Name    string
	Dir     string // relative to the location, with '/'
	Columns []DDLColumn
	// Regions written, added to the known AWS regions of the projection.
	Regions []string
	// FirstDate is the first date partition (YYYY-MM-DD) of the projection
	// range, which runs to NOW.
	FirstDate string
}

// DDLColumns turns file columns into DDL columns, the types exactly those
// written (INT32 int, INT64 bigint, BYTE_ARRAY string), dropping skip (the
// partition keys, which the directories hold).
func DDLColumns(cols []pqfile.Column, skip ...string) []DDLColumn {
	var out []DDLColumn
	for _, c := range cols {
		if contains(skip, c.Name) {
			continue
		}
		out = append(out, DDLColumn{Name: c.Name, Type: c.Type.String()})
	}
	return out
}

// SchemaDDLColumns returns the DDL columns of the Parquet columns an Arrow
// schema is written as, less skip.
func SchemaDDLColumns(schema *arrow.Schema, skip ...string) ([]DDLColumn, error) {
	var cols []pqfile.Column
	for _, fld := range schema.Fields() {
		typ, err := ColumnType(fld.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", fld.Name, err)
		}
		cols = append(cols, pqfile.Column{Name: fld.Name, Type: typ})
	}
	return DDLColumns(cols, skip...), nil
}

// ManifestDDL returns the tables of a committed output as its manifest
// describes them: columns, regions and first date. athena.sql is made from
// it, so that `flowlens ddl --from` prints the same tables. A table the
// manifest gives no columns for (one written before manifests listed them)
// is declared with every flow-log field if it is the flows table, and left
// out otherwise.
func ManifestDDL(m *Manifest) []TableDDL {
	var out []TableDDL
	for _, tm := range m.Tables {
		cols := m.Columns[tm.Name]
		if len(cols) == 0 {
			if tm.Name != FlowsTable {
				continue
			}
			cols = FlowsDDLColumns(nil)
		}
		regions, first := PartitionsOf(tm)
		out = append(out, TableDDL{Name: tm.Name, Dir: tm.Dir, Columns: cols, Regions: regions, FirstDate: first})
	}
	return out
}

// CheckLocation checks that an S3 location can be the LOCATION of a table:
// s3://bucket/prefix with a bucket name and no character that would end or
// escape the SQL string it is written in.
func CheckLocation(loc string) error {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return fmt.Errorf("%q is not an s3:// URI", loc)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	if len(bucket) < 3 || strings.ContainsFunc(bucket, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	}) {
		return fmt.Errorf("%q does not start with a bucket name (s3://bucket/prefix/)", loc)
	}
	if strings.ContainsFunc(loc, func(r rune) bool { return r == '\'' || r == '\\' || r < ' ' || r == 0x7f }) {
		return fmt.Errorf("%q holds a quote, backslash or control character, which an Athena LOCATION cannot hold", loc)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// awsRegions are the regions every projection enumerates, so that a table's
// DDL stays valid as data from more regions arrives.
var awsRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1",
	"eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "eusc-de-east-1", "il-central-1", "me-central-1", "me-south-1",
	"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
}

// DefaultFirstDate starts date projections when no data says otherwise: VPC
// Flow Logs exist since 2015.
const DefaultFirstDate = "2015-01-01"

// LocationPlaceholder stands for the S3 location when none is given.
const LocationPlaceholder = "s3://YOUR-BUCKET/YOUR-PREFIX/"

// DDL returns CREATE EXTERNAL TABLE statements for tables stored under
// location (an s3:// URI ending in '/'), each partitioned by region and date
// with partition projection matching the layout region=R/date=YYYY-MM-DD.
// The reserved words end and date are quoted.
func DDL(location string, tables []TableDDL) string {
	if !strings.HasSuffix(location, "/") {
		location += "/"
	}
	var sb strings.Builder
	sb.WriteString("-- Athena tables for flowlens output. Generated; types match the Parquet files exactly.\n")
	if location == LocationPlaceholder {
		sb.WriteString("-- Replace " + LocationPlaceholder + " with the S3 location you upload the output directory to,\n")
		sb.WriteString("-- or print these statements for it with: flowlens ddl --location s3://bucket/prefix/\n")
	}
	sb.WriteString("-- IF NOT EXISTS leaves a table of the same name as it is: for another output, name its tables\n")
	sb.WriteString("-- apart (flowlens ddl --table-prefix); for new columns or regions, DROP TABLE first (the data stays).\n")
	for _, t := range tables {
		regions := append([]string(nil), awsRegions...)
		for _, r := range append(t.Regions, "unknown") {
			if !contains(regions, r) {
				regions = append(regions, r)
			}
		}
		sort.Strings(regions)
		first := t.FirstDate
		if first == "" {
			first = DefaultFirstDate
		}
		tableLoc := location + strings.TrimSuffix(t.Dir, "/") + "/"
		fmt.Fprintf(&sb, "\nCREATE EXTERNAL TABLE IF NOT EXISTS `%s` (\n", t.Name)
		for i, c := range t.Columns {
			sep := ","
			if i == len(t.Columns)-1 {
				sep = ""
			}
			fmt.Fprintf(&sb, "  `%s` %s%s\n", c.Name, c.Type, sep)
		}
		sb.WriteString(")\nPARTITIONED BY (`region` string, `date` string)\nSTORED AS PARQUET\n")
		fmt.Fprintf(&sb, "LOCATION '%s'\nTBLPROPERTIES (\n", tableLoc)
		props := [][2]string{
			{"projection.enabled", "true"},
			{"projection.region.type", "enum"},
			{"projection.region.values", strings.Join(regions, ",")},
			{"projection.date.type", "date"},
			{"projection.date.format", "yyyy-MM-dd"},
			{"projection.date.range", first + ",NOW"},
			{"projection.date.interval", "1"},
			{"projection.date.interval.unit", "DAYS"},
			{"storage.location.template", tableLoc + "region=${region}/date=${date}/"},
		}
		for i, p := range props {
			sep := ","
			if i == len(props)-1 {
				sep = ""
			}
			fmt.Fprintf(&sb, "  '%s'='%s'%s\n", p[0], p[1], sep)
		}
		sb.WriteString(");\n")
	}
	return sb.String()
}

// PartitionsOf lists the regions and the first date a table's files hold,
// from their region=/date= directories.
func PartitionsOf(tm TableManifest) (regions []string, first string) {
	seen := map[string]bool{}
	for _, f := range tm.Files {
		if v := PartitionValue(f.Path, "region"); v != "" && !seen[v] {
			seen[v] = true
			regions = append(regions, v)
		}
		if v := PartitionValue(f.Path, "date"); v != "" && v != Unknown && (first == "" || v < first) {
			first = v
		}
	}
	sort.Strings(regions)
	return regions, first
}

// PartitionValue returns the value of the key=value directory of path (a
// manifest path, with '/'), or "".
func PartitionValue(path, key string) string {
	for _, seg := range strings.Split(path, "/") {
		if v, ok := strings.CutPrefix(seg, key+"="); ok {
			return v
		}
	}
	return ""
}
