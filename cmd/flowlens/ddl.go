package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/pipeline"
)

const ddlUsage = `Usage: flowlens ddl --location s3://bucket/prefix/ [--from DIR]

Prints the Athena CREATE EXTERNAL TABLE statements for flowlens output
stored at the S3 location (the directory that holds flows/ and
aggregates/): the flows table, the aggregate tables (conversations,
talkers, ports, interfaces) and the findings table. They use partition
projection over region=R/date=YYYY-MM-DD, so they are queryable at once,
without MSCK REPAIR. With --from, the tables, columns, regions and first
dates come from that output directory's _manifest.json (or its shards'
manifests, merged), and the statements are those of its athena.sql; without it, every table a default run writes
is declared with every column it can have (absent ones read as NULL).

The statements are CREATE EXTERNAL TABLE IF NOT EXISTS: a table of the same
name is left as it is. For the output of another run beside it, give
--table-prefix; for new columns or regions of the same output, DROP TABLE
first (an external table's data stays where it is).

Exit status: 0 printed; 1 the --from directory has no readable manifest; 2
usage error.

Example:
  flowlens ddl --location s3://my-bucket/flowlens/ --from out/

Flags:
`

func ddl(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ddl", ddlUsage, stderr)
	location := fs.String("location", "", "S3 location of the output, e.g. s3://bucket/prefix/ (required)")
	from := fs.String("from", "", "an output directory whose manifest gives the tables, columns, regions and dates")
	prefix := fs.String("table-prefix", "", "put this before every table name (e.g. nov_), for the outputs of several runs side by side")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flowlens ddl: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *location == "" {
		fmt.Fprintln(stderr, "flowlens ddl: --location must be an s3:// URI")
		fs.Usage()
		return exitUsage
	}
	if err := athena.CheckLocation(*location); err != nil {
		fmt.Fprintf(stderr, "flowlens ddl: --location: %v\n", err)
		return exitUsage
	}
	if strings.Trim(*prefix, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		fmt.Fprintf(stderr, "flowlens ddl: --table-prefix %q: lower-case letters, digits and underscores only\n", *prefix)
		return exitUsage
	}
	var tables []athena.TableDDL
	if archive.IsS3URL(*from) {
		fmt.Fprintf(stderr, "flowlens ddl: --from %s: reads a local output directory; copy its manifests first (aws s3 sync %s DIR --exclude '*' --include '_manifest*.json')\n", *from, *from)
		return exitUsage
	}
	if *from != "" {
		m, _, err := athena.ReadOutputManifest(*from)
		if err != nil {
			fmt.Fprintf(stderr, "flowlens ddl: --from: %v\n", err)
			return exitFailed
		}
		tables = athena.ManifestDDL(m)
	} else {
		var err error
		if tables, err = pipeline.TablesDDL(); err != nil {
			fmt.Fprintf(stderr, "flowlens ddl: %v\n", err)
			return exitFailed
		}
	}
	for i := range tables {
		tables[i].Name = *prefix + tables[i].Name
	}
	fmt.Fprint(stdout, athena.DDL(*location, tables))
	return exitOK
}
