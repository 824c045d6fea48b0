package pqfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/flowlens/flowlens/internal/arrowstr"
)

// maxPageRows cuts a page after this many rows whatever its size, so that
// dictionary pages (a few bits a row) stay near the 1 MiB page target.
const maxPageRows = 1 << 18

// column encodes one column of the current row group: values go to the
// current page, in dictionary indices while the dictionary stays small, else
// PLAIN; a full page is encoded, compressed and appended to chunk.
type column struct {
	spec    Column
	w       *Writer
	scratch scratch // page buffers; per column so columns encode in parallel
	hints   bufferHints

	// the current page
	pageRows  int
	pageNulls int
	levelsOn  bool   // the page has a NULL: its definition levels are kept
	levels    []byte // definition levels of the page, when levelsOn
	idx       []int32
	plain     []byte

	// the dictionary of the row group
	dictOn    bool
	dictMax   int
	dictPlain []byte // the entries, PLAIN-encoded
	dictN     int
	i32Dict   dictIndex[int32]
	i32Small  []uint16 // index+1 of the small non-negative int32 values (ports, protocol, flags), up to index 65534
	i64Dict   dictIndex[int64]
	i64Dense  denseIndex // before i64Dict, while the values stay near each other
	strDict   strIndex
	ipDict    dictIndex[ipKey]
	lastIdx   int32 // the last string looked up, and where its text is in dictPlain
	lastOff   int32
	lastLen   int32
	lastIP    ipKey // the last address looked up, and its index
	lastIPIdx int32
	ipText    []byte
	matching  matching // of pages other than PLAIN strings, for the writer's life

	// the chunk of the row group
	dictPage     []byte // the dictionary page, made when the chunk is flushed
	chunk        blocks // the data pages
	chunkRows    int
	chunkNulls   int64
	uncompressed int64
	usedPlain    bool
	usedDict     bool
	// plainGroups is how many more row groups start PLAIN, without trying a
	// dictionary, after one overflowed: on columns of many distinct values
	// (addresses of an internet-facing interface, aggregate tables) the
	// attempt cost half the lookups of each row group.
	plainGroups int
	firstData   int // offset of the first data page in chunk
	hasMinMax   bool
	minI, maxI  int64
	minF, maxF  float64
	minS, maxS  []byte
	// minPre and maxPre are minS and maxS's first 8 bytes, big-endian and
	// zero-padded: a string whose own prefix lies strictly between them
	// lies between minS and maxS, without a comparison of its bytes.
	minPre, maxPre uint64
}

func newColumn(spec Column, w *Writer) *column {
	c := &column{spec: spec, w: w, dictMax: w.opts.DictionaryMaxBytes}
	c.resetChunk()
	return c
}

// resetChunk starts a new row group: empty chunk, new dictionary.
func (c *column) resetChunk() {
	c.chunk.reset()
	c.chunkRows, c.chunkNulls, c.uncompressed = 0, 0, 0
	c.usedPlain, c.usedDict, c.hasMinMax = false, false, false
	c.minS, c.maxS = c.minS[:0], c.maxS[:0]
	c.dictOn = c.spec.Type != Float64 // doubles are PLAIN: aggregates, rarely repeated
	if c.plainGroups > 0 {            // the dictionary overflowed lately: values are many
		c.plainGroups--
		c.dictOn = false
	}
	c.dictPlain = c.dictPlain[:0]
	c.dictN = 0
	c.lastIdx, c.lastIPIdx = -1, -1
	c.i32Dict.reset()
	clear(c.i32Small)
	c.i64Dict.reset()
	c.i64Dense.reset()
	c.strDict.reset()
	c.ipDict.reset()
}

// release gives the column's buffers back to the pools between row
// groups, remembering their sizes. A file kept them at their largest
// otherwise, and a run over many days holds many files open (one per
// table, region and day), most of them idle: their kept buffers, not their
// rows, grew memory with the number of days.
func (c *column) release() {
	h := &c.hints
	h.levels, h.plain, h.dict = pooledCap(c.levels), pooledCap(c.plain), pooledCap(c.dictPlain)
	h.idx = pooledCap(c.idx)
	h.page, h.compressed = pooledCap(c.scratch.page), pooledCap(c.scratch.compressed)
	c.chunk.reset()
	for _, b := range [][]byte{c.levels, c.plain, c.dictPlain, c.dictPage, c.scratch.page, c.scratch.compressed} {
		bytePool.put(b)
	}
	int32Pool.put(c.idx)
	uint16Pool.put(c.i32Small)
	c.i64Dense.reset()
	c.levels, c.idx, c.plain = nil, nil, nil
	c.dictPlain, c.dictPage = nil, nil
	c.i32Dict, c.i64Dict, c.ipDict = dictIndex[int32]{}, dictIndex[int64]{}, dictIndex[ipKey]{}
	c.strDict, c.i32Small = strIndex{}, nil
	c.ipText, c.minS, c.maxS = nil, nil, nil
	c.scratch = scratch{}
}

// acquire takes the column's buffers from the pools, as large as they were
// in the last row group, before it is given values.
func (c *column) acquire() {
	h := &c.hints
	c.levels = take(&bytePool, c.levels, h.levels)
	c.plain = take(&bytePool, c.plain, h.plain)
	c.dictPlain = take(&bytePool, c.dictPlain, h.dict)
	c.idx = take(&int32Pool, c.idx, h.idx)
	c.scratch.page = take(&bytePool, c.scratch.page, h.page)
	c.scratch.compressed = take(&bytePool, c.scratch.compressed, h.compressed)
}

// bufferHints are the capacities a column's buffers reached in its last
// row group.
type bufferHints struct {
	levels, plain, dict, idx, page, compressed int
}

func (c *column) pendingBytes() int64 {
	return int64(len(c.plain) + 4*len(c.idx) + len(c.dictPlain))
}

// A page keeps its definition levels only once it mixes values and NULLs:
// until then it is all values (pageNulls 0) or all NULLs (pageNulls ==
// pageRows), and one RLE run describes it. Columns absent from an input's
// format, NULL in every row, thus cost a counter.

// materializeLevels starts keeping levels for the uniform page so far.
func (c *column) materializeLevels() {
	fill := byte(1)
	if c.pageNulls > 0 {
		fill = 0
	}
	c.levels = c.levels[:0]
	for i := 0; i < c.pageRows; i++ {
		c.levels = append(c.levels, fill)
	}
	c.levelsOn = true
}

// validRow counts a row with a value.
func (c *column) validRow() {
	if !c.levelsOn && c.pageNulls > 0 {
		c.materializeLevels()
	}
	if c.levelsOn {
		c.levels = append(c.levels, 1)
	}
	c.pageRows++
}

// nullRow counts a NULL row.
func (c *column) nullRow() {
	if !c.levelsOn && c.pageNulls < c.pageRows {
		c.materializeLevels()
	}
	if c.levelsOn {
		c.levels = append(c.levels, 0)
	}
	c.pageNulls++
	c.pageRows++
}

// appendNulls appends n NULLs; to an all-NULL page, by counting.
func (c *column) appendNulls(n int) {
	for n > 0 {
		if !c.levelsOn && c.pageNulls == c.pageRows {
			k := min(n, maxPageRows-c.pageRows)
			c.pageRows += k
			c.pageNulls += k
			n -= k
		} else {
			c.nullRow()
			n--
		}
		if c.pageRows >= maxPageRows {
			c.cutPage()
		}
	}
}

// appendArray appends rows sel (or the first n) of arr in chunks, cutting
// pages between chunks.
func (c *column) appendArray(arr arrow.Array, sel []int32, n int) error {
	c.acquire()
	const chunk = 4096
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		var part []int32
		if sel != nil {
			part = sel[start:end]
		}
		if err := c.appendRange(arr, part, start, end); err != nil {
			return err
		}
		c.maybeGiveUpDictionary()
		c.maybeCutPage()
	}
	return nil
}

// accepts checks that arr's type fits the column.
func (c *column) accepts(arr arrow.Array) error {
	ok := false
	switch dt := arr.DataType().(type) {
	case *arrow.Int32Type:
		ok = c.spec.Type == Int32
	case *arrow.Int64Type:
		ok = c.spec.Type == Int64
	case *arrow.Float64Type:
		ok = c.spec.Type == Float64
	case *arrow.StringType:
		ok = c.spec.Type == String
	case *arrow.FixedSizeBinaryType:
		ok = c.spec.Type == String && dt.ByteWidth == 16
	}
	if !ok {
		return fmt.Errorf("%v values do not fit a %v column", arr.DataType(), c.spec.Type)
	}
	return nil
}

// row returns the array row of the k-th value of a range.
func row(sel []int32, start, k int) int {
	if sel != nil {
		return int(sel[k])
	}
	return start + k
}

// appendRange appends the rows of one chunk; Write has checked the types
// (accepts). The loops are written out per type: one shared loop calling a
// function per value measured 11-24 % slower (benchstat, BenchmarkWrite).
func (c *column) appendRange(arr arrow.Array, sel []int32, start, end int) error {
	count := end - start
	hasNulls := arr.NullN() > 0
	if sel == nil && hasRuns(arr) {
		if !hasNulls {
			c.appendValid(arr, start, end)
			return nil
		}
		bitmap, offset := arr.NullBitmapBytes(), arr.Data().Offset()
		for k := start; k < end; {
			e := runEnd(bitmap, offset, k, end)
			if bitutil.BitIsSet(bitmap, offset+k) {
				c.appendValid(arr, k, e)
			} else {
				for range e - k {
					c.nullRow()
				}
			}
			k = e
		}
		return nil
	}
	switch a := arr.(type) {
	case *array.Int32:
		vals := a.Int32Values()
		for k := 0; k < count; k++ {
			r := row(sel, start, k)
			if hasNulls && a.IsNull(r) {
				c.nullRow()
				continue
			}
			c.validRow()
			c.addInt32(vals[r])
		}
	case *array.Int64:
		vals := a.Int64Values()
		for k := 0; k < count; k++ {
			r := row(sel, start, k)
			if hasNulls && a.IsNull(r) {
				c.nullRow()
				continue
			}
			c.validRow()
			c.addInt64(vals[r])
		}
	case *array.Float64:
		vals := a.Float64Values()
		for k := 0; k < count; k++ {
			r := row(sel, start, k)
			if hasNulls && a.IsNull(r) {
				c.nullRow()
				continue
			}
			c.validRow()
			c.addFloat64(vals[r])
		}
	case *array.String:
		offs, data := a.ValueOffsets(), arrowstr.Data(a)
		for k := 0; k < count; k++ {
			r := row(sel, start, k)
			if hasNulls && a.IsNull(r) {
				c.nullRow()
				continue
			}
			c.validRow()
			c.addString(data[offs[r]:offs[r+1]])
		}
	case *array.FixedSizeBinary:
		for k := 0; k < count; k++ {
			r := row(sel, start, k)
			if hasNulls && a.IsNull(r) {
				c.nullRow()
				continue
			}
			c.validRow()
			c.addIP([16]byte(a.Value(r)))
		}
	default:
		return fmt.Errorf("unsupported Arrow type %v", arr.DataType())
	}
	return nil
}

// hasRuns reports whether appendValid takes arr's type.
func hasRuns(arr arrow.Array) bool {
	switch arr.(type) {
	case *array.Int32, *array.Int64, *array.String, *array.FixedSizeBinary:
		return true
	}
	return false
}

// runEnd returns where the run of rows from k on, before end, whose
// validity bits are all row k's, ends.
func runEnd(bitmap []byte, offset, k, end int) int {
	want := bitutil.BitIsSet(bitmap, offset+k)
	for k++; k < end; {
		i := offset + k
		if i&63 == 0 && k+64 <= end { // a whole word
			w := binary.LittleEndian.Uint64(bitmap[i/8:])
			if !want {
				w = ^w
			}
			if w != math.MaxUint64 {
				return k + bits.TrailingZeros64(^w)
			}
			k += 64
			continue
		}
		if bitutil.BitIsSet(bitmap, i) != want {
			return k
		}
		k++
	}
	return end
}

// appendValid appends rows start..end of arr, none of them NULL, its type
// one that hasRuns takes. It is the usual case, and its loops keep the
// column's state in locals: a value already in the dictionary costs a
// lookup and an append, a PLAIN run one copy. Any other value goes through
// the general add, one row at a time, with the page's rows counted up to it
// (a dictionary overflowing there may cut the page before it).
func (c *column) appendValid(arr arrow.Array, start, end int) {
	switch a := arr.(type) {
	case *array.Int32:
		appendInts(c, a.Int32Values()[start:end], c.indexSmallInt32s, c.addInt32)
	case *array.Int64:
		appendInts(c, a.Int64Values()[start:end], c.indexKnownInt64s, c.addInt64)
	case *array.String:
		c.appendStrings(a.ValueOffsets()[start:end+1], arrowstr.Data(a))
	case *array.FixedSizeBinary: // 16-byte addresses (accepts)
		off := a.Data().Offset()
		c.appendIPs(a.Data().Buffers()[1].Bytes()[16*(off+start) : 16*(off+end)])
	}
}

// validRows counts n rows with values, as n calls of validRow.
func (c *column) validRows(n int) {
	if !c.levelsOn && c.pageNulls > 0 {
		c.materializeLevels()
	}
	if c.levelsOn {
		l := len(c.levels)
		c.levels = double(c.levels, n)[:l+n]
		for i := l; i < l+n; i++ {
			c.levels[i] = 1
		}
	}
	c.pageRows += n
}

// appendInts appends a run of integers: in one copy while the column is
// PLAIN, else as dictionary indices, index taking the leading values
// already in the dictionary and add each other value, one at a time.
func appendInts[T int32 | int64](c *column, vals []T, index func([]T) int, add func(T)) {
	lo, hi := minMax(vals)
	c.stat(int64(lo))
	c.stat(int64(hi))
	for len(vals) > 0 {
		if !c.dictOn {
			b := arrow.GetBytes(vals)
			c.plain = append(double(c.plain, len(b)), b...)
			c.validRows(len(vals))
			return
		}
		n := index(vals)
		c.validRows(n)
		if vals = vals[n:]; len(vals) > 0 {
			c.validRow()
			add(vals[0])
			vals = vals[1:]
		}
	}
}

// indexSmallInt32s appends the indices of vals's leading values found in
// the small-value table, and returns how many it took.
func (c *column) indexSmallInt32s(vals []int32) int {
	if c.i32Small == nil {
		return 0
	}
	small := (*[smallInt32]uint16)(c.i32Small)
	idx := double(c.idx, len(vals))
	k := 0
	for ; k < len(vals); k++ {
		v := vals[k]
		if uint32(v) >= smallInt32 || small[uint16(v)] == 0 {
			break
		}
		idx = append(idx, int32(small[uint16(v)])-1)
	}
	c.idx = idx
	return k
}

// indexKnownInt64s appends the indices of vals's leading values already in
// the dictionary, and returns how many it took.
func (c *column) indexKnownInt64s(vals []int64) int {
	idx := double(c.idx, len(vals))
	k := 0
	d := &c.i64Dense
	refs, lo := d.refs, d.lo
	hashed := d.frozen && len(c.i64Dict.hashes) == c.dictN // every entry indexed
	for ; k < len(vals); k++ {
		v := vals[k]
		if o := uint64(v - lo); o < uint64(len(refs)) {
			if refs[o] == 0 {
				break
			}
			idx = append(idx, refs[o]-1)
			continue
		}
		if !hashed {
			break
		}
		i := c.i64Dict.find(v, hashInt(uint64(v)))
		if i < 0 {
			break
		}
		idx = append(idx, i)
	}
	c.idx = idx
	return k
}

// appendStrings appends the strings offs delimits in data.
func (c *column) appendStrings(offs []int32, data []byte) {
	for len(offs) > 1 {
		if !c.dictOn {
			c.plain = double(c.plain, int(offs[len(offs)-1]-offs[0])+4*(len(offs)-1))
			for k := range len(offs) - 1 {
				c.addPlainString(data[offs[k]:offs[k+1]])
			}
			c.validRows(len(offs) - 1)
			return
		}
		n := c.indexKnownStrings(offs, data)
		c.validRows(n)
		if offs = offs[n:]; len(offs) > 1 {
			c.validRow()
			c.addString(data[offs[0]:offs[1]])
			offs = offs[1:]
		}
	}
}

// indexKnownStrings appends the indices of the leading strings of offs
// already in the dictionary, and returns how many it took.
func (c *column) indexKnownStrings(offs []int32, data []byte) int {
	idx := double(c.idx, len(offs)-1)
	last := []byte(nil)
	if c.lastIdx >= 0 {
		last = c.dictPlain[c.lastOff : c.lastOff+c.lastLen]
	}
	k := 0
	for ; k < len(offs)-1; k++ {
		s := data[offs[k]:offs[k+1]]
		if string(s) == string(last) && last != nil {
			idx = append(idx, c.lastIdx)
			continue
		}
		i, off := c.strDict.find(c.dictPlain, s, hashBytes(s))
		if i < 0 {
			break
		}
		c.lastIdx, c.lastOff, c.lastLen = i, off, int32(len(s))
		last = c.dictPlain[off : off+int32(len(s))]
		idx = append(idx, i)
	}
	c.idx = idx
	return k
}

// appendIPs appends the 16-byte addresses of b.
func (c *column) appendIPs(b []byte) {
	for len(b) > 0 {
		if !c.dictOn {
			c.appendPlainIPs(b)
			return
		}
		n := c.indexKnownIPs(b)
		c.validRows(n)
		if b = b[16*n:]; len(b) > 0 {
			c.validRow()
			c.addIP([16]byte(b))
			b = b[16:]
		}
	}
}

// indexKnownIPs appends the indices of b's leading addresses already in the
// dictionary, and returns how many it took.
func (c *column) indexKnownIPs(b []byte) int {
	idx := double(c.idx, len(b)/16)
	k := 0
	for ; len(b) >= 16; b = b[16:] {
		key := ipKeyOf([16]byte(b))
		i := c.lastIPIdx
		if key != c.lastIP || i < 0 {
			if i = c.ipDict.find(key, hashIP(key)); i < 0 {
				break
			}
			c.lastIP, c.lastIPIdx = key, i
		}
		idx = append(idx, i)
		k++
	}
	c.idx = idx
	return k
}

// appendPlainIPs appends the addresses of b as PLAIN text, IPv4 written in
// place (appendIPText's way) in room made once for all.
func (c *column) appendPlainIPs(b []byte) {
	c.validRows(len(b) / 16)
	plain := double(c.plain, len(b)/16*20)
	for ; len(b) >= 16; b = b[16:] {
		n := len(plain)
		if [12]byte(b) != v4InV6Prefix || cap(plain)-n < 20 {
			plain = appendIPText(append(plain, 0, 0, 0, 0), [16]byte(b))
		} else {
			plain = plain[:n+4+putIPv4(plain[n+4:n+20], [4]byte(b[12:]))]
		}
		binary.LittleEndian.PutUint32(plain[n:], uint32(len(plain)-n-4))
		c.statString(plain[n+4:])
	}
	c.plain = plain
}

// minMax returns the least and greatest of vals, which must not be empty.
func minMax[T int32 | int64](vals []T) (lo, hi T) {
	lo, hi = vals[0], vals[0]
	for _, v := range vals[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

func (c *column) stat(v int64) {
	if !c.hasMinMax {
		c.minI, c.maxI, c.hasMinMax = v, v, true
		return
	}
	c.minI = min(c.minI, v)
	c.maxI = max(c.maxI, v)
}

// smallInt32 bounds the values indexed by a table rather than a map: ports,
// protocol numbers, TCP flags, versions.
const smallInt32 = 1 << 16

func (c *column) addInt32(v int32) {
	c.stat(int64(v))
	if c.dictOn {
		if uint32(v) < smallInt32 {
			if c.i32Small == nil {
				c.i32Small = uint16Pool.get(smallInt32)[:smallInt32]
				clear(c.i32Small)
			}
			if i := c.i32Small[v]; i > 0 {
				c.idx = append(c.idx, int32(i)-1)
				return
			}
		}
		h := hashInt(uint64(uint32(v)))
		i := c.i32Dict.find(v, h)
		if i < 0 {
			i = c.i32Dict.insert(v, h)
			if uint32(v) < smallInt32 && i < math.MaxUint16 {
				c.i32Small[v] = uint16(i + 1)
			}
			c.dictN++
			c.dictPlain = binary.LittleEndian.AppendUint32(c.dictPlain, uint32(v))
			if len(c.dictPlain) > c.dictMax {
				c.fallBack()
				c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(v))
				return
			}
		}
		c.idx = append(c.idx, i)
		return
	}
	c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(v))
}

func (c *column) addInt64(v int64) {
	c.stat(v)
	if !c.dictOn {
		c.plain = binary.LittleEndian.AppendUint64(c.plain, uint64(v))
		return
	}
	ref := c.i64Dense.ref(v)
	if ref != nil && *ref > 0 {
		c.idx = append(c.idx, *ref-1)
		return
	}
	// Once the window is frozen the hash index holds every entry, those
	// inside the window too (found there first).
	if c.i64Dense.frozen && len(c.i64Dict.hashes) < c.dictN {
		c.indexInt64Entries()
	}
	var i int32
	h := hashInt(uint64(v))
	if ref != nil {
		i = int32(c.dictN)
		*ref = i + 1
		if c.i64Dense.frozen {
			c.i64Dict.insert(v, h)
		}
	} else {
		if i = c.i64Dict.find(v, h); i >= 0 {
			c.idx = append(c.idx, i)
			return
		}
		i = c.i64Dict.insert(v, h)
	}
	c.dictN++
	c.dictPlain = binary.LittleEndian.AppendUint64(c.dictPlain, uint64(v))
	if len(c.dictPlain) > c.dictMax {
		c.fallBack()
		c.plain = binary.LittleEndian.AppendUint64(c.plain, uint64(v))
		return
	}
	c.idx = append(c.idx, i)
}

// indexInt64Entries puts the dictionary's entries in the hash index.
func (c *column) indexInt64Entries() {
	for off := 8 * len(c.i64Dict.hashes); off < len(c.dictPlain); off += 8 {
		v := int64(binary.LittleEndian.Uint64(c.dictPlain[off:]))
		c.i64Dict.insert(v, hashInt(uint64(v)))
	}
}

func (c *column) addFloat64(v float64) {
	if !c.hasMinMax {
		c.minF, c.maxF, c.hasMinMax = v, v, true
	} else {
		c.minF, c.maxF = min(c.minF, v), max(c.maxF, v)
	}
	c.plain = binary.LittleEndian.AppendUint64(c.plain, math.Float64bits(v))
}

func (c *column) addString(s []byte) {
	if c.dictOn {
		if c.lastIdx >= 0 && string(s) == string(c.dictPlain[c.lastOff:c.lastOff+c.lastLen]) {
			c.idx = append(c.idx, c.lastIdx)
			return
		}
		h := hashBytes(s)
		i, off := c.strDict.find(c.dictPlain, s, h)
		if i < 0 {
			c.dictN++
			c.dictPlain = appendPlainString(c.dictPlain, s)
			if len(c.dictPlain) > c.dictMax {
				c.fallBack()
				c.addPlainString(s)
				return
			}
			off = int32(len(c.dictPlain) - len(s))
			i = c.strDict.insert(int(off), len(s), h)
		}
		c.lastIdx, c.lastOff, c.lastLen = i, off, int32(len(s))
		c.idx = append(c.idx, i)
		return
	}
	c.addPlainString(s)
}

func (c *column) addPlainString(s []byte) {
	c.plain = appendPlainString(c.plain, s)
	c.statString(s)
}

func (c *column) statString(s []byte) {
	p := prefix8(s)
	if c.hasMinMax && p > c.minPre && p < c.maxPre {
		return
	}
	if !c.hasMinMax || bytes.Compare(s, c.minS) < 0 {
		c.minS = append(c.minS[:0], s...)
		c.minPre = p
	}
	if !c.hasMinMax || bytes.Compare(s, c.maxS) > 0 {
		c.maxS = append(c.maxS[:0], s...)
		c.maxPre = p
	}
	c.hasMinMax = true
}

// prefix8 returns s's first 8 bytes as a big-endian number, zero-padded.
func prefix8(s []byte) uint64 {
	if len(s) >= 8 {
		return binary.BigEndian.Uint64(s)
	}
	var b [8]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:])
}

// addIP adds a 16-byte address, written as its RFC 5952 text. In dictionary
// mode the text is made once per distinct address.
func (c *column) addIP(a [16]byte) {
	if c.dictOn {
		k := ipKeyOf(a)
		if c.lastIPIdx >= 0 && k == c.lastIP {
			c.idx = append(c.idx, c.lastIPIdx)
			return
		}
		h := hashIP(k)
		i := c.ipDict.find(k, h)
		if i < 0 {
			i = c.ipDict.insert(k, h)
			c.dictN++
			c.ipText = appendIPText(c.ipText[:0], a)
			c.dictPlain = appendPlainString(c.dictPlain, c.ipText)
			if len(c.dictPlain) > c.dictMax {
				c.fallBack()
				c.addPlainString(c.ipText)
				return
			}
		}
		c.lastIP, c.lastIPIdx = k, i
		c.idx = append(c.idx, i)
		return
	}
	n := len(c.plain)
	c.plain = appendIPText(append(c.plain, 0, 0, 0, 0), a)
	binary.LittleEndian.PutUint32(c.plain[n:], uint32(len(c.plain)-n-4))
	c.statString(c.plain[n+4:])
}

func appendIPText(dst []byte, a [16]byte) []byte {
	if [12]byte(a[:12]) != v4InV6Prefix {
		return netip.AddrFrom16(a).AppendTo(dst)
	}
	// IPv4, the common case, four table lookups rather than netip's
	// general formatting (a tenth of the flows table's encoding time).
	n := len(dst)
	dst = slices.Grow(dst, 16)[:n+16]
	return dst[:n+putIPv4(dst[n:], [4]byte(a[12:]))]
}

// putIPv4 writes the dotted text of a at out's start, which must have 16
// bytes of room (each octet is written as 4 bytes), and returns its length.
func putIPv4(out []byte, a [4]byte) int {
	p := 0
	for _, b := range a {
		binary.LittleEndian.PutUint32(out[p:], octetDot[b])
		p += int(octetDotLen[b])
	}
	return p - 1 // less the last dot
}

var v4InV6Prefix = [12]byte{10: 0xff, 11: 0xff}

// octetDot is the decimal text of each byte value followed by a dot, as
// little-endian bytes; octetDotLen its length.
var octetDot, octetDotLen = func() (t [256]uint32, n [256]uint8) {
	for i := range 256 {
		var b [4]byte
		s := strconv.AppendUint(b[:0], uint64(i), 10)
		s = append(s, '.')
		t[i], n[i] = binary.LittleEndian.Uint32(b[:]), uint8(len(s))
	}
	return t, n
}()

func appendPlainString(dst, s []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// fallBack switches to PLAIN for the rest of the row group when the
// dictionary outgrows its limit. The row being added is already counted in
// the page but its value is not. When no page of the row group uses the
// dictionary yet (the usual case: a column of many distinct values
// overflows within its first page), the page's indices become PLAIN values
// and the chunk has no dictionary at all, which would only add its indices
// to the file. Otherwise the rows before, dictionary encoded, become a page
// of their own, and the dictionary, without its newest entry, stays for
// them.
func (c *column) fallBack() {
	entries := c.dictEntries()
	newest := entries[len(entries)-1]
	c.dictN--
	c.dictPlain = c.dictPlain[:len(c.dictPlain)-len(newest)]
	if c.usedDict {
		if c.spec.Type == String {
			c.statDictionary()
		}
		c.cutPageRows(c.pageRows - 1)
		c.dictOn = false
		c.plainGroups = plainAfterOverflow
		return
	}
	c.dropDictionary(entries[:len(entries)-1])
}

// dropDictionary turns the indices of a row group whose pages have not
// used the dictionary into PLAIN values, entries being the dictionary's,
// and writes PLAIN for the rest of the row group and the next ones.
func (c *column) dropDictionary(entries [][]byte) {
	if c.spec.Type == String {
		c.statDictionary()
	}
	for _, i := range c.idx {
		c.plain = append(c.plain, entries[i]...)
	}
	c.idx = c.idx[:0]
	c.dictPlain, c.dictN = c.dictPlain[:0], 0
	c.dictOn = false
	c.plainGroups = plainAfterOverflow
}

// dictionaryTrialValues is how many values of a row group a string
// column's dictionary is given before it is judged (maybeGiveUpDictionary).
const dictionaryTrialValues = 16 << 10

// maybeGiveUpDictionary drops a string column's dictionary early when it
// will overflow anyway: once its first dictionaryTrialValues values are 90 %
// distinct, the row group holds about 4.8 times as many distinct values or
// more, and if that many entries of their mean size outgrow the limit, the
// dictionary would only cost its inserts, some 70,000 of them for
// addresses, before falling back. Columns of many distinct addresses (an
// internet-facing interface's) took 3 % of a conversion so.
func (c *column) maybeGiveUpDictionary() {
	n := len(c.idx) // the values so far: no page has used the dictionary
	if !c.dictOn || c.usedDict || c.spec.Type != String || n < dictionaryTrialValues || c.dictN*10 < n*9 {
		return
	}
	if projected := int64(len(c.dictPlain)) * 48 * int64(n) / (10 * int64(c.dictN)); projected > int64(c.dictMax) {
		c.dropDictionary(c.dictEntries())
	}
}

// plainAfterOverflow is how many row groups after one whose dictionary
// overflowed are written PLAIN before a dictionary is tried again.
const plainAfterOverflow = 3

// dictEntries returns the PLAIN encoding of each dictionary entry, in
// order.
func (c *column) dictEntries() [][]byte {
	entries := make([][]byte, 0, c.dictN)
	for off := 0; off < len(c.dictPlain); {
		n := 4
		switch c.spec.Type {
		case Int64:
			n = 8
		case String:
			n += int(binary.LittleEndian.Uint32(c.dictPlain[off:]))
		}
		entries = append(entries, c.dictPlain[off:off+n])
		off += n
	}
	return entries
}

// statDictionary folds the dictionary entries into the string min and max.
func (c *column) statDictionary() {
	for off := 0; off < len(c.dictPlain); {
		n := int(binary.LittleEndian.Uint32(c.dictPlain[off:]))
		c.statString(c.dictPlain[off+4 : off+4+n])
		off += 4 + n
	}
}

func (c *column) maybeCutPage() {
	if c.pageRows >= maxPageRows || len(c.plain)+4*len(c.idx) >= c.w.opts.PageBytes {
		c.cutPage()
	}
}

// cutPage encodes the current page, if any.
func (c *column) cutPage() { c.cutPageRows(c.pageRows) }

// cutPageRows encodes the first rows of the current page as a data page
// and keeps the rest: only fallBack cuts a page short, keeping its last row.
func (c *column) cutPageRows(rows int) {
	if rows == 0 {
		return
	}
	s := &c.scratch
	nulls := 0
	var levels []byte
	if c.levelsOn {
		levels = c.levels[:rows]
		for _, l := range levels {
			if l == 0 {
				nulls++
			}
		}
	} else if c.pageNulls > 0 {
		nulls = rows // an all-NULL page
	}
	// Definition levels: RLE with a 4-byte length prefix (data page v1).
	s.levels.Reset()
	if nulls == 0 || nulls == rows { // one run
		s.levels.Write(uvarint(uint64(rows) << 1))
		if nulls == 0 {
			s.levels.WriteByte(1)
		} else {
			s.levels.WriteByte(0)
		}
	} else {
		enc := rle.Encoding{BitWidth: 1}
		var err error
		s.rle, err = enc.EncodeLevels(s.rle[:0], levels)
		if err != nil {
			panic("BUG: encoding levels: " + err.Error())
		}
		s.levels.Write(s.rle)
	}
	s.page = binary.LittleEndian.AppendUint32(s.page[:0], uint32(s.levels.Len()))
	s.page = append(s.page, s.levels.Bytes()...)
	encoding := format.Plain
	valuesAt := -1 // where PLAIN strings start in the page, if it holds them
	if c.dictOn && len(c.idx) > 0 {
		encoding = format.RLEDictionary
		width := c.indexWidth(max(1, bits.Len32(uint32(max(c.dictN-1, 0)))))
		s.page = append(s.page, byte(width))
		enc := rle.Encoding{BitWidth: width}
		var err error
		s.rle, err = enc.EncodeInt32(s.rle[:0], c.idx)
		if err != nil {
			panic("BUG: encoding dictionary indices: " + err.Error())
		}
		s.page = append(s.page, s.rle...)
		c.usedDict = true
	} else {
		if c.spec.Type == String {
			valuesAt = len(s.page)
		}
		s.page = append(s.page, c.plain...)
		c.usedPlain = true
	}
	header, compressed := c.encodePage(format.PageHeader{
		Type: format.DataPage,
		DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues:               int32(rows),
			Encoding:                encoding,
			DefinitionLevelEncoding: format.RLE,
			RepetitionLevelEncoding: format.RLE,
			Statistics:              format.Statistics{NullCount: int64(nulls)},
		}),
	}, s.page, valuesAt)
	c.chunk.append(header)
	c.chunk.append(compressed)
	c.chunkRows += rows
	c.chunkNulls += int64(nulls)
	rest := c.pageRows - rows
	if !c.levelsOn {
		c.pageNulls = min(c.pageNulls, rest) // still uniform: all values or all NULLs
	} else if rest > 0 {
		kept := c.levels[rows:]
		c.pageNulls = 0
		for _, l := range kept {
			if l == 0 {
				c.pageNulls++
			}
		}
		c.levels = append(c.levels[:0], kept...)
		c.levelsOn = c.pageNulls > 0
		if !c.levelsOn {
			c.levels = c.levels[:0]
		}
	} else {
		c.levels = c.levels[:0]
		c.levelsOn = false
		c.pageNulls = 0
	}
	c.pageRows = rest
	c.idx = c.idx[:0]
	c.plain = c.plain[:0]
}

// indexTrialValues is how many of a page's dictionary indices indexWidth
// compresses at each width it weighs.
const indexTrialValues = 16 << 10

// indexWidth returns the bit width to pack the page's dictionary indices
// at: the least that holds them, or the next multiple of 8 when that
// compresses smaller. Packed at a whole number of bytes, indices of values
// that recur near each other (times of near-sorted records, small counts)
// repeat byte for byte, which zstd codes in fewer bits than the tightest
// packing; random indices (interfaces of many talkers) gain nothing and
// lose the padding. The two are weighed on the page's first indices,
// compressed as the page will be.
func (c *column) indexWidth(least int) int {
	aligned := (least + 7) &^ 7
	if least <= 4 || aligned == least || c.w.opts.Codec == None {
		return least
	}
	sample := c.idx[:min(len(c.idx), indexTrialValues)]
	s := &c.scratch
	size := func(width int) int {
		enc := rle.Encoding{BitWidth: width}
		var err error
		s.rle, err = enc.EncodeInt32(s.rle[:0], sample)
		if err != nil {
			panic("BUG: encoding dictionary indices: " + err.Error())
		}
		s.compressed, err = c.w.codec.Encode(s.compressed[:0], s.rle)
		if err != nil {
			panic("BUG: compressing a page: " + err.Error())
		}
		return len(s.compressed)
	}
	if size(aligned) < size(least) {
		return aligned
	}
	return least
}

// encodePage compresses body and returns the page's header and compressed
// body (in the column's scratch, until the next page); body holds PLAIN
// strings from valuesAt on, unless valuesAt is negative.
func (c *column) encodePage(h format.PageHeader, body []byte, valuesAt int) (header, compressed []byte) {
	s := &c.scratch
	compressed, err := c.compress(body, valuesAt)
	if err != nil {
		panic("BUG: compressing a page: " + err.Error())
	}
	h.UncompressedPageSize = int32(len(body))
	h.CompressedPageSize = int32(len(compressed))
	header, err = thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		panic("BUG: encoding a page header: " + err.Error())
	}
	c.uncompressed += int64(len(header) + len(body))
	s.compressed = compressed
	return header, compressed
}

// matching says whether a column's pages other than PLAIN strings
// (dictionary indices, numbers, their dictionaries) are worth a search for
// matches, with a codec that has a values encoder (zstd).
type matching uint8

const (
	matchingUntried matching = iota
	matchingOff              // their literals are Huffman-coded, no more
	matchingOn               // the codec's own encoder searches for matches
)

// matchTrialBytes is the size from which a page tells whether matches pay.
const matchTrialBytes = 64 << 10

// compress returns body, a page whose PLAIN strings (if any) start at
// valuesAt, compressed in the scratch buffers' memory. Strings go to the
// codec's values encoder when it has one. Other pages are mostly entropy:
// bit-packed indices of ports, counters, interfaces, in which zstd's
// fastest level finds few matches and spends a tenth of a conversion
// looking (and much more on small pages, where it clears its tables every
// time); their literals alone, Huffman-coded, come out about as small.
// Where matches do pay (indices of near-sorted times, runs of actions), a
// column's first page of matchTrialBytes or more shows it, coded both ways,
// and the column keeps the verdict: matches when they save 3 %.
func (c *column) compress(body []byte, valuesAt int) ([]byte, error) {
	s := &c.scratch
	ve, ok := c.w.codec.(valuesEncoder)
	switch {
	case !ok:
		return c.w.codec.Encode(s.compressed[:0], body)
	case valuesAt >= 0:
		return ve.EncodeValues(s.compressed[:0], body, valuesAt)
	case c.matching == matchingOn:
		return c.w.codec.Encode(s.compressed[:0], body)
	}
	lits, err := ve.EncodeValues(s.compressed[:0], body, len(body))
	if err != nil || c.matching == matchingOff || len(body) < matchTrialBytes {
		return lits, err
	}
	// The trial is made once in a column's life: its buffer is not kept.
	full, err := c.w.codec.Encode(nil, body)
	if err != nil {
		return nil, err
	}
	if len(full) < len(lits)-len(lits)/32 {
		c.matching = matchingOn
		return full, nil // encodePage keeps it as the scratch buffer
	}
	c.matching = matchingOff
	return lits, nil
}

func uvarint(v uint64) []byte {
	var b [binary.MaxVarintLen64]byte
	return b[:binary.PutUvarint(b[:], v)]
}

// flush finishes the chunk: cuts the last page, puts the dictionary page in
// front, and returns the chunk's metadata for a chunk starting at offset.
func (c *column) flush(offset int64) (format.ColumnChunk, error) {
	c.cutPage()
	meta := format.ColumnMetaData{
		PathInSchema: []string{c.spec.Name},
		Codec:        c.w.codec.CompressionCodec(),
		NumValues:    int64(c.chunkRows),
	}
	switch c.spec.Type {
	case Int32:
		meta.Type = format.Int32
	case Int64:
		meta.Type = format.Int64
	case Float64:
		meta.Type = format.Double
	default:
		meta.Type = format.ByteArray
	}
	c.dictPage = c.dictPage[:0]
	dictValuesAt := -1
	if c.spec.Type == String {
		dictValuesAt = 0
	}
	if c.usedDict {
		if c.spec.Type == String && c.dictOn {
			c.statDictionary()
		}
		header, compressed := c.encodePage(format.PageHeader{
			Type:                 format.DictionaryPage,
			DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(c.dictN), Encoding: format.Plain}),
		}, c.dictPlain, dictValuesAt)
		c.dictPage = append(append(c.dictPage, header...), compressed...)
		meta.DictionaryPageOffset = offset
	}
	meta.DataPageOffset = offset + int64(len(c.dictPage))
	meta.Encoding = append(meta.Encoding, format.RLE)
	if c.usedPlain {
		meta.Encoding = append(meta.Encoding, format.Plain)
	}
	if c.usedDict {
		meta.Encoding = append(meta.Encoding, format.Plain, format.RLEDictionary)
	}
	meta.TotalCompressedSize = int64(len(c.dictPage) + c.chunk.n)
	meta.TotalUncompressedSize = c.uncompressed
	meta.Statistics = c.statistics()
	return format.ColumnChunk{FileOffset: offset, MetaData: meta}, nil
}

func (c *column) statistics() format.Statistics {
	st := format.Statistics{NullCount: c.chunkNulls}
	if !c.hasMinMax {
		return st
	}
	switch c.spec.Type {
	case Int32:
		st.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(c.minI)))
		st.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(c.maxI)))
		st.Min, st.Max = st.MinValue, st.MaxValue
	case Int64:
		st.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(c.minI))
		st.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(c.maxI))
		st.Min, st.Max = st.MinValue, st.MaxValue
	case Float64:
		st.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(c.minF))
		st.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(c.maxF))
		st.Min, st.Max = st.MinValue, st.MaxValue
	default:
		st.MinValue = append([]byte(nil), c.minS...)
		st.MaxValue = append([]byte(nil), c.maxS...)
	}
	return st
}

// double returns b with room for n more elements, at least twice its
// capacity when it must grow. The page buffers of a file's first row
// group grow from nothing to a page's size; by append's steps, a quarter
// at these sizes, each allocation left the last as garbage, five times
// the final size in all, and the heap grew into fresh pages for it (the
// peer's 2 M-record conversion: 37.7 k page faults against 35.4 k, 2.4 %
// more CPU).
func double[T any](b []T, n int) []T {
	if cap(b)-len(b) >= n {
		return b
	}
	g := make([]T, len(b), max(len(b)+n, 2*cap(b)))
	copy(g, b)
	return g
}
