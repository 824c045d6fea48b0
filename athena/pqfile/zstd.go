package pqfile

import (
	"sync"

	"github.com/flowlens/flowlens/athena/pqfile/internal/valuezstd"
	kzstd "github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// zstdCodec compresses pages at zstd's fastest level, and Huffman-codes the
// literals of a block in which the encoder finds no match, which the fast
// levels otherwise store raw.
//
// Dictionary indices of many distinct values (times, counters, interfaces)
// hold no repeats for the match finder, but their bytes are far from
// uniform: stored raw, such pages kept their full size, and coding their
// literals makes them 10-20 % smaller. With it, the default level gains
// under 1 % of a flow log's file over the fastest and costs about a fifth
// more time (on the DuckDB peer's file of random addresses, 2 M records:
// 49.7 MB at either level; on 5 M, 121.7 against 122.6 MB).
//
// Pages of PLAIN strings go to valuezstd instead, which seeks matches only
// where values start: on the peer's 2 M records its address pages come out
// 4-5 % smaller than at the fastest level, in under half the time. The
// other pages of a column in which matches do not pay go to valuezstd too,
// as literals only (column.compress).
type zstdCodec struct {
	zstd.Codec              // the Parquet codec id and the decoder
	encoders      sync.Pool // of *kzstd.Encoder
	valueEncoders sync.Pool // of *valuezstd.Encoder
}

func newZstdCodec() *zstdCodec {
	return &zstdCodec{Codec: zstd.Codec{Level: zstd.SpeedFastest, Concurrency: 1}}
}

// Encode returns the zstd frame of src, in dst's memory when it has room.
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*kzstd.Encoder)
	if e == nil {
		var err error
		e, err = kzstd.NewWriter(nil,
			kzstd.WithEncoderConcurrency(1),
			kzstd.WithEncoderLevel(kzstd.SpeedFastest),
			kzstd.WithZeroFrames(true),
			kzstd.WithEncoderCRC(false),
			kzstd.WithAllLitEntropyCompression(true),
		)
		if err != nil {
			return nil, err
		}
	}
	defer c.encoders.Put(e)
	return e.EncodeAll(src, dst[:0]), nil
}

// EncodeValues returns the zstd frame of src, whose bytes from valuesAt on
// are PLAIN byte-array values, in dst's memory when it has room.
func (c *zstdCodec) EncodeValues(dst, src []byte, valuesAt int) ([]byte, error) {
	e, _ := c.valueEncoders.Get().(*valuezstd.Encoder)
	if e == nil {
		e = new(valuezstd.Encoder)
	}
	defer c.valueEncoders.Put(e)
	return e.Encode(dst[:0], src, valuesAt)
}

// valuesEncoder is a codec with a way of its own for PLAIN byte-array
// pages; with valuesAt at the end of src, it Huffman-codes src's bytes as
// literals and searches for no match (column.compress).
type valuesEncoder interface {
	EncodeValues(dst, src []byte, valuesAt int) ([]byte, error)
}
