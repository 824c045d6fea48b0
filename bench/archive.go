package bench

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/flowlens/flowlens/parser"
)

// FlowLog is one synthetic flow log of an archive: its id and format.
type FlowLog struct {
	ID     string // fl-...
	Format string // an AWS LogFormat
	Share  int    // relative share of the archive's records
}

// The v5 custom format of the AWS documentation and an everything-on v11
// format: with the default and Transit Gateway formats they make the mix of
// a generated archive.
const (
	V5LogFormat  = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}"
	V11LogFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction} ${traffic-path} ${ecs-cluster-name} ${ecs-task-id} ${reject-reason} ${resource-id} ${encryption-status} ${instance-tag} ${interface-type} ${next-hop-interface-id}"
)

// DefaultFlowLogs is the format mix of generated archives: mostly the
// default format, then custom v5 and v11 formats and Transit Gateway logs.
var DefaultFlowLogs = []FlowLog{
	{ID: "fl-0a1b2c3d4e5f60718", Format: parser.DefaultLogFormat, Share: 6},
	{ID: "fl-05c5c5c5c5c5c5c5c", Format: V5LogFormat, Share: 2},
	{ID: "fl-0b11b11b11b11b11b", Format: V11LogFormat, Share: 1},
	{ID: "fl-0d7c7c7c7c7c7c7c7", Format: parser.TGWDefaultLogFormat, Share: 1},
}

// ArchiveConfig describes a synthetic archive. Zero values take defaults.
type ArchiveConfig struct {
	Dir         string    // where AWSLogs/ goes
	Records     int64     // records in all (or set TextBytes)
	TextBytes   int64     // stop once about this much text is written
	Seed        uint64    // the same seed gives the same files
	Start       time.Time // the first 5-minute window (default 2026-11-01T00:00Z)
	FileRecords int       // records per 5-minute file (default 20,000)
	Accounts    []string  // default two accounts
	Regions     []string  // default us-east-1 and eu-west-1
	FlowLogs    []FlowLog // default DefaultFlowLogs
	GzipLevel   int       // default gzip.DefaultCompression
	Workers     int       // files written at once (default GOMAXPROCS)
}

// ArchiveStats says what was generated.
type ArchiveStats struct {
	Files     int
	Records   int64
	TextBytes int64
	GzipBytes int64
	Elapsed   time.Duration
}

// file is one object to generate.
type file struct {
	account, region string
	log             FlowLog
	window          time.Time
	records         int
	seed            uint64
}

// GenerateArchive writes a synthetic flow-log archive in the S3 layout
// AWSLogs/{account}/vpcflowlogs/{region}/YYYY/MM/DD/{account}_vpcflowlogs_
// {region}_{fl-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz: one gzip object per flow
// log, account, region and 5-minute window, each with its header line. The
// files depend only on the configuration and seed, not on the worker count.
func GenerateArchive(ctx context.Context, cfg ArchiveConfig) (ArchiveStats, error) {
	began := time.Now()
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.FileRecords <= 0 {
		cfg.FileRecords = 20_000
	}
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = []string{"123456789012", "210987654321"}
	}
	if len(cfg.Regions) == 0 {
		cfg.Regions = []string{"us-east-1", "eu-west-1"}
	}
	if len(cfg.FlowLogs) == 0 {
		cfg.FlowLogs = DefaultFlowLogs
	}
	if cfg.GzipLevel == 0 {
		cfg.GzipLevel = gzip.DefaultCompression
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	records := cfg.Records
	if records <= 0 && cfg.TextBytes > 0 {
		records = cfg.TextBytes/averageLineBytes(cfg.FlowLogs) + 1
	}
	if records <= 0 {
		return ArchiveStats{}, fmt.Errorf("generate: give a number of records or a size")
	}
	files := plan(cfg, records)
	var st ArchiveStats
	var text, gz atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Workers)
	for _, f := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			t, z, err := writeFile(cfg, f)
			text.Add(t)
			gz.Add(z)
			return err
		})
	}
	err := g.Wait()
	st.Files, st.Records = len(files), records
	st.TextBytes, st.GzipBytes = text.Load(), gz.Load()
	st.Elapsed = time.Since(began)
	return st, err
}

// plan spreads records over files: windows advance every 5 minutes; in each
// window every (flow log, account, region) stream writes a file sized by the
// flow log's share.
func plan(cfg ArchiveConfig, records int64) []file {
	total := 0
	for _, l := range cfg.FlowLogs {
		total += l.Share
	}
	var files []file
	left := records
	for w := 0; left > 0; w++ {
		window := cfg.Start.Add(time.Duration(w) * 5 * time.Minute)
		for _, l := range cfg.FlowLogs {
			for _, acct := range cfg.Accounts {
				for _, region := range cfg.Regions {
					n := int64(cfg.FileRecords * l.Share / total / len(cfg.Accounts) / len(cfg.Regions))
					n = max(1, min(n, left))
					if left <= 0 {
						return files
					}
					left -= n
					files = append(files, file{account: acct, region: region, log: l, window: window, records: int(n),
						seed: cfg.Seed*0x9e3779b97f4a7c15 + uint64(len(files))})
				}
			}
		}
	}
	return files
}

// averageLineBytes estimates the text size of a record of the mix.
func averageLineBytes(logs []FlowLog) int64 {
	var bytes, n int64
	for _, l := range logs {
		f, err := parser.ParseLogFormat(l.Format)
		if err != nil {
			continue
		}
		g := NewGenerator(f, 1)
		for i := 0; i < 200*l.Share; i++ {
			bytes += int64(len(g.AppendRecord(nil)) + 1)
			n++
		}
	}
	return max(1, bytes/max(n, 1))
}

func writeFile(cfg ArchiveConfig, f file) (text, gz int64, err error) {
	format, err := parser.ParseLogFormat(f.log.Format)
	if err != nil {
		return 0, 0, fmt.Errorf("flow log %s: %w", f.log.ID, err)
	}
	gen := NewGenerator(format, f.seed)
	gen.Start, gen.Span = f.window.Unix()-60, 300
	gen.Account, gen.Region = f.account, f.region
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%s/%s/%d", f.account, f.region, f.log.ID, f.window.Unix())
	name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%08x.log.gz", f.account, f.region, f.log.ID, f.window.Format("20060102T1504Z"), h.Sum32())
	dir := filepath.Join(cfg.Dir, "AWSLogs", f.account, "vpcflowlogs", f.region, f.window.Format("2006/01/02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	path := filepath.Join(dir, name)
	out, err := os.Create(path + ".tmp")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(path + ".tmp")
	zw, err := gzip.NewWriterLevel(out, cfg.GzipLevel)
	if err != nil {
		out.Close()
		return 0, 0, err
	}
	bw := bufio.NewWriterSize(zw, 256<<10)
	header := format.Header() + "\n"
	bw.WriteString(header)
	text = int64(len(header))
	line := make([]byte, 0, 512)
	for i := 0; i < f.records; i++ {
		line = append(gen.AppendRecord(line[:0]), '\n')
		bw.Write(line)
		text += int64(len(line))
	}
	if err := bw.Flush(); err == nil {
		err = zw.Close()
	}
	st, serr := out.Stat()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && serr == nil {
		gz = st.Size()
	}
	if err != nil {
		return text, gz, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return text, gz, os.Rename(path+".tmp", path)
}
