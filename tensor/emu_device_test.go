package tensor

import (
	"strings"
	"testing"
)

// TestEmulatedDevice checks that ops on the emulated device give the CPU's
// bits, that results stay on the device, and that mixing devices panics.
func TestEmulatedDevice(t *testing.T) {
	emu := NewEmulatedDevice("test")
	a := RandNormal(7, 0, 1, 5, 63)
	b := RandNormal(8, 0, 1, 63, 9)
	ea, eb := a.To(emu, Float32), b.To(emu, Float32)
	want := Softmax(MatMul(a, b)).Float32s()
	got := Softmax(MatMul(ea, eb))
	if got.Device() != emu {
		t.Fatalf("result on %v, want %v", got.Device(), emu)
	}
	g := got.Float32s()
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("element %d: emulated %v, cpu %v", i, g[i], want[i])
		}
	}
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "emulated:test") {
				t.Fatalf("mixing devices: recovered %v, want a panic naming the devices", r)
			}
		}()
		Add(ea.Reshape(5, 63), a.Reshape(5, 63))
	}()
}
