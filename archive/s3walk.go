package archive

import (
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The folders of the AWS layouts, level by level below AWSLogs/.
var (
	orgSegment         = regexp.MustCompile(`^o-[a-z0-9]+$`)
	accountSegment     = regexp.MustCompile(`^\d{12}$`)
	hiveAccountSegment = regexp.MustCompile(`^aws-account-id=(\d{12})$`)
	hiveServiceSegment = regexp.MustCompile(`^(?:aws-)?service=vpcflowlogs$`)
	regionSegment      = regexp.MustCompile(`^[a-z]{2}[a-z0-9-]*-\d+$`)
	hiveRegionSegment  = regexp.MustCompile(`^aws-region=([a-z]{2}[a-z0-9-]*-\d+)$`)
	hourSegment        = regexp.MustCompile(`^(?:hour=)?(\d{2})$`)
)

// s3Level is a level of the AWS layout.
type s3Level int

const (
	atAccount s3Level = iota // below AWSLogs/ or AWSLogs/o-org/
	atService                // below the account
	atRegion                 // below vpcflowlogs
	atDate                   // below the region
)

// s3Walk is a folder of the AWS layout being walked.
type s3Walk struct {
	prefix  string
	level   s3Level
	hive    bool     // Hive-compatible folder names
	orgDone bool     // an organization folder was passed
	user    []string // folders of the query's prefix still to follow
	full    string   // the query's prefix
}

// walk goes down the layout from w: it follows the query's own folders,
// then lists each level to discover accounts and regions, then the dates.
func (l *s3Lister) walk(w s3Walk) error {
	switch {
	case len(w.user) > 0 && w.level == atDate:
		// The query names a folder below the region: list it whole.
		return l.listAll(w.full)
	case len(w.user) > 0:
		return l.descend(w, w.user[:1])
	case w.level == atDate:
		return l.dates(w.prefix, w.hive)
	case w.level == atService && !w.hive:
		// The plain layout's service folder is known: no listing needed.
		return l.descend(w, []string{"vpcflowlogs"})
	}
	segs, _, err := l.children(w.prefix)
	if err != nil {
		return err
	}
	return l.descend(w, segs)
}

// descend walks the subfolders segs of w that belong to the layout and
// that the query selects. A folder of the query's prefix outside the layout
// makes the prefix be listed whole.
func (l *s3Lister) descend(w s3Walk, segs []string) error {
	var rest []string
	if len(w.user) > 0 {
		rest = w.user[1:]
	}
	for _, seg := range segs {
		next, fits, wanted := l.step(w, seg)
		if !fits && len(w.user) > 0 {
			return l.listAll(w.full)
		}
		if !fits || !wanted {
			continue
		}
		next.prefix = w.prefix + seg + "/"
		next.user = rest
		next.full = w.full
		l.goWalk(func() error { return l.walk(next) })
	}
	return nil
}

// step returns the walk of subfolder seg of w, whether seg fits the layout
// at w's level, and whether the query wants what it holds.
func (l *s3Lister) step(w s3Walk, seg string) (next s3Walk, fits, wanted bool) {
	next = w
	switch w.level {
	case atAccount:
		if !w.orgDone && orgSegment.MatchString(seg) {
			next.orgDone = true
			return next, true, true
		}
		acct := seg
		if m := hiveAccountSegment.FindStringSubmatch(seg); m != nil {
			acct, next.hive = m[1], true
		} else if !accountSegment.MatchString(seg) {
			return next, false, false
		}
		next.level = atService
		return next, true, l.accounts == nil || l.accounts[acct]
	case atService:
		if w.hive && hiveServiceSegment.MatchString(seg) || !w.hive && seg == "vpcflowlogs" {
			next.level = atRegion
			return next, true, true
		}
	case atRegion:
		region := seg
		if w.hive {
			m := hiveRegionSegment.FindStringSubmatch(seg)
			if m == nil {
				return next, false, false
			}
			region = m[1]
		} else if !regionSegment.MatchString(seg) {
			return next, false, false
		}
		next.level = atDate
		return next, true, l.regions == nil || l.regions[region]
	}
	return next, false, false
}

// dates lists a region's folder: whole without a date range, else one
// listing per day of the range, each of which finds the day's files or
// its hour folders.
func (l *s3Lister) dates(prefix string, hive bool) error {
	if !l.dated {
		l.goLeaf(func() error { return l.listAll(prefix) })
		return nil
	}
	last := l.hi.Add(-time.Nanosecond).Truncate(24 * time.Hour)
	for day := l.lo.Truncate(24 * time.Hour); !day.After(last); day = day.AddDate(0, 0, 1) {
		dayPrefix := prefix + day.Format("2006/01/02/")
		if hive {
			dayPrefix = prefix + day.Format("year=2006/month=01/day=02/")
		}
		l.goLeaf(func() error { return l.day(dayPrefix, day) })
	}
	return nil
}

// day lists one day's folder with delimiter "/": its files are kept by
// their names' times, then the hour folders (hourly layouts) in the range
// are listed, in goroutines of their own while fewer than Concurrency
// listings run.
func (l *s3Lister) day(prefix string, day time.Time) error {
	var hours []string
	err := l.pages(prefix, true, func(out *s3.ListObjectsV2Output) {
		for _, o := range out.Contents {
			l.keep(aws.ToString(o.Key), aws.ToInt64(o.Size))
		}
		for _, cp := range out.CommonPrefixes {
			hourPrefix := aws.ToString(cp.Prefix)
			m := hourSegment.FindStringSubmatch(strings.TrimSuffix(strings.TrimPrefix(hourPrefix, prefix), "/"))
			if m == nil {
				continue
			}
			h := day.Add(time.Duration(atoi2(m[1])) * time.Hour)
			if h.Add(time.Hour).After(l.lo) && h.Before(l.hi) {
				hours = append(hours, hourPrefix)
			}
		}
	})
	if err != nil {
		return err
	}
	for _, h := range hours {
		l.tryLeaf(func() error { return l.listAll(h) })
	}
	return nil
}

// atoi2 converts two ASCII digits.
func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }
