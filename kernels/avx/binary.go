package avx

// Elementwise float32 arithmetic over unit-stride slices: the binary ops of
// the tensor package (a residual add, a gate's product) and the scalar ones
// (a scale, a shift). Algorithm: 8 lanes per ymm, 4 vectors per iteration
// (binary_amd64.s), a Go tail; memory-bound, so AVX2 serves the AVX-512
// level too. Every result equals the pure-Go reference (kernels/ref Binary
// and Unary) bit for bit: an IEEE single operation rounds alike in any lane,
// and Scale64 / AddScalar64 compute in float64 and round once, as the
// reference does for OpScale and OpAddScalar. Without assembly (noasm, other
// architectures, a CPU without AVX2) the Go loops run. dst may be a or b.
// Speed: go test ./kernels/avx -bench Binary.

func useBinaryAsm(n, min int) bool { return haveLevel1Asm && n >= min && Current() >= AVX2 }

// vecKernel and scalarKernel are the assembly's signatures; each covers the
// leading multiple of its block (8 floats, the float64 ones 4) of n.
type (
	vecKernel    func(n int, dst, a, b *float32)
	scalarKernel func(n int, dst, a *float32, s float32)
	wideKernel   func(n int, dst, a *float32, p float64)
)

// vec runs kern over the blocks of dst = a op b and op over the tail.
func vec(dst, a, b []float32, kern vecKernel, op func(x, y float32) float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		kern(i, &dst[0], &a[0], &b[0])
	}
	for ; i < n; i++ {
		dst[i] = op(a[i], b[i])
	}
}

// scalar is vec with a scalar second operand.
func scalar(dst, a []float32, s float32, kern scalarKernel, op func(x, y float32) float32) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		kern(i, &dst[0], &a[0], s)
	}
	for ; i < n; i++ {
		dst[i] = op(a[i], s)
	}
}

// wide is scalar for a float64 parameter, in blocks of 4.
func wide(dst, a []float32, p float64, kern wideKernel, op func(x, p float64) float64) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 4) {
		i = n &^ 3
		kern(i, &dst[0], &a[0], p)
	}
	for ; i < n; i++ {
		dst[i] = float32(op(float64(a[i]), p))
	}
}

func add(x, y float32) float32 { return x + y }
func sub(x, y float32) float32 { return x - y }
func mul(x, y float32) float32 { return x * y }

// Add sets dst[i] = a[i] + b[i] over len(dst) (a and b at least as long).
func Add(dst, a, b []float32) { vec(dst, a, b, addAVX2, add) }

// Sub sets dst[i] = a[i] - b[i] over len(dst).
func Sub(dst, a, b []float32) { vec(dst, a, b, subAVX2, sub) }

// Mul sets dst[i] = a[i] * b[i] over len(dst).
func Mul(dst, a, b []float32) { vec(dst, a, b, mulAVX2, mul) }

// AddScalar sets dst[i] = a[i] + s over len(dst).
func AddScalar(dst, a []float32, s float32) { scalar(dst, a, s, addScalarAVX2, add) }

// SubScalar sets dst[i] = a[i] - s over len(dst).
func SubScalar(dst, a []float32, s float32) { scalar(dst, a, s, subScalarAVX2, sub) }

// MulScalar sets dst[i] = a[i] * s over len(dst).
func MulScalar(dst, a []float32, s float32) { scalar(dst, a, s, mulScalarAVX2, mul) }

// Scale64 sets dst[i] = float32(p * float64(a[i])) over len(dst): the
// product in float64, rounded once (p need not be a float32).
func Scale64(dst, a []float32, p float64) {
	wide(dst, a, p, scale64AVX2, func(x, p float64) float64 { return p * x })
}

// AddScalar64 sets dst[i] = float32(float64(a[i]) + p) over len(dst).
func AddScalar64(dst, a []float32, p float64) {
	wide(dst, a, p, addScalar64AVX2, func(x, p float64) float64 { return x + p })
}
