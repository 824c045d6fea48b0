// Package s3test runs a real S3-compatible server for tests, versitygw with
// its posix backend, and a fault-injecting proxy to put in front of it.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// What the tests need and how to get it.
const (
	// InstallCommand installs the server the tests run.
	InstallCommand = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	// RequireEnv, set to 1, turns a missing server into a test failure
	// rather than a skip (CI sets it).
	RequireEnv = "FLOWLENS_REQUIRE_S3"
	// AccessKey, SecretKey and Region are the server's static credentials
	// and region.
	AccessKey = "AKFLOWLENSTEST"
	SecretKey = "SKFLOWLENSTEST"
	Region    = "us-east-1"
)

// Server is a running versitygw, stopped when the test that started it ends.
type Server struct {
	Endpoint string     // http://127.0.0.1:port
	Client   *s3.Client // path-style, static credentials, straight to the server
	Dir      string     // the posix backend's root: one directory per bucket
	cmd      *exec.Cmd
	exited   chan struct{}
	log      *syncBuffer
}

// Binary returns the path of the versitygw executable, found on PATH, in
// $GOBIN or in $(go env GOPATH)/bin.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
			dirs = append(dirs, strings.TrimSpace(lines[0]))
		}
		if len(lines) > 1 {
			for _, gp := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw is neither on PATH nor in $(go env GOPATH)/bin")
}

// Start runs versitygw on a free port of 127.0.0.1 over a temporary
// directory. Without the binary the test is skipped, or fails when
// FLOWLENS_REQUIRE_S3=1.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("%v (%s=1): install it with: %s", err, RequireEnv, InstallCommand)
		}
		tb.Skipf("%v: install it with: %s", err, InstallCommand)
	}
	dir := tb.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		tb.Fatal(err)
	}
	var lastErr error
	for range 3 { // a free port can be taken before versitygw binds it
		s, err := launch(bin, dir, data)
		if err == nil {
			tb.Cleanup(s.stop)
			return s
		}
		lastErr = err
	}
	tb.Fatalf("cannot start versitygw: %v", lastErr)
	return nil
}

func launch(bin, dir, data string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "http://" + addr, Dir: data, exited: make(chan struct{}), log: &syncBuffer{}}
	s.cmd = exec.Command(bin, "--quiet", "--keep-alive", "--access", AccessKey, "--secret", SecretKey,
		"--region", Region, "--port", addr, "posix", data)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.Env = cleanEnv()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(10 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; its output: %s", err, s.log.String())
	}
	s.Client = NewClient(s.Endpoint)
	return s, nil
}

// cleanEnv is the environment without the variables versitygw reads its
// settings from.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VGW_") && !strings.HasPrefix(kv, "ROOT_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls until the server answers HTTP (an anonymous request gets
// 403).
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("versitygw exited at start")
		default:
		}
		resp, err := c.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer on %s within %v", s.Endpoint, limit)
}

func (s *Server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Credentials returns the server's static credentials.
func Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")
}

// NewClient returns a path-style client with the server's credentials for
// endpoint: the server's own, or a proxy's in front of it.
func NewClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  Credentials(),
	})
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		tb.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// Put stores one object and returns its ETag.
func (s *Server) Put(tb testing.TB, bucket, key string, data []byte) string {
	tb.Helper()
	out, err := s.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		tb.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.ETag)
}

// PutMany stores objects (key → content) with several uploads at once.
func (s *Server) PutMany(tb testing.TB, bucket string, objects map[string][]byte) {
	tb.Helper()
	var g errgroup.Group
	g.SetLimit(16)
	for key, data := range objects {
		g.Go(func() error {
			_, err := s.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
			if err != nil {
				return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		tb.Fatal(err)
	}
}

// syncBuffer collects the server's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
