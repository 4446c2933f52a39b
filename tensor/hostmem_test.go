package tensor

import (
	"runtime"
	"testing"
	"time"
)

// TestHostMemCounts: with accounting on, an allocation is counted at its class size from Alloc
// to Release, the peak keeps the high-water mark until reset, and a tensor
// dropped without Release is uncounted once the collector reclaims it.
func TestHostMemCounts(t *testing.T) {
	was := SetHostMemAccounting(false)
	defer SetHostMemAccounting(was)
	off := New(CPU, Float32, 1000) // allocated with accounting off: never counted
	SetHostMemAccounting(true)
	const n = 1000 // class 1024: 4096 bytes of float32
	classBytes := 4 * int64(sizeClass(n))
	base := HostMem().InUse
	ResetHostPeakMem()

	a := New(CPU, Float32, n)
	b := New(CPU, Float64, n)
	if got, want := HostMem().InUse-base, classBytes+2*classBytes; got != want {
		t.Errorf("in use after two allocations: +%d bytes, want +%d", got, want)
	}
	b.Release()
	b.Release() // a second Release must not subtract again
	if got := HostMem().InUse - base; got != classBytes {
		t.Errorf("in use after releasing the float64 tensor: +%d bytes, want +%d", got, classBytes)
	}
	if got, want := HostMem().PeakInUse-base, 3*classBytes; got != want {
		t.Errorf("peak: +%d bytes, want +%d", got, want)
	}
	ResetHostPeakMem()
	if got := HostMem().PeakInUse - base; got != classBytes {
		t.Errorf("peak after reset: +%d bytes, want the %d in use", got, classBytes)
	}
	h := New(CPU, BFloat16, n)
	if got, want := HostMem().InUse-base, classBytes+2*int64(n); got != want {
		t.Errorf("in use with a bf16 tensor: +%d bytes, want +%d", got, want)
	}
	h.Release()
	a.Release()
	off.Release()
	if got := HostMem().InUse - base; got != 0 {
		t.Errorf("in use after releasing everything: %+d bytes, want 0", got)
	}

	SetHostMemAccounting(false)
	c := New(CPU, Float32, n)
	if got := HostMem().InUse - base; got != 0 {
		t.Errorf("an allocation with accounting off counted %+d bytes", got)
	}
	c.Release()
	SetHostMemAccounting(true)

	// Dropped without Release: the runtime cleanup uncounts it after a GC
	// (cleanups run asynchronously, so poll).
	func() { _ = New(CPU, Float32, n) }()
	deadline := time.Now().Add(10 * time.Second)
	for HostMem().InUse-base != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a dropped tensor is still counted (+%d bytes) after 10 s of collections", HostMem().InUse-base)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
