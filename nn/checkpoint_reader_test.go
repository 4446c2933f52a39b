package nn

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// eofReaderAt returns io.EOF together with a complete read that reaches the
// end of its bytes, which io.ReaderAt permits and LoadTensorsFrom must accept.
type eofReaderAt struct{ b []byte }

func (r eofReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if off+int64(n) == int64(len(r.b)) {
		return n, io.EOF
	}
	return n, nil
}

// TestLoadTensorsFromMatchesFile loads the same bytes from a file and from
// memory (two readers) and checks identical tensors and metadata.
func TestLoadTensorsFromMatchesFile(t *testing.T) {
	names, ts := ckptTensors()
	for _, opt := range []SaveOptions{{}, {DType: tensor.BFloat16}} {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		mustSave(t, path, names, ts, map[string]string{"step": "42"}, opt)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := mustLoad(t, path)
		for _, r := range []io.ReaderAt{bytes.NewReader(b), eofReaderAt{b}} {
			got, err := LoadTensorsFrom(r, int64(len(b)), "mem")
			if err != nil {
				t.Fatalf("%T: %v", r, err)
			}
			if !reflect.DeepEqual(got.Meta, want.Meta) || got.Meta["step"] != "42" {
				t.Errorf("%T: meta %v, want %v", r, got.Meta, want.Meta)
			}
			if !reflect.DeepEqual(got.Names(), want.Names()) {
				t.Fatalf("%T: names %v, want %v", r, got.Names(), want.Names())
			}
			for _, n := range want.Names() {
				a, _ := got.Tensor(n)
				w, _ := want.Tensor(n)
				if a.DType() != w.DType() || !a.Shape().Equal(w.Shape()) {
					t.Fatalf("%T: tensor %q is %v %v, want %v %v", r, n, a.DType(), a.Shape(), w.DType(), w.Shape())
				}
				if a.DType() == tensor.BFloat16 {
					if !reflect.DeepEqual(rawBF16(a), rawBF16(w)) {
						t.Errorf("%T: tensor %q bf16 bits differ", r, n)
					}
				} else if !bitsEqual(a.Float32s(), w.Float32s()) {
					t.Errorf("%T: tensor %q values differ", r, n)
				}
			}
			meta, err := ReadMetadataFrom(r, int64(len(b)), "mem")
			if err != nil || !reflect.DeepEqual(meta, want.Meta) {
				t.Errorf("%T: ReadMetadataFrom = %v, %v; want %v", r, meta, err, want.Meta)
			}
		}
	}
}

// TestLoadTensorsFromErrors runs LoadTensors' corrupt-file cases through the
// in-memory loader: same failures, same details, and the given name in the
// message; ReadMetadataFrom rejects them too.
func TestLoadTensorsFromErrors(t *testing.T) {
	for _, tc := range loadErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			const name = "corrupt-" + "blob"
			c, err := LoadTensorsFrom(bytes.NewReader(tc.file), int64(len(tc.file)), name)
			if err == nil {
				t.Fatalf("LoadTensorsFrom succeeded with %v, want error containing %q", c.Names(), tc.want)
			}
			for _, w := range append(tc.want, name, "LoadTensorsFrom") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if m, err2 := ReadMetadataFrom(bytes.NewReader(tc.file), int64(len(tc.file)), name); err2 == nil {
				t.Errorf("ReadMetadataFrom = %v, want an error like %q", m, err)
			}
		})
	}
}

// TestLoadTensorsFromTruncated cuts a real checkpoint at every length and
// also lies about the size (larger than the bytes the reader holds): each
// must be an error, never a panic or a partial checkpoint.
func TestLoadTensorsFromTruncated(t *testing.T) {
	names, ts := ckptTensors()
	names, ts = names[:4], ts[:4] // keep the file small: every prefix is loaded
	path := filepath.Join(t.TempDir(), "t.safetensors")
	mustSave(t, path, names, ts, nil, SaveOptions{})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTensorsFrom(bytes.NewReader(b), int64(len(b)), "full"); err != nil {
		t.Fatalf("full file: %v", err)
	}
	for n := 0; n < len(b); n++ {
		if c, err := LoadTensorsFrom(bytes.NewReader(b[:n]), int64(n), "cut"); err == nil {
			t.Fatalf("prefix of %d/%d bytes loaded: %v", n, len(b), c.Names())
		}
	}
	// The size promises more bytes than the reader has: the header and
	// tiling checks pass against size, the data read comes up short.
	short := b[:len(b)-4]
	_, err = LoadTensorsFrom(bytes.NewReader(short), int64(len(b)), "liar")
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "liar") {
		t.Errorf("size beyond the data: error %v, want one wrapping io.ErrUnexpectedEOF naming the source", err)
	}
	if _, err := LoadTensorsFrom(nil, 10, "nil"); err == nil || !strings.Contains(err.Error(), "nil reader") {
		t.Errorf("nil reader: error %v", err)
	}
	if _, err := LoadTensorsFrom(bytes.NewReader(b), -1, "neg"); err == nil || !strings.Contains(err.Error(), "negative size") {
		t.Errorf("negative size: error %v", err)
	}
}
