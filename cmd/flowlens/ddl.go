package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowlens/flowlens/athena"
)

const ddlUsage = `Usage: flowlens ddl --location s3://bucket/prefix/ [--from DIR]

Prints the Athena CREATE EXTERNAL TABLE statements for flowlens output
stored at the S3 location (the directory that holds flows/). The tables use
partition projection over region=R/date=YYYY-MM-DD, so they are queryable
at once, without MSCK REPAIR. With --from, the columns, regions and first
date come from that output directory's _manifest.json; without it, every
known flow-log field is declared (absent columns read as NULL).

Exit status: 0 printed; 1 the --from directory has no readable manifest; 2
usage error.

Example:
  flowlens ddl --location s3://my-bucket/flowlens/ --from out/

Flags:
`

func ddl(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ddl", ddlUsage, stderr)
	location := fs.String("location", "", "S3 location of the output, e.g. s3://bucket/prefix/ (required)")
	from := fs.String("from", "", "an output directory whose manifest gives the columns, regions and dates")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flowlens ddl: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if !strings.HasPrefix(*location, "s3://") {
		fmt.Fprintln(stderr, "flowlens ddl: --location must be an s3:// URI")
		fs.Usage()
		return exitUsage
	}
	table := athena.TableDDL{Name: athena.FlowsTable, Dir: athena.FlowsTable, Columns: athena.FlowsDDLColumns(nil)}
	if *from != "" {
		m, err := athena.ReadManifest(*from)
		if err != nil {
			fmt.Fprintf(stderr, "flowlens ddl: --from: %v\n", err)
			return exitFailed
		}
		if cols := m.Columns[athena.FlowsTable]; len(cols) > 0 {
			table.Columns = cols
		}
		for _, tm := range m.Tables {
			if tm.Name == athena.FlowsTable {
				table.Regions, table.FirstDate = athena.PartitionsOf(tm)
			}
		}
	}
	fmt.Fprint(stdout, athena.DDL(*location, []athena.TableDDL{table}))
	return exitOK
}
