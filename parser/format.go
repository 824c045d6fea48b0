package parser

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// FormatSource says where a Format came from.
type FormatSource uint8

// The ways a format is resolved, in the order they are tried.
const (
	FromHeader     FormatSource = iota // the header line of an S3 text file
	FromExplicit                       // a LogFormat string given by the user
	FromDefault                        // the default VPC format (version 2)
	FromTGWDefault                     // the Transit Gateway default format
)

// String names the source for logs and reports.
func (s FormatSource) String() string {
	switch s {
	case FromHeader:
		return "header"
	case FromExplicit:
		return "explicit"
	case FromTGWDefault:
		return "tgw-default"
	default:
		return "default"
	}
}

// Format is an ordered list of fields: the layout of every record of an input.
// Fields that are not in the registry have ID FieldUnknown, keep the name they
// were given and are carried as strings.
type Format struct {
	Fields []Field
	Source FormatSource
}

// ErrDuplicateField is returned when a format names the same field twice.
var ErrDuplicateField = errors.New("duplicate field")

// ErrEmptyFormat is returned for a format without fields.
var ErrEmptyFormat = errors.New("format has no fields")

// The AWS default formats (flowlog-spec.md §2.1 and §6.2).
const (
	DefaultLogFormat    = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
	TGWDefaultLogFormat = "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}"
)

// DefaultFormat returns the default VPC format (14 version-2 fields).
// The result is shared: do not modify it.
func DefaultFormat() *Format { return defaultFormat() }

var (
	defaultFormat    = sync.OnceValue(func() *Format { return mustLogFormat(DefaultLogFormat, FromDefault) })
	tgwDefaultFormat = sync.OnceValue(func() *Format { return mustLogFormat(TGWDefaultLogFormat, FromTGWDefault) })
)

// TGWDefaultFormat returns the Transit Gateway default format (36 fields).
// The result is shared: do not modify it.
func TGWDefaultFormat() *Format { return tgwDefaultFormat() }

func mustLogFormat(s string, src FormatSource) *Format {
	f, err := ParseLogFormat(s)
	if err != nil {
		panic("BUG: built-in format: " + err.Error())
	}
	f.Source = src
	return f
}

// ParseLogFormat parses an AWS LogFormat string such as
// "${version} ${srcaddr} ${dstaddr}". Terraform's escaped "$${name}" is accepted,
// as are underscore spellings. Names outside the registry are kept as
// pass-through string fields.
func ParseLogFormat(s string) (*Format, error) {
	var names []string
	for _, tok := range strings.Fields(s) {
		name, ok := strings.CutPrefix(tok, "$$")
		if !ok {
			name, ok = strings.CutPrefix(tok, "$")
		}
		if !ok || !strings.HasPrefix(name, "{") || !strings.HasSuffix(name, "}") || len(name) < 3 {
			return nil, fmt.Errorf("cannot parse log format: token %q is not of the form ${field-name}", tok)
		}
		names = append(names, name[1:len(name)-1])
	}
	f, err := newFormat(names, FromExplicit)
	if err != nil {
		return nil, fmt.Errorf("cannot parse log format: %w", err)
	}
	return f, nil
}

// ParseHeader parses the header line of an S3 text file: field names separated
// by spaces. A UTF-8 byte-order mark and a trailing CR are tolerated.
//
// Inputs with the same header share one Format (do not modify it): an
// archive of a million files of a few formats holds a few formats, not a
// million.
func ParseHeader(line []byte) (*Format, error) {
	line = trimLine(bytes.TrimPrefix(line, utf8BOM))
	headers.Lock()
	f, ok := headers.m[string(line)]
	headers.Unlock()
	if ok {
		return f, nil
	}
	names := strings.Fields(string(line))
	f, err := newFormat(names, FromHeader)
	if err != nil {
		return nil, fmt.Errorf("cannot parse header line: %w", err)
	}
	headers.Lock()
	if len(headers.m) < maxSharedHeaders {
		headers.m[string(line)] = f
	}
	headers.Unlock()
	return f, nil
}

// headers are the formats of the header lines seen, shared by the inputs
// that have them; at most maxSharedHeaders are kept.
var headers = struct {
	sync.Mutex
	m map[string]*Format
}{m: map[string]*Format{}}

const maxSharedHeaders = 1024

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// trimLine removes a trailing newline and carriage return.
func trimLine(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r"))
}

func newFormat(names []string, src FormatSource) (*Format, error) {
	if len(names) == 0 {
		return nil, ErrEmptyFormat
	}
	f := &Format{Fields: make([]Field, 0, len(names)), Source: src}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		canon := canonicalName(name)
		if !validFieldName(canon) {
			return nil, fmt.Errorf("field name %q has characters other than letters, digits, '-' and '_'", name)
		}
		if seen[canon] {
			return nil, fmt.Errorf("%w %q", ErrDuplicateField, name)
		}
		seen[canon] = true
		if field, ok := LookupField(canon); ok {
			f.Fields = append(f.Fields, field)
			continue
		}
		f.Fields = append(f.Fields, Field{
			ID:     FieldUnknown,
			Name:   canon,
			Column: strings.ReplaceAll(canon, "-", "_"),
			Kind:   KindString,
		})
	}
	return f, nil
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Unknown returns the names of the format's fields that are not in the registry.
func (f *Format) Unknown() []string {
	var out []string
	for _, fld := range f.Fields {
		if fld.ID == FieldUnknown {
			out = append(out, fld.Name)
		}
	}
	return out
}

// Index returns the position of field id in the format, or -1.
func (f *Format) Index(id FieldID) int {
	for i, fld := range f.Fields {
		if fld.ID == id && id != FieldUnknown {
			return i
		}
	}
	return -1
}

// String returns the format as an AWS LogFormat string.
func (f *Format) String() string {
	var sb strings.Builder
	for i, fld := range f.Fields {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("${")
		sb.WriteString(fld.Name)
		sb.WriteString("}")
	}
	return sb.String()
}

// Header returns the format as an S3 header line (without newline).
func (f *Format) Header() string {
	names := make([]string, len(f.Fields))
	for i, fld := range f.Fields {
		names[i] = fld.Name
	}
	return strings.Join(names, " ")
}

// Version returns the highest registry version among the format's fields, the
// value AWS writes in the version field.
func (f *Format) Version() int {
	v := 0
	for _, fld := range f.Fields {
		v = max(v, fld.Version)
	}
	return v
}
