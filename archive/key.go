package archive

import (
	"regexp"
	"strings"
	"time"
)

// KeyInfo is what the path or S3 key of a flow-log object says about it.
type KeyInfo struct {
	Account string    // the AWS account id, or ""
	Region  string    // the AWS region, or ""
	Time    time.Time // the file's 5-minute window (from the name), else its day, else zero
}

var (
	// AWSLogs/[o-org/]{account}/vpcflowlogs/{region}/YYYY/MM/DD/[HH/]
	plainLayout = regexp.MustCompile(`(?:^|/)AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/vpcflowlogs/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})(?:/|$)`)
	// aws-account-id={a}/aws-service=vpcflowlogs/aws-region={r}/year=/month=/day=
	hiveLayout = regexp.MustCompile(`aws-account-id=(\d{12})/(?:aws-)?service=vpcflowlogs/aws-region=([a-z0-9-]+)/year=(\d{4})/month=(\d{2})/day=(\d{2})(?:/|$)`)
	// {account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz
	fileName = regexp.MustCompile(`(\d{12})_vpcflowlogs_([a-z0-9-]+)_fl-[0-9a-f]+_(\d{8}T\d{4}Z)_`)
)

// ParseKey extracts the account, region and time of a flow-log object from
// its path or key, in any of the AWS layouts (plain or Hive-compatible
// prefixes, daily or hourly, with an optional organization id). Fields it
// cannot find are left empty.
func ParseKey(key string) KeyInfo {
	var k KeyInfo
	key = strings.ReplaceAll(key, "\\", "/")
	if m := fileName.FindStringSubmatch(key); m != nil {
		k.Account, k.Region = m[1], m[2]
		if t, err := time.Parse("20060102T1504Z", m[3]); err == nil {
			k.Time = t
		}
	}
	for _, re := range []*regexp.Regexp{plainLayout, hiveLayout} {
		m := re.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		if k.Account == "" {
			k.Account = m[1]
		}
		if k.Region == "" {
			k.Region = m[2]
		}
		if k.Time.IsZero() {
			if t, err := time.Parse("2006/01/02", m[3]+"/"+m[4]+"/"+m[5]); err == nil {
				k.Time = t
			}
		}
		break
	}
	return k
}
