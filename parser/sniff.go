package parser

import (
	"bytes"
	"fmt"
)

// InputKind is the layout of an input, detected from its first bytes.
type InputKind uint8

// The input kinds flowlens reads.
const (
	InputEmpty            InputKind = iota // no content at all
	InputS3Text                            // a header line, then records (S3 delivery)
	InputRecords                           // records without a header (Firehose, hand-made files)
	InputCloudWatchExport                  // "<ISO-8601 timestamp> <record>" lines (CreateExportTask)
	InputSubscription                      // CloudWatch Logs subscription JSON envelopes
)

// String names the kind for logs and reports.
func (k InputKind) String() string {
	switch k {
	case InputS3Text:
		return "s3-text"
	case InputRecords:
		return "records"
	case InputCloudWatchExport:
		return "cloudwatch-export"
	case InputSubscription:
		return "cloudwatch-subscription"
	default:
		return "empty"
	}
}

// Sniff detects the kind of an input from the start of its decompressed
// content (a few KiB are plenty; the first line is what matters).
func Sniff(prefix []byte) InputKind {
	prefix = bytes.TrimPrefix(prefix, utf8BOM)
	first := firstLine(prefix)
	trimmed := bytes.TrimLeft(prefix, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return InputEmpty
	case trimmed[0] == '{':
		return InputSubscription
	case exportTimestampLen(trimLine(first)) > 0:
		return InputCloudWatchExport
	case IsHeader(first):
		return InputS3Text
	default:
		return InputRecords
	}
}

// firstLine returns the bytes up to the first newline (or all of b).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// IsHeader reports whether line is a header of field names: every token looks
// like a field name and at least half of them are known fields. Record values
// such as "eni-0a1b" look like names but are not known fields.
func IsHeader(line []byte) bool {
	_, ok := headerTokens(line)
	return ok
}

// headerTokens returns how many tokens line has, and whether it is a header
// (IsHeader), without allocating: it runs on every rejected line.
func headerTokens(line []byte) (int, bool) {
	line = trimLine(bytes.TrimPrefix(line, utf8BOM))
	tokens, known := 0, 0
	for pos := 0; pos < len(line); {
		if line[pos] == ' ' || line[pos] == '\t' {
			pos++
			continue
		}
		end := pos
		for end < len(line) && line[end] != ' ' && line[end] != '\t' {
			end++
		}
		t := line[pos:end]
		if !isFieldName(t) {
			return 0, false
		}
		tokens++
		if knownField(t) {
			known++
		}
		pos = end
	}
	return tokens, tokens > 0 && 2*known >= tokens
}

// isFieldName reports whether t is spelled as a field name: a letter, then
// letters, digits, hyphens or underscores.
func isFieldName(t []byte) bool {
	for i, c := range t {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return len(t) > 0
}

// ResolveFormat decides the format of an input of kind k whose first line is
// first: the header line for S3 text; else the explicit format when given;
// else the Transit Gateway default when the record's second token starts with
// "TransitGateway", and the default VPC format otherwise.
func ResolveFormat(k InputKind, first []byte, explicit *Format) (*Format, error) {
	first = trimLine(bytes.TrimPrefix(first, utf8BOM))
	if k == InputS3Text {
		return ParseHeader(first)
	}
	if explicit != nil {
		return explicit, nil
	}
	if k == InputCloudWatchExport {
		n := exportTimestampLen(first)
		if n == 0 {
			return nil, fmt.Errorf("cannot resolve format: first line has no export timestamp")
		}
		first = first[n:]
	}
	return DetectFormat(first), nil
}

// DetectFormat picks the default format for a headerless record: the Transit
// Gateway default when its second token starts with "TransitGateway"
// (resource-type), the VPC default otherwise.
func DetectFormat(record []byte) *Format {
	toks := bytes.Fields(record)
	if len(toks) > 1 && bytes.HasPrefix(toks[1], []byte("TransitGateway")) {
		return TGWDefaultFormat()
	}
	return DefaultFormat()
}

// knownField reports whether t names a registered field, without
// allocating.
func knownField(t []byte) bool {
	for id := FieldID(1); id < numFields; id++ {
		if sameFieldName(t, registry[id].Name) {
			return true
		}
	}
	return false
}
