package archive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/flowlens/flowlens/parser"
)

// Options tune a Run. Zero values take the defaults.
type Options struct {
	Jobs int // inputs read at once: downloads in flight for S3 (default GOMAXPROCS)
	// CPU is how many blocks are parsed at once, whatever the number of
	// inputs open (default GOMAXPROCS): many S3 objects may be downloading
	// while parsing stays within the cores.
	CPU             int
	BlockBytes      int            // size of the blocks text is cut into (default DefaultBlockBytes, or twice MaxLineBytes if more)
	BatchBytes      int            // text a batch takes before it goes to the sink (default DefaultBatchBytes)
	BatchesPerInput int            // batches an input may have in flight at the sink (default 4)
	Format          *parser.Format // the explicit format for headerless inputs, or nil
	MaxLineBytes    int            // longer lines are invalid (default parser.DefaultMaxLineBytes)
	MaxSamples      int            // rejected-line samples kept per input (default 20)
	// Starts, when set, keeps only records whose start is within it: runs
	// over back-to-back time ranges then hold each record once, though
	// each reads the files just past its end for delivery lag.
	Starts parser.TimeRange
	// Allocator, if set, provides the batches' column buffers; they are given
	// back to it as soon as the run is over and each batch is released. By
	// default batches come from Go's heap and are reused across runs.
	Allocator memory.Allocator
	// OnDone, if set, is called once per input when it is finished, from the
	// goroutine that read it.
	OnDone func(*Result)
	// OnBatch, if set, is called with the record count of every batch as it
	// goes to the sink, from the goroutine that read it: live progress.
	OnBatch func(records int)
}

func (o Options) withDefaults() Options {
	if o.Jobs <= 0 {
		o.Jobs = runtime.GOMAXPROCS(0)
	}
	if o.CPU <= 0 {
		o.CPU = runtime.GOMAXPROCS(0)
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = parser.DefaultMaxLineBytes
	}
	if o.BlockBytes <= 0 { // with room for the longest valid line
		o.BlockBytes = max(DefaultBlockBytes, 2*o.MaxLineBytes)
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.BatchesPerInput <= 0 {
		o.BatchesPerInput = 4
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = 20
	}
	return o
}

// Result is what became of one input.
type Result struct {
	Source      string
	Input       int // the index of the source in Run's list
	Kind        parser.InputKind
	Format      *parser.Format // the first format read
	Switches    int64          // headers naming other fields, each switching the format
	Compressed  bool
	StoredBytes int64 // bytes read from storage
	TextBytes   int64 // bytes of decompressed text
	Stats       parser.Stats
	Warnings    []string
	Err         error // why the input could not be read to its end, or nil
}

// Sink receives the batches of input number input (its index in the sources).
// It is called from several goroutines at once, and in order for any one
// input. It owns b and must call b.Release once done with it; an input waits
// while BatchesPerInput of its batches are unreleased. An error from the sink
// stops the whole run.
type Sink func(input int, b *parser.Batch) error

// Run reads every source with up to opts.Jobs at once and hands the parsed
// batches to sink. An input that cannot be read (missing, corrupt, truncated)
// gets an error in its Result while the others complete. Run itself fails
// only when the sink fails or ctx is cancelled. Results are in source order.
func Run(ctx context.Context, srcs []Source, opts Options, sink Sink) ([]Result, error) {
	opts = opts.withDefaults()
	batches := sharedBatches
	if opts.Allocator != nil {
		batches = newBatchPool(opts.Allocator)
		defer batches.close()
	}
	r := &runner{opts: opts, sink: sink, bufs: sharedBufferPool(opts.BlockBytes), batches: batches,
		cpu: semaphore.NewWeighted(int64(opts.CPU))}
	results := make([]Result, len(srcs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Jobs)
	for i := range srcs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			res := &results[i]
			res.Source, res.Input = srcs[i].Name, i
			err := r.read(gctx, i, &srcs[i], res)
			if opts.OnDone != nil {
				opts.OnDone(res)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return results, err
	}
	return results, ctx.Err()
}

type runner struct {
	opts    Options
	cpu     *semaphore.Weighted // the CPU limit on parsing
	sink    Sink
	bufs    *bufferPool
	batches *batchPool
}

// errSink marks errors of the sink, which stop the run.
type errSink struct{ err error }

func (e errSink) Error() string { return e.err.Error() }
func (e errSink) Unwrap() error { return e.err }

// otherCompressions are the compressed formats recognised to be refused
// by name, rather than read as lines that are not records.
var otherCompressions = []struct {
	name, tool string
	magic      []byte
}{
	{"a bzip2 file", "bunzip2", []byte("BZh")},
	{"a zstd file", "unzstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"an xz file", "unxz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{"a zip archive", "unzip", []byte("PK\x03\x04")},
}

// read processes one input. Errors of the input go into res.Err; the returned
// error is a sink failure or cancellation, which stops the run.
func (r *runner) read(ctx context.Context, idx int, src *Source, res *Result) error {
	err := r.readInput(ctx, idx, src, res)
	if err == nil && res.Stats.Records+res.Stats.OutOfRange == 0 && res.Stats.Invalid > 0 {
		// Not a flow log at all (a Parquet or bzip2 file, an output of
		// ours among the inputs): a failure, not a run of bad lines.
		err = fmt.Errorf("no line is a flow-log record (%d invalid lines)", res.Stats.Invalid)
		if res.Kind != parser.InputS3Text && res.Kind != parser.InputSubscription && r.opts.Format == nil {
			err = fmt.Errorf("%w; a file without a header line is read in the default format: give its fields with --format", err)
		}
	}
	var se errSink
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se.err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	res.Err = fmt.Errorf("%s: %w", src.Name, err)
	return nil
}

func (r *runner) readInput(ctx context.Context, idx int, src *Source, res *Result) error {
	rc, err := src.Open(ctx)
	if err != nil {
		return fmt.Errorf("cannot open: %w", err)
	}
	defer rc.Close()
	stored := &countingReader{r: rc}
	dec, err := newDecompressor(stored)
	if err != nil {
		return err
	}
	defer dec.Close()
	res.Compressed = dec.Compressed
	text := &countingReader{r: dec.Text}
	defer func() {
		res.StoredBytes = stored.n.Load()
		res.TextBytes = text.n.Load()
	}()
	peeker := getReader(&peekers, text, peekBytes)
	defer func() {
		peeker.Reset(nil) // drop the reference to this input's readers
		peekers.Put(peeker)
	}()
	// A source that failed within the first block (a small truncated file)
	// still gives the lines before its failure; the error follows them.
	peek := func() ([]byte, error) {
		head, err := peeker.Peek(peekBytes)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) && len(head) == 0 {
			return nil, fmt.Errorf("cannot read: %w", err)
		}
		return head, nil
	}
	head, err := peek()
	if err != nil {
		return err
	}
	if bytes.HasPrefix(head, []byte("PAR1")) {
		return errors.New("a Parquet file (flow logs delivered in Parquet): flowlens reads the text format, plain or gzip")
	}
	for _, c := range otherCompressions {
		if bytes.HasPrefix(head, c.magic) {
			return fmt.Errorf("%s: flowlens reads flow logs as text, plain or gzip; decompress it first (%s)", c.name, c.tool)
		}
	}
	// Blank lines before the first are skipped and counted, so that a
	// header after them is the file's header.
	firstLine := int64(1)
	var offset int64 // bytes of text before the first line for blocks
	for {
		nl := bytes.IndexByte(head, '\n')
		if nl < 0 || len(bytes.Trim(head[:nl], " \t\r")) > 0 {
			break
		}
		if _, err := peeker.Discard(nl + 1); err != nil {
			return fmt.Errorf("cannot read: %w", err)
		}
		res.Stats.Lines++
		res.Stats.Blank++
		firstLine++
		offset += int64(nl + 1)
		if head, err = peek(); err != nil {
			return err
		}
	}
	res.Kind = parser.Sniff(head)
	if res.Kind == parser.InputEmpty {
		return nil
	}
	if res.Kind == parser.InputSubscription {
		return r.readSubscription(ctx, idx, peeker, res)
	}
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = head[:i]
	}
	res.Format, err = parser.ResolveFormat(res.Kind, first, r.opts.Format)
	if err != nil {
		return fmt.Errorf("line %d: %w", firstLine, err)
	}
	if res.Kind == parser.InputS3Text {
		h, err := peeker.ReadSlice('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("cannot read header line: %w", err)
		}
		res.Stats.Lines++
		res.Stats.Headers++
		firstLine++
		offset += int64(len(h))
		if unk := res.Format.Unknown(); len(unk) > 0 {
			res.Warnings = append(res.Warnings, "unknown fields kept as strings: "+strings.Join(unk, ", "))
		}
	}
	p := r.parser(res.Kind == parser.InputCloudWatchExport)
	if p.Starts.Set() {
		// A file named later than the range's start by more than the lag
		// read past an end was read by no run before this one: its records
		// of earlier starts, delivered late, are this run's.
		if t := ParseKey(src.Name).Time; !t.IsZero() && t.Unix() >= p.Starts.From+int64(DefaultLagPad/time.Second) {
			p.Starts.From = math.MinInt64
		}
	}
	return r.pipe(ctx, idx, res, p, firstLine, func(ctx context.Context, out chan<- block) error {
		br := newBlockReader(peeker, r.bufs, offset)
		for {
			blk, err := br.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			select {
			case out <- blk:
			case <-ctx.Done():
				r.bufs.put(blk.buf)
				return ctx.Err()
			}
		}
	})
}

// blocksAhead returns how many blocks the decompressor of an input may
// have ready before the parser takes them. With one core the two take
// turns: two blocks, so that a block is parsed soon after it was
// decompressed, while it is in the cache (a deeper queue cost one-thread
// conversions 3 %). With more, they run at once, and two batches' worth of
// blocks keeps the parser from waiting on the decompressor's bursts (two
// blocks cost two-thread conversions 13 %).
func blocksAhead(o Options) int {
	if runtime.GOMAXPROCS(0) == 1 {
		return 2
	}
	return max(2, 2*o.BatchBytes/o.BlockBytes)
}

func (r *runner) parser(stripTimestamp bool) *parser.Parser {
	p := parser.NewParser()
	p.MaxLineBytes = r.opts.MaxLineBytes
	p.StripTimestamp = stripTimestamp
	p.Starts = r.opts.Starts
	return p
}

// pipe runs produce in its own goroutine, so that reading and decompressing
// the next block overlaps parsing the current one, and parses every block it
// sends into batches for the sink, numbering lines from firstLine.
func (r *runner) pipe(ctx context.Context, idx int, res *Result, p *parser.Parser, firstLine int64, produce func(context.Context, chan<- block) error) error {
	line := firstLine
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks := make(chan block, blocksAhead(r.opts))
	readErr := make(chan error, 1)
	go func() {
		defer close(blocks)
		readErr <- produce(ctx, blocks)
	}()
	inFlight := make(chan struct{}, r.opts.BatchesPerInput)
	var format *parser.Format       // the format of the lines being read
	var key string                  // its text, which keys the batch pool
	var release func(*parser.Batch) // made once the format is known
	var sinkErr error
	var lastSwitch int64 // the line of the last header naming other fields
	// A batch takes the lines of blocks until it holds BatchBytes of text,
	// the format changes or the input ends: blocks stay small, for the
	// parser to read while they are in the cache, batches large, for the
	// sink's work per batch.
	var cur *parser.Batch
	var curText int
	flush := func() error {
		b := cur
		if b == nil {
			return nil
		}
		cur, curText = nil, 0
		res.Stats.Add(&b.Stats, r.opts.MaxSamples)
		if r.opts.OnBatch != nil {
			r.opts.OnBatch(b.Len())
		}
		if err := r.sink(idx, b); err != nil {
			cancel()
			return errSink{err}
		}
		return nil
	}
	// flushWithin is flush outside parse, which holds a CPU slot: the
	// sink's work (Arrow arrays, Parquet, aggregation) counts against
	// Options.CPU wherever it is called from.
	flushWithin := func() error {
		if cur == nil {
			return nil
		}
		if err := r.cpu.Acquire(ctx, 1); err != nil {
			return err // cur is released below
		}
		defer r.cpu.Release(1)
		return flush()
	}
	// parse parses data into the batch being filled, which goes to the
	// sink when full; the lines after a header naming other fields are
	// returned, to be parsed with that format into a new batch.
	parse := func(data []byte) (rest []byte, err error) {
		if cur == nil {
			select {
			case inFlight <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if release == nil {
				format, key = res.Format, res.Format.String()
				release = r.batches.releaser(key, inFlight)
			}
			cur = r.batches.get(key, format, release)
		}
		if err := r.cpu.Acquire(ctx, 1); err != nil {
			return nil, err
		}
		b := cur
		var n int64
		n, rest = p.ParseBlock(b, data, line)
		line += n
		curText += len(data) - len(rest)
		next, at := b.NextFormat, b.OtherHeader
		if curText >= r.opts.BatchBytes || next != nil {
			err = flush()
		}
		r.cpu.Release(1)
		if err != nil {
			return nil, err
		}
		if next != nil {
			// Two objects of different field orders concatenated: the
			// lines after the header are read with its fields.
			format, key = next, next.String()
			release = r.batches.releaser(key, inFlight)
			if res.Switches++; res.Switches <= int64(r.opts.MaxSamples) {
				w := fmt.Sprintf("line %d: a header naming other fields (%s) than the header before; the lines after it are read with them", at, next)
				if unk := next.Unknown(); len(unk) > 0 {
					w += "; unknown fields kept as strings: " + strings.Join(unk, ", ")
				}
				res.Warnings = append(res.Warnings, w)
			}
			lastSwitch = at
		}
		return rest, nil
	}
	for blk := range blocks {
		if sinkErr != nil {
			r.bufs.put(blk.buf)
			continue
		}
		if blk.overlong {
			// The lines before it are counted first, as they come first.
			if sinkErr = flushWithin(); sinkErr != nil {
				continue
			}
			res.Stats.Lines++
			res.Stats.Reject(line, parser.ReasonLineTooLong, "", nil, r.opts.MaxSamples)
			line++
			continue
		}
		for data := blk.data; len(data) > 0 && sinkErr == nil; {
			data, sinkErr = parse(data)
		}
		r.bufs.put(blk.buf)
	}
	if sinkErr == nil {
		sinkErr = flushWithin()
	}
	if cur != nil { // a failure left it unsent
		cur.Release()
	}
	if more := res.Switches - int64(r.opts.MaxSamples); more > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d more headers naming other fields, the last at line %d", more, lastSwitch))
	}
	if sinkErr != nil {
		return sinkErr
	}
	if err := <-readErr; err != nil {
		// The lines before the failure were read: say where it stopped.
		return fmt.Errorf("line %d: %w", line, err)
	}
	return nil
}

// readSubscription decodes CloudWatch Logs subscription envelopes and parses
// each log event's message as one record; the event's ordinal in the file
// stands in for the line number.
func (r *runner) readSubscription(ctx context.Context, idx int, text io.Reader, res *Result) error {
	bs := r.opts.BlockBytes
	p := r.parser(false)
	return r.pipe(ctx, idx, res, p, 1, func(ctx context.Context, out chan<- block) error {
		var cur block
		send := func() error {
			if cur.buf == nil {
				return nil
			}
			select {
			case out <- cur:
				cur = block{}
				return nil
			case <-ctx.Done():
				r.bufs.put(cur.buf)
				cur = block{}
				return ctx.Err()
			}
		}
		err := parser.ReadSubscription(text, func(m *parser.SubscriptionMessage) error {
			for _, ev := range m.LogEvents {
				if res.Format == nil {
					res.Format = r.opts.Format
					if res.Format == nil {
						res.Format = parser.DetectFormat([]byte(ev.Message))
					}
				}
				if cur.buf != nil && len(cur.data)+len(ev.Message)+1 > bs {
					if err := send(); err != nil {
						return err
					}
				}
				if cur.buf == nil {
					cur = block{buf: r.bufs.get()}
					cur.data = (*cur.buf)[:0]
				}
				start := len(cur.data)
				cur.data = append(cur.data, ev.Message...)
				cur.data = append(cur.data, '\n')
				// A message is one record: an embedded newline must not split it.
				msg := cur.data[start : len(cur.data)-1]
				for i, c := range msg {
					if c == '\n' || c == '\r' {
						msg[i] = ' '
					}
				}
			}
			return nil
		})
		// The events decoded before an error are parsed all the same.
		if serr := send(); err == nil {
			err = serr
		}
		return err
	})
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// batchPool recycles batches per format, so steady-state parsing reuses the
// same column buffers.
type batchPool struct {
	mem    memory.Allocator
	mu     sync.Mutex
	free   map[string][]*parser.Batch
	closed bool // batches released after close are freed
}

func newBatchPool(mem memory.Allocator) *batchPool {
	return &batchPool{mem: mem, free: map[string][]*parser.Batch{}}
}

// sharedBatches serves every Run without an allocator of its own, so that
// batches are reused across runs too.
var sharedBatches = newBatchPool(memory.DefaultAllocator)

// close frees the pooled batches and every batch released from now on.
func (bp *batchPool) close() {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	bp.closed = true
	for _, list := range bp.free {
		for _, b := range list {
			b.Free()
		}
	}
	bp.free = nil
}

// releaser returns the release function of the batches of one input: it
// puts them back on the free list of their format (key) and frees one slot of
// the input's inFlight.
func (bp *batchPool) releaser(key string, inFlight chan struct{}) func(*parser.Batch) {
	return func(b *parser.Batch) {
		b.Reset()
		bp.mu.Lock()
		if bp.closed {
			b.Free()
		} else {
			bp.free[key] = append(bp.free[key], b)
		}
		bp.mu.Unlock()
		<-inFlight
	}
}

// get returns an empty batch of format f, whose text is key, that release
// takes back.
func (bp *batchPool) get(key string, f *parser.Format, release func(*parser.Batch)) *parser.Batch {
	bp.mu.Lock()
	var b *parser.Batch
	if list := bp.free[key]; len(list) > 0 {
		b = list[len(list)-1]
		bp.free[key] = list[:len(list)-1]
	}
	bp.mu.Unlock()
	if b == nil {
		b = parser.NewBatchWithAllocator(f, bp.mem)
	}
	b.Format = f
	b.SetRelease(release)
	return b
}
