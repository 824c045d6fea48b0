package archive

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of *s3.Client that listing and reading use.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Defaults of S3Config.
const (
	DefaultS3Concurrency = 16               // downloads at once
	DefaultS3MaxAttempts = 10               // attempts per request, the first included
	DefaultS3MaxBackoff  = 20 * time.Second // longest wait between attempts
	defaultS3Region      = "us-east-1"
)

// S3Config configures NewS3Client. Zero values take the defaults;
// credentials come from the standard AWS chain (environment, shared config
// and credentials files, SSO, web identity, container and instance roles)
// unless Credentials is set.
type S3Config struct {
	Region      string // default: AWS_REGION or the profile's region, else us-east-1
	Profile     string // shared config profile, default AWS_PROFILE or "default"
	EndpointURL string // an S3-compatible store (http://host:port), default AWS
	PathStyle   bool   // address buckets as host/bucket rather than bucket.host
	// Concurrency is the number of downloads that run at once: the HTTP
	// transport keeps as many connections to the endpoint, idle or busy
	// (default DefaultS3Concurrency).
	Concurrency int
	// MaxAttempts bounds the attempts of each request (throttling, 5xx,
	// connection errors), the first included (default DefaultS3MaxAttempts).
	MaxAttempts int
	// MaxBackoff caps the jittered exponential wait between attempts
	// (default DefaultS3MaxBackoff).
	MaxBackoff time.Duration
	// Credentials, if set, replaces the default credential chain.
	Credentials aws.CredentialsProvider
}

// NewS3Client returns an S3 client for reading flow-log archives, with a
// connection pool sized for cfg.Concurrency downloads and a retryer that
// retries throttling (503 SlowDown), server errors and broken connections
// with jittered exponential backoff. Errors never include credentials.
func NewS3Client(ctx context.Context, cfg S3Config) (*s3.Client, error) {
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = DefaultS3Concurrency
	}
	attempts := cfg.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultS3MaxAttempts
	}
	backoff := cfg.MaxBackoff
	if backoff <= 0 {
		backoff = DefaultS3MaxBackoff
	}
	if cfg.EndpointURL != "" {
		u, err := url.Parse(cfg.EndpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("S3 endpoint URL must be http(s)://host[:port]")
		}
		if u.User != nil {
			return nil, fmt.Errorf("S3 endpoint URL %s must not hold credentials", u.Redacted())
		}
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = conc
		tr.MaxConnsPerHost = conc
		// A server that accepts a request and never answers must not hold
		// a run: the retryer takes over from the timeout.
		tr.ResponseHeaderTimeout = 2 * time.Minute
		if tr.MaxIdleConns < conc {
			tr.MaxIdleConns = conc
		}
	})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = backoff
				// Attempts are bounded per request; a shared retry budget
				// would fail unrelated downloads after a burst of throttling.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = defaultS3Region
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(cfg.EndpointURL)
		}
		o.UsePathStyle = cfg.PathStyle
		// Ranged GETs carry no checksum: say nothing of it on every resumption.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}
