package tensor

import (
	"math"
	"testing"
)

func TestBF16RoundNearestEven(t *testing.T) {
	cases := []struct {
		in   uint32 // float32 bits
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1.0 exact
		{0x3f808000, 0x3f80}, // tie, lower half even -> down
		{0x3f818000, 0x3f82}, // tie, lower half odd -> up
		{0x3f808001, 0x3f81}, // just above the tie -> up
		{0x3f807fff, 0x3f80}, // just below the tie -> down
		{0x7f7fffff, 0x7f80}, // max float32 rounds past max bf16 -> +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x00000001, 0x0000}, // smallest subnormal rounds to zero
		{0x80000000, 0x8000}, // -0 keeps its sign
	}
	for _, c := range cases {
		if got := F32ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	nan := F32ToBF16(math.Float32frombits(0x7f800001)) // signalling NaN with only a low mantissa bit
	if !math.IsNaN(float64(BF16ToF32(nan))) {
		t.Errorf("NaN converted to %#04x, not a NaN", nan)
	}
}

// TestBF16RoundTripAll checks every bfloat16 value survives f32 and back, and
// that random float32s round to the nearest bfloat16 (compared with a float64
// search over the two neighbours).
func TestBF16RoundTripAll(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := BF16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			continue
		}
		if got := F32ToBF16(f); got != uint16(h) {
			t.Fatalf("round trip of %#04x gave %#04x", h, got)
		}
	}
	r := NewRNG(1, 0)
	for i := 0; i < 100000; i++ {
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || math.Abs(float64(f)) > 3e38 {
			continue
		}
		h := F32ToBF16(f)
		lo := BF16ToF32(uint16(math.Float32bits(f) >> 16))
		hi := BF16ToF32(uint16(math.Float32bits(f)>>16) + 1)
		dl, dh := math.Abs(float64(f)-float64(lo)), math.Abs(float64(hi)-float64(f))
		want := lo
		if dh < dl || (dh == dl && uint16(math.Float32bits(f)>>16)&1 == 1) {
			want = hi
		}
		if BF16ToF32(h) != want {
			t.Fatalf("F32ToBF16(%g) = %g, want %g", f, BF16ToF32(h), want)
		}
	}
}

func TestConvertThroughCopy(t *testing.T) {
	x := RandNormal(3, 0, 10, 5, 7)
	b := x.To(CPU, BFloat16)
	if b.DType() != BFloat16 {
		t.Fatalf("dtype %v", b.DType())
	}
	back := b.To(CPU, Float32).Float32s()
	for i, v := range x.Float32s() {
		if back[i] != RoundBF16(v) {
			t.Fatalf("element %d: %g -> bf16 -> %g, want %g", i, v, back[i], RoundBF16(v))
		}
	}
	d := x.To(CPU, Float64).Float64s()
	for i, v := range x.Float32s() {
		if d[i] != float64(v) {
			t.Fatalf("float64 conversion changed element %d", i)
		}
	}
}
