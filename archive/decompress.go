package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/flowlens/flowlens/archive/internal/gunzip"
)

const (
	readBufferBytes = 256 << 10 // buffer of the stored stream
	peekBytes       = 64 << 10  // decompressed bytes looked at to detect the input kind
)

// Pools of bufio.Readers of the two sizes, reused through Reset.
var rawReaders, peekers sync.Pool

func getReader(pool *sync.Pool, r io.Reader, size int) *bufio.Reader {
	if br, ok := pool.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, size)
}

var gzipMagic = []byte{0x1f, 0x8b}

var gzipReaders sync.Pool // of *gunzip.Reader, reused through Reset

// decompressor turns a stored byte stream into text: gzip is detected by its
// magic bytes (not by the name) and every member of a multi-member file is
// read; anything else is passed through as plain text.
type decompressor struct {
	raw        *bufio.Reader // the stored stream
	gz         io.ReadCloser // its text, from Gunzip, when it is gzip
	Text       io.Reader
	Compressed bool
}

// newDecompressor reads r, streamed through a buffer.
func newDecompressor(r io.Reader) (*decompressor, error) {
	d := &decompressor{raw: getReader(&rawReaders, r, readBufferBytes)}
	magic, err := d.raw.Peek(2)
	if err != nil && err != io.EOF {
		d.Close()
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if !bytes.HasPrefix(magic, gzipMagic) {
		d.Text = d.raw
		return d, nil
	}
	d.Compressed = true
	if d.gz, err = Gunzip(d.raw); err != nil {
		d.Close()
		return nil, fmt.Errorf("cannot read gzip header: %w", err)
	}
	d.Text = d.gz
	return d, nil
}

// Close returns the readers to their pools.
func (d *decompressor) Close() {
	d.raw.Reset(nil)
	rawReaders.Put(d.raw)
	if d.gz != nil {
		d.gz.Close()
		d.gz = nil
	}
}

// Gunzip returns a reader of the text of a gzip stream (every member), with
// the decompressor Run uses, from the same pool; the benchmarks measure it
// alone. Close gives it back.
func Gunzip(r io.Reader) (io.ReadCloser, error) {
	z, _ := gzipReaders.Get().(*gunzip.Reader)
	if z == nil {
		z = &gunzip.Reader{}
	}
	if err := z.Reset(r); err != nil {
		gzipReaders.Put(z)
		return nil, err
	}
	return pooledGunzip{z}, nil
}

type pooledGunzip struct{ *gunzip.Reader }

func (p pooledGunzip) Close() error {
	p.Reader.Close()
	gzipReaders.Put(p.Reader)
	return nil
}
