package archive_test

import (
	"testing"
	"time"

	"github.com/flowlens/flowlens/archive"
)

func TestParseKey(t *testing.T) {
	f := func(key, account, region, tm string) {
		t.Helper()
		k := archive.ParseKey(key)
		got := ""
		if !k.Time.IsZero() {
			got = k.Time.Format(time.RFC3339)
		}
		if k.Account != account || k.Region != region || got != tm {
			t.Fatalf("ParseKey(%s) = %+v", key, k)
		}
	}
	f("bucket/prefix/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
		"123456789012", "us-east-1", "2018-06-20T16:20:00Z")
	f("AWSLogs/o-abc123/210987654321/vpcflowlogs/eu-west-1/2026/11/01/05/x.log.gz", "210987654321", "eu-west-1", "2026-11-01T00:00:00Z")
	f("p/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=ap-south-1/year=2026/month=02/day=28/hour=05/y.log.gz",
		"123456789012", "ap-south-1", "2026-02-28T00:00:00Z")
	f("AWSLogs/aws-account-id=123456789012/service=vpcflowlogs/aws-region=us-west-2/year=2026/month=01/day=15/z.gz", "123456789012", "us-west-2", "2026-01-15T00:00:00Z")
	f("testdata/firehose/tgw-flowlogs-2026-11-01-00-40.log", "", "", "")
	f("/tmp/000000.gz", "", "", "")
}
