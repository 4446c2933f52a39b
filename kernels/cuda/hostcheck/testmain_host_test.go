//go:build hostcheck

// The test helpers of testmain_test.go (the lead's), for the emulator: run.sh
// copies this file, untagged, in place of that one.

package cuda

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"
)

// The tagged tests run on the GPU machine only (gorgonia.org/cu exits the
// process at init without a GPU, so these binaries are compiled in CI and
// carried to the GPU to run).

var (
	rtOnce sync.Once
	rtErr  error
	rtVal  *Runtime
)

// testRuntime returns the runtime on device 0, opened once per test binary.
func testRuntime(t testing.TB) *Runtime {
	t.Helper()
	rtOnce.Do(func() { rtVal, rtErr = Open(0) })
	if rtErr != nil {
		t.Fatalf("opening CUDA device 0: %v", rtErr)
	}
	return rtVal
}

func upload(t testing.TB, r *Runtime, x []float32) Ptr {
	t.Helper()
	p, err := r.Alloc(int64(4 * max(len(x), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) > 0 {
		if err := r.Upload(p, unsafe.Pointer(&x[0]), int64(4*len(x))); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func uploadBF16(t testing.TB, r *Runtime, x []uint16) Ptr {
	t.Helper()
	p, err := r.Alloc(int64(2 * max(len(x), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) > 0 {
		if err := r.Upload(p, unsafe.Pointer(&x[0]), int64(2*len(x))); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func download(t testing.TB, r *Runtime, p Ptr, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if n > 0 {
		if err := r.Download(unsafe.Pointer(&out[0]), p, int64(4*n)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func downloadBF16(t testing.TB, r *Runtime, p Ptr, n int) []uint16 {
	t.Helper()
	out := make([]uint16, n)
	if n > 0 {
		if err := r.Download(unsafe.Pointer(&out[0]), p, int64(2*n)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// poisoned allocates n float32 filled with NaN, so that an element a kernel
// forgets to write fails the comparison.
func poisoned(t testing.TB, r *Runtime, n int) Ptr {
	t.Helper()
	p, err := r.Alloc(int64(4 * max(n, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Memset32(p, math.Float32bits(float32(math.NaN())), int64(max(n, 1))); err != nil {
		t.Fatal(err)
	}
	return p
}

// randn returns n normal float32 values from a seeded generator.
func randn(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// freeAll returns test buffers to the allocator.
func freeAll(t testing.TB, r *Runtime, ps ...Ptr) {
	t.Helper()
	for _, p := range ps {
		if p != 0 {
			if err := r.Free(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// bf16RNE is the reference rounding (as tensor.BF16FromFloat32).
func bf16RNE(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
