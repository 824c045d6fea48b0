// Command flowlens analyses AWS VPC and Transit Gateway flow logs.
//
// Run "flowlens help" for the commands and "flowlens COMMAND --help" for
// their flags. Exit status: 0 when every input was read, 1 when some input
// failed (the others are still processed), 2 for usage errors.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// Exit codes scripts can rely on.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `flowlens reads AWS VPC and Transit Gateway flow logs (S3 text files with a
header, headerless records, CloudWatch Logs exports and subscription
payloads; gzip or plain) and reports what they hold.

Usage:
  flowlens analyze [flags] INPUT... [--out DIR]
                                      parse inputs, report counts, write Parquet for Athena
  flowlens ddl --location s3://B/P/   print the Athena CREATE TABLE for output stored there
  flowlens report DIR                 write DIR/report.html: an output as charts, for people
  flowlens gen --out DIR --size 1GB   write a synthetic archive in the S3 layout
  flowlens bench [--in INPUT,...]     measure throughput stage by stage
  flowlens version                    print the version
  flowlens help                       show this text

INPUT is a file, a directory (searched recursively) or a glob pattern.

Every flag can also be set in a config file (--config flowlens.yaml, a flat
YAML mapping such as "compression: zstd") or an environment variable
(FLOWLENS_COMPRESSION=zstd); flags win over the environment, which wins over
the file.

Exit status: 0 every input was read; 1 some input failed (the others are
still processed); 2 usage error.

Example:
  flowlens analyze testdata/ --out out/
  flowlens ddl --location s3://my-bucket/flowlens/ --from out/
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// fullVersion is version, or for a development build the module version
// or the git commit it was built from (go build stamps it), with "-dirty"
// when the tree had changes.
func fullVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if version != "dev" || !ok {
		return version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", ""
	for _, st := range bi.Settings {
		switch {
		case st.Key == "vcs.revision":
			rev = st.Value[:min(12, len(st.Value))]
		case st.Key == "vcs.modified" && st.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return version
	}
	return version + "+" + rev + dirty
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "analyze":
		return analyze(args[1:], stdout, stderr)
	case "ddl":
		return ddl(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdout, stderr)
	case "gen":
		return gen(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "flowlens", fullVersion())
		return exitOK
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && args[0] == "help" && args[1] != "help" && !strings.HasPrefix(args[1], "-") {
			return run([]string{args[1], "--help"}, stdout, stderr) // help analyze
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "flowlens: unknown command %q (want analyze, ddl, report, gen, bench, version or help)\n\n%s", args[0], usage)
		return exitUsage
	}
}

// newFlagSet returns the flag set of a command whose --help prints usage
// and then the flags; errors go to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	def := ""
	if name == "analyze" {
		def = " (default $" + configEnv + ")"
	}
	fs.String("config", "", "read settings from this file, a flat YAML mapping of flag names to values"+def+
		"; FLOWLENS_<FLAG> environment variables override it, flags override both")
	return fs
}

// helpRequested prints the command's usage to stdout, where a pager or a
// pipe reads it, when args ask for it (-h or --help before any "--"); a
// usage printed because of a bad flag goes to stderr.
func helpRequested(fs *flag.FlagSet, args []string, stdout io.Writer) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--h", "--help":
			out := fs.Output()
			fs.SetOutput(stdout)
			fs.Usage()
			fs.SetOutput(out)
			return true
		}
	}
	return false
}

// parseFlags parses args; when it returns false the command ends with code
// (0 after --help, 2 after a bad flag, which the flag package has reported).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, ok bool) {
	if helpRequested(fs, args, stdout) {
		return exitOK, false
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	case err != nil:
		return exitUsage, false
	}
	if _, err := applyConfig(fs, os.LookupEnv); err != nil {
		fmt.Fprintf(fs.Output(), "flowlens %s: %v\n", fs.Name(), err)
		return exitUsage, false
	}
	return 0, true
}
