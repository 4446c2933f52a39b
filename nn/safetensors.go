package nn

// The safetensors container: reading and validating a file's header, and
// encoding one. The layout is
//
//	8 bytes      little-endian uint64 N, the header length
//	N bytes      JSON object: tensor name -> {"dtype", "shape", "data_offsets"},
//	             plus an optional "__metadata__" object of string -> string;
//	             may end with spaces (nori pads to a multiple of 8 so the
//	             data buffer starts 8-byte aligned)
//	rest         the data buffer: each tensor's bytes, little-endian,
//	             row-major, at data_offsets [begin, end) relative to the buffer
//
// Everything read here comes from a file, so every check returns an error
// naming the tensor and the numbers involved; nothing may panic and nothing
// is allocated before its size has been checked against the file's size.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/nori-ml/nori/tensor"
)

// stMaxHeaderBytes bounds the JSON header: a header is a few hundred bytes per
// tensor, so 100 MiB is far beyond any real model and stops a corrupt length
// field from triggering a huge allocation.
const stMaxHeaderBytes = 100 << 20

// stMetadataKey is the reserved header key holding the string -> string metadata.
const stMetadataKey = "__metadata__"

// stDTypes maps the safetensors dtype codes nori reads to tensor dtypes.
var stDTypes = map[string]tensor.DType{
	"F32":  tensor.Float32,
	"F64":  tensor.Float64,
	"BF16": tensor.BFloat16,
}

// stForeignDTypes are valid safetensors dtype codes that nori does not read;
// they get a clearer error than an unknown code.
var stForeignDTypes = map[string]bool{
	"F16": true, "F8_E4M3": true, "F8_E5M2": true, "F8_E8M0": true, "F6_E2M3": true, "F6_E3M2": true, "F4": true,
	"BOOL": true, "I8": true, "U8": true, "I16": true, "U16": true, "I32": true, "U32": true, "I64": true, "U64": true,
	"C64": true,
}

// stCode returns the safetensors dtype code of a storage dtype.
func stCode(dt tensor.DType) string {
	switch dt {
	case tensor.Float32:
		return "F32"
	case tensor.Float64:
		return "F64"
	case tensor.BFloat16:
		return "BF16"
	}
	return dt.String()
}

// stEntry is one validated tensor of a header.
type stEntry struct {
	name       string
	dtype      tensor.DType
	shape      []int
	begin, end int64 // byte range in the data buffer
}

// rawEntry is a tensor entry as it appears in the JSON; pointers tell a
// missing field from an empty one.
type rawEntry struct {
	DType   *string  `json:"dtype"`
	Shape   *[]int64 `json:"shape"`
	Offsets *[]int64 `json:"data_offsets"`
}

// readSTHeader reads the length prefix and the JSON header of an open file of
// the given size. It returns the header bytes and the length of the data
// buffer that follows them.
func readSTHeader(f io.ReaderAt, size int64) (hdr []byte, bufLen int64, err error) {
	if size < 8 {
		return nil, 0, fmt.Errorf("file is truncated: it has %d bytes, fewer than the 8-byte header length", size)
	}
	var lenBytes [8]byte
	if err := readFullAt(f, lenBytes[:], 0); err != nil {
		return nil, 0, fmt.Errorf("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBytes[:])
	if n > stMaxHeaderBytes {
		return nil, 0, fmt.Errorf("header length %d bytes exceeds the %d-byte limit (corrupt file?)", n, stMaxHeaderBytes)
	}
	if int64(n) > size-8 {
		return nil, 0, fmt.Errorf("file is truncated: header says %d bytes, file has %d after the 8-byte length", n, size-8)
	}
	hdr = make([]byte, n)
	if err := readFullAt(f, hdr, 8); err != nil {
		return nil, 0, fmt.Errorf("reading %d-byte header: %w", n, err)
	}
	return hdr, size - 8 - int64(n), nil
}

// parseSTHeader decodes and validates a header whose data buffer holds bufLen
// bytes. It checks the JSON, each dtype, shape and offset pair, that shapes
// match their byte counts, and that the offsets tile the buffer exactly (no
// overlap, no hole, nothing past the end). Entries come back sorted by offset.
func parseSTHeader(hdr []byte, bufLen int64) ([]stEntry, map[string]string, error) {
	fields, err := splitJSONObject(hdr)
	if err != nil {
		return nil, nil, fmt.Errorf("header is not valid JSON: %w", err)
	}
	meta := map[string]string{}
	entries := make([]stEntry, 0, len(fields))
	for _, f := range fields {
		if f.key == stMetadataKey {
			var m map[string]string
			if err := json.Unmarshal(f.val, &m); err != nil {
				return nil, nil, fmt.Errorf("header %q is not an object of strings: %v", stMetadataKey, err)
			}
			for k, v := range m {
				meta[k] = v
			}
			continue
		}
		e, err := parseSTEntry(f.key, f.val)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := checkSTTiling(entries, bufLen); err != nil {
		return nil, nil, err
	}
	return entries, meta, nil
}

// parseSTEntry validates one tensor entry.
func parseSTEntry(name string, val json.RawMessage) (stEntry, error) {
	e := stEntry{name: name}
	if name == "" {
		return e, errors.New("header has a tensor with an empty name")
	}
	var r rawEntry
	if err := json.Unmarshal(val, &r); err != nil {
		return e, fmt.Errorf("tensor %q: entry is not a valid object: %v", name, err)
	}
	switch {
	case r.DType == nil:
		return e, fmt.Errorf("tensor %q: entry has no dtype", name)
	case r.Shape == nil:
		return e, fmt.Errorf("tensor %q: entry has no shape", name)
	case r.Offsets == nil:
		return e, fmt.Errorf("tensor %q: entry has no data_offsets", name)
	}
	dt, ok := stDTypes[*r.DType]
	if !ok {
		if stForeignDTypes[*r.DType] {
			return e, fmt.Errorf("tensor %q: dtype %s is not supported (nori reads F32, F64 and BF16)", name, *r.DType)
		}
		return e, fmt.Errorf("tensor %q: bad dtype %q", name, *r.DType)
	}
	e.dtype = dt
	offs := *r.Offsets
	if len(offs) != 2 {
		return e, fmt.Errorf("tensor %q: data_offsets has %d values, want [begin, end]", name, len(offs))
	}
	e.begin, e.end = offs[0], offs[1]
	if e.begin < 0 || e.end < e.begin {
		return e, fmt.Errorf("tensor %q: bad data_offsets [%d, %d]", name, e.begin, e.end)
	}
	numel, err := stNumel(*r.Shape)
	if err != nil {
		return e, fmt.Errorf("tensor %q: %v", name, err)
	}
	e.shape = make([]int, len(*r.Shape))
	for i, d := range *r.Shape {
		e.shape[i] = int(d) // fits: stNumel bounded every dimension
	}
	size := int64(dt.Size())
	if numel > math.MaxInt64/size || numel*size != e.end-e.begin {
		return e, fmt.Errorf("tensor %q: shape %v of %s needs %d×%d bytes but data_offsets [%d, %d] hold %d",
			name, tensor.Shape(e.shape), *r.DType, numel, size, e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

// stNumel returns the element count of a shape from a file, rejecting
// negative dimensions and products that overflow (also when another
// dimension is 0, so no later code ever multiplies such a shape out).
func stNumel(shape []int64) (int64, error) {
	n, zero := int64(1), false
	for _, d := range shape {
		switch {
		case d < 0:
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		case d == 0:
			zero = true
		case n > math.MaxInt/d:
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		default:
			n *= d
		}
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// checkSTTiling checks that the entries' byte ranges cover [0, bufLen) exactly
// and sorts them by offset.
func checkSTTiling(entries []stEntry, bufLen int64) error {
	var need int64
	for _, e := range entries {
		need = max(need, e.end)
	}
	if need > bufLen {
		return fmt.Errorf("file is truncated: tensors need %d data bytes after the header, file has %d", need, bufLen)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		if entries[i].end != entries[j].end {
			return entries[i].end < entries[j].end
		}
		return entries[i].name < entries[j].name
	})
	var pos int64
	prev := ""
	for _, e := range entries {
		switch {
		case e.begin < pos:
			return fmt.Errorf("tensors %q and %q overlap: %q starts at byte %d before %q ends at %d", prev, e.name, e.name, e.begin, prev, pos)
		case e.begin > pos:
			return fmt.Errorf("data bytes [%d, %d) belong to no tensor (hole before %q)", pos, e.begin, e.name)
		}
		pos, prev = e.end, e.name
	}
	if pos != bufLen {
		return fmt.Errorf("data buffer has %d bytes but the tensors cover only %d", bufLen, pos)
	}
	return nil
}

// jsonField is one key of a JSON object with its raw value.
type jsonField struct {
	key string
	val json.RawMessage
}

// splitJSONObject splits a JSON object into its fields in file order, rejecting
// anything but one object (trailing whitespace allowed) and duplicate keys,
// which encoding/json would otherwise resolve silently to the last one.
func splitJSONObject(b []byte) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object, found %v", tok)
	}
	var out []jsonField
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("want a key, found %v", tok)
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		out = append(out, jsonField{key, v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// readSTFileHeader opens path and returns its validated header entries, its
// metadata, the open file and the offset of its data buffer.
func readSTFileHeader(path string) (f *os.File, entries []stEntry, meta map[string]string, dataStart int64, err error) {
	f, err = openSTFile(path)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil {
		entries, meta, dataStart, err = readSTReaderHeader(f, fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, 0, err
	}
	return f, entries, meta, dataStart, nil
}

// readSTReaderHeader reads and validates the header of a safetensors file of
// the given size held by r (an open file or bytes in memory). It returns the
// entries, the metadata and the offset of the data buffer.
func readSTReaderHeader(r io.ReaderAt, size int64) (entries []stEntry, meta map[string]string, dataStart int64, err error) {
	hdr, bufLen, err := readSTHeader(r, size)
	if err != nil {
		return nil, nil, 0, err
	}
	entries, meta, err = parseSTHeader(hdr, bufLen)
	if err != nil {
		return nil, nil, 0, err
	}
	return entries, meta, 8 + int64(len(hdr)), nil
}

// readFullAt fills p from r at off. io.ReaderAt allows io.EOF alongside a
// complete read at the end of the input; that counts as success here, and a
// short read is io.ErrUnexpectedEOF.
func readFullAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readSTEntry reads one tensor's bytes from the data buffer into a new CPU
// tensor of the entry's dtype; scratch is reused between calls.
func readSTEntry(f io.ReaderAt, dataStart int64, e stEntry, scratch *[]byte) (*tensor.Tensor, error) {
	n := e.end - e.begin
	if int64(cap(*scratch)) < n {
		*scratch = make([]byte, n)
	}
	b := (*scratch)[:n]
	if err := readFullAt(f, b, dataStart+e.begin); err != nil {
		return nil, fmt.Errorf("tensor %q: reading %d bytes: %w", e.name, n, err)
	}
	t := tensor.New(tensor.CPU, e.dtype, e.shape...)
	switch e.dtype {
	case tensor.Float32:
		d := t.F32Data()
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case tensor.Float64:
		d := t.F64Data()
		for i := range d {
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case tensor.BFloat16:
		d := make([]uint16, len(b)/2)
		for i := range d {
			d[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		t.Device().Upload(t.Storage(), t.Offset(), d)
	}
	return t, nil
}

// encodeSTHeader returns the length prefix and JSON header for tensors stored
// in the given order, padded with spaces so the data buffer starts at a
// multiple of 8 bytes.
func encodeSTHeader(items []saveItem, meta map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.Write(make([]byte, 8))
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	b.WriteString(`{"` + stMetadataKey + `":`)
	b.Write(mj)
	var off int64
	for _, it := range items {
		nj, err := json.Marshal(it.name)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(nj)
		b.WriteString(`:{"dtype":"` + stCode(it.fileDType) + `","shape":[`)
		for i, d := range it.t.Shape() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, off, off+it.nbytes)
		off += it.nbytes
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint64(out, uint64(len(out)-8))
	return out, nil
}
