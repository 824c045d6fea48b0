package archive

import (
	"bufio"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
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

var gzipReaders sync.Pool // of *gzip.Reader, reused through Reset

// decompressor turns a stored byte stream into text: gzip is detected by its
// magic bytes (not by the name) and every member of a multi-member file is
// read; anything else is passed through as plain text.
type decompressor struct {
	raw        *bufio.Reader
	gz         *gzip.Reader
	Text       io.Reader
	Compressed bool
}

func newDecompressor(r io.Reader) (*decompressor, error) {
	d := &decompressor{raw: getReader(&rawReaders, r, readBufferBytes)}
	magic, err := d.raw.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(magic) < 2 || magic[0] != gzipMagic[0] || magic[1] != gzipMagic[1] {
		d.Text = d.raw
		return d, nil
	}
	d.Compressed = true
	if z, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := z.Reset(d.raw); err != nil {
			gzipReaders.Put(z)
			return nil, fmt.Errorf("cannot read gzip header: %w", err)
		}
		d.gz = z
	} else {
		z, err := gzip.NewReader(d.raw)
		if err != nil {
			return nil, fmt.Errorf("cannot read gzip header: %w", err)
		}
		d.gz = z
	}
	d.gz.Multistream(true)
	d.Text = d.gz
	return d, nil
}

// Close returns the readers to their pools.
func (d *decompressor) Close() {
	d.raw.Reset(nil)
	rawReaders.Put(d.raw)
	if d.gz != nil {
		gzipReaders.Put(d.gz)
		d.gz = nil
	}
}
