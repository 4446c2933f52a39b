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

// Add sets dst[i] = a[i] + b[i] over len(dst) (a and b at least as long).
func Add(dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		addAVX2(i, &dst[0], &a[0], &b[0])
	}
	for ; i < n; i++ {
		dst[i] = a[i] + b[i]
	}
}

// Sub sets dst[i] = a[i] - b[i] over len(dst).
func Sub(dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		subAVX2(i, &dst[0], &a[0], &b[0])
	}
	for ; i < n; i++ {
		dst[i] = a[i] - b[i]
	}
}

// Mul sets dst[i] = a[i] * b[i] over len(dst).
func Mul(dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		mulAVX2(i, &dst[0], &a[0], &b[0])
	}
	for ; i < n; i++ {
		dst[i] = a[i] * b[i]
	}
}

// AddScalar sets dst[i] = a[i] + s over len(dst).
func AddScalar(dst, a []float32, s float32) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		addScalarAVX2(i, &dst[0], &a[0], s)
	}
	for ; i < n; i++ {
		dst[i] = a[i] + s
	}
}

// SubScalar sets dst[i] = a[i] - s over len(dst).
func SubScalar(dst, a []float32, s float32) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		subScalarAVX2(i, &dst[0], &a[0], s)
	}
	for ; i < n; i++ {
		dst[i] = a[i] - s
	}
}

// MulScalar sets dst[i] = a[i] * s over len(dst).
func MulScalar(dst, a []float32, s float32) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 8) {
		i = n &^ 7
		mulScalarAVX2(i, &dst[0], &a[0], s)
	}
	for ; i < n; i++ {
		dst[i] = a[i] * s
	}
}

// Scale64 sets dst[i] = float32(p * float64(a[i])) over len(dst): the
// product in float64, rounded once (p need not be a float32).
func Scale64(dst, a []float32, p float64) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 4) {
		i = n &^ 3
		scale64AVX2(i, &dst[0], &a[0], p)
	}
	for ; i < n; i++ {
		dst[i] = float32(p * float64(a[i]))
	}
}

// AddScalar64 sets dst[i] = float32(float64(a[i]) + p) over len(dst).
func AddScalar64(dst, a []float32, p float64) {
	n := len(dst)
	a = a[:n]
	i := 0
	if useBinaryAsm(n, 4) {
		i = n &^ 3
		addScalar64AVX2(i, &dst[0], &a[0], p)
	}
	for ; i < n; i++ {
		dst[i] = float32(float64(a[i]) + p)
	}
}
