package parser

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// SubscriptionEvent is one log event of a CloudWatch Logs subscription
// payload; Message is one flow-log record.
type SubscriptionEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// SubscriptionMessage is the decoded JSON envelope that CloudWatch Logs
// delivers to Kinesis, Firehose or Lambda subscriptions.
type SubscriptionMessage struct {
	MessageType         string              `json:"messageType"`
	Owner               string              `json:"owner"`
	LogGroup            string              `json:"logGroup"`
	LogStream           string              `json:"logStream"`
	SubscriptionFilters []string            `json:"subscriptionFilters"`
	LogEvents           []SubscriptionEvent `json:"logEvents"`
}

// ReadSubscription decodes the concatenated JSON envelopes of r (already
// decompressed) and calls fn for each DATA_MESSAGE, in order; CONTROL_MESSAGE
// envelopes are skipped. It stops at the first decoding error or error of fn.
func ReadSubscription(r io.Reader, fn func(*SubscriptionMessage) error) error {
	dec := json.NewDecoder(r)
	for n := 1; ; n++ {
		var m SubscriptionMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("cannot decode subscription envelope %d: %w", n, err)
		}
		if m.MessageType == "CONTROL_MESSAGE" {
			continue
		}
		if m.MessageType != "DATA_MESSAGE" {
			return fmt.Errorf("subscription envelope %d has messageType %q, want DATA_MESSAGE or CONTROL_MESSAGE", n, m.MessageType)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
}
