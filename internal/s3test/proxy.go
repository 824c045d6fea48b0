package s3test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Fault is what the proxy does to one request.
type Fault int

// The faults.
const (
	Pass          Fault = iota // forward the request and its response untouched
	SlowDown                   // answer 503 SlowDown, S3's throttling error
	InternalError              // answer 500 InternalError
	Reset                      // reset the connection before any response
	ResetBody                  // forward, reset the connection after Action.After bytes of the body
	Truncate                   // forward, close the connection after Action.After bytes of the body
)

// String names the fault.
func (f Fault) String() string {
	return [...]string{"pass", "503 SlowDown", "500 InternalError", "reset", "reset in body", "truncated body"}[f]
}

// Action is a fault and, for faults in the body, the number of body bytes
// sent before it. A body no longer than After passes whole.
type Action struct {
	Fault Fault
	After int64
}

// Request is a request the proxy saw, path-style, and what it did.
type Request struct {
	N       int    // its number, from 0, in arrival order
	Method  string // GET, PUT, …
	Bucket  string
	Key     string // "" for bucket operations
	Query   url.Values
	Range   string // the Range header
	IfMatch string // the If-Match header
	Action  Action // what the schedule decided
}

// IsGetObject reports whether r reads an object.
func (r *Request) IsGetObject() bool {
	return r.Method == http.MethodGet && r.Key != "" && !r.Query.Has("uploadId") && !r.Query.Has("tagging") && !r.Query.Has("acl")
}

// IsList reports whether r is a ListObjectsV2.
func (r *Request) IsList() bool {
	return r.Method == http.MethodGet && r.Key == "" && r.Query.Get("list-type") == "2"
}

// Schedule decides the fault of each request; it is called in arrival
// order, one request at a time.
type Schedule func(r *Request) Action

// Script returns the schedule that gives the requests matching match the
// actions in turn, then lets every request pass.
func Script(match func(*Request) bool, actions ...Action) Schedule {
	i := 0
	return func(r *Request) Action {
		if i >= len(actions) || !match(r) {
			return Action{}
		}
		i++
		return actions[i-1]
	}
}

// Proxy is an HTTP reverse proxy in front of an S3 endpoint that injects
// faults by a schedule and records every request.
type Proxy struct {
	URL      string // the endpoint to give clients
	target   *url.URL
	client   *http.Transport
	mu       sync.Mutex
	schedule Schedule
	requests []Request
}

// NewProxy starts a proxy to target (an http:// endpoint), closed when the
// test ends. A nil schedule lets everything pass.
func NewProxy(tb testing.TB, target string, schedule Schedule) *Proxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{target: u, schedule: schedule, client: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
	srv := httptest.NewServer(p)
	p.URL = srv.URL
	tb.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		p.client.CloseIdleConnections()
	})
	return p
}

// SetSchedule replaces the schedule for the requests to come.
func (p *Proxy) SetSchedule(s Schedule) {
	p.mu.Lock()
	p.schedule = s
	p.mu.Unlock()
}

// Requests returns the requests seen so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

func (p *Proxy) decide(r *http.Request) Action {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	p.mu.Lock()
	defer p.mu.Unlock()
	req := Request{N: len(p.requests), Method: r.Method, Bucket: bucket, Key: key, Query: r.URL.Query(),
		Range: r.Header.Get("Range"), IfMatch: r.Header.Get("If-Match")}
	if p.schedule != nil {
		req.Action = p.schedule(&req)
	}
	p.requests = append(p.requests, req)
	return req.Action
}

var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// ServeHTTP records the request, asks the schedule for its fault and
// applies it, forwarding the request when the fault allows.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	act := p.decide(r)
	switch act.Fault {
	case SlowDown:
		writeError(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case InternalError:
		writeError(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case Reset:
		resetConn(w, true, false)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	out.Host = r.Host // the client signed this host
	if r.ContentLength == 0 {
		out.Body = nil
	}
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	resp, err := p.client.RoundTrip(out)
	if err != nil {
		writeError(w, http.StatusBadGateway, "InternalError", "proxy: "+err.Error())
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, h := range hopHeaders {
		w.Header().Del(h)
	}
	w.WriteHeader(resp.StatusCode)
	if act.Fault != ResetBody && act.Fault != Truncate {
		io.Copy(w, resp.Body)
		return
	}
	n, _ := io.CopyN(w, resp.Body, act.After)
	if n < act.After {
		return // the body was no longer than After: it passed whole
	}
	if extra, _ := resp.Body.Read(make([]byte, 1)); extra == 0 {
		return
	}
	resetConn(w, act.Fault == ResetBody, true)
}

// resetConn closes the client's connection, with a TCP reset when hard,
// else with a normal close; flush first sends what was written.
func resetConn(w http.ResponseWriter, hard, flush bool) {
	rc := http.NewResponseController(w)
	if flush {
		rc.Flush()
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && hard {
		tc.SetLinger(0)
	}
	conn.Close()
}

// writeError answers with an S3 error document.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><RequestId>FLOWLENSPROXY</RequestId><HostId>flowlens-s3test</HostId></Error>`, code, xmlEscape(msg))
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
