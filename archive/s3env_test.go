package archive_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/internal/s3test"
)

// s3Client returns a client for endpoint made by archive.NewS3Client, as a
// command makes it, with short retry waits for tests.
func s3Client(t testing.TB, endpoint string) *s3.Client {
	t.Helper()
	c, err := archive.NewS3Client(context.Background(), archive.S3Config{
		Region:      s3test.Region,
		EndpointURL: endpoint,
		PathStyle:   true,
		Credentials: s3test.Credentials(),
		Concurrency: 4,
		MaxBackoff:  5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fastRead makes resumptions wait little.
var fastRead = archive.S3ReadOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// s3Layout is one of the key layouts AWS delivers flow logs in.
type s3Layout struct {
	name    string
	bucket  string
	prefix  string // before AWSLogs/
	org     string // organization folder, or ""
	hive    bool
	service string // Hive service folder
	hourly  bool
}

// key returns the key of a flow-log file of the layout.
func (l s3Layout) key(account, region, flowLog string, t time.Time) string {
	var b strings.Builder
	b.WriteString(l.prefix + "AWSLogs/")
	if l.org != "" {
		b.WriteString(l.org + "/")
	}
	if l.hive {
		fmt.Fprintf(&b, "aws-account-id=%s/%s/aws-region=%s/%s", account, l.service, region, t.Format("year=2006/month=01/day=02/"))
		if l.hourly {
			b.WriteString(t.Format("hour=15/"))
		}
	} else {
		fmt.Fprintf(&b, "%s/vpcflowlogs/%s/%s", account, region, t.Format("2006/01/02/"))
		if l.hourly {
			b.WriteString(t.Format("15/"))
		}
	}
	fmt.Fprintf(&b, "%s_vpcflowlogs_%s_%s_%s_%08x.log.gz", account, region, flowLog, t.Format("20060102T1504Z"), uint32(t.Unix()/60))
	return b.String()
}

func names(srcs []archive.Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}
