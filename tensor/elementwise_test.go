package tensor

import (
	"fmt"
	"math"
	"testing"
)

// Tests of the elementwise CPU kernels (cpu_elementwise.go, kernels/ref)
// against float64 loops written here. Shared helpers (prefix ewt) are also
// used by reduce_test.go, index_test.go and optim_test.go.
//
// Tolerances: Binary, Where and the exact unary ops (Neg, ReLU, Square, Abs,
// clamps, Scale, AddScalar) must match the float64 reference rounded to the
// dtype bit for bit: a float32 Add/Sub/Mul/Div is correctly rounded, Pow and
// the scalar ops are computed in float64 and rounded once. Transcendental
// unary ops and the derivatives are compared with independently written
// formulas with a relative tolerance of 4 ulp (float32: 4*2^-24, float64:
// 64*2^-52 since the libm routines and formula rearrangements differ by a
// few ulp) plus an absolute floor of the same size near zero.

var ewtDTypes = []DType{Float32, Float64}

// ewtRand returns a contiguous tensor of N(0, 1) values drawn in dtype dt.
func ewtRand(dt DType, seed uint64, shape ...int) *Tensor {
	x := New(CPU, dt, shape...)
	x.Backend().RandNormal(x, seed, 0, 0, 1)
	return x
}

// ewtPoison returns a contiguous tensor full of NaN: a kernel that must
// overwrite its output cannot leave any of it behind unnoticed.
func ewtPoison(dt DType, shape ...int) *Tensor {
	x := New(CPU, dt, shape...)
	x.Backend().Fill(x, math.NaN())
	return x
}

// ewtApply applies f to every element of the contiguous tensor x.
func ewtApply(x *Tensor, f func(float64) float64) {
	if f == nil {
		return
	}
	if x.DType() == Float64 {
		d := x.F64Data()
		for i, v := range d {
			d[i] = f(v)
		}
		return
	}
	d := x.F32Data()
	for i, v := range d {
		d[i] = float32(f(float64(v)))
	}
}

// Operand layouts: the same logical values stored four ways.
const (
	ewtContig   = iota // row-major
	ewtPermuted        // stored with the axes reversed, permuted back
	ewtSliced          // a window (offset, gaps between rows) of a larger tensor
	ewtStride2         // every other element of a tensor with a doubled last axis
	ewtLayouts
)

var ewtLayoutNames = [...]string{"contig", "permuted", "sliced", "stride2"}

// ewtOperand returns a tensor of the given logical shape and layout holding
// random values transformed by f (nil for none).
func ewtOperand(dt DType, seed uint64, shape Shape, layout int, f func(float64) float64) *Tensor {
	r := len(shape)
	switch layout {
	case ewtPermuted:
		rev := make([]int, r)
		perm := make([]int, r)
		for i := range shape {
			rev[i] = shape[r-1-i]
			perm[i] = r - 1 - i
		}
		base := ewtRand(dt, seed, rev...)
		ewtApply(base, f)
		return base.Permute(perm...)
	case ewtSliced:
		big := make([]int, r)
		for i, d := range shape {
			big[i] = d + 2
		}
		base := ewtRand(dt, seed, big...)
		ewtApply(base, f)
		x := base
		for i, d := range shape {
			x = x.Slice(i, 1, 1+d)
		}
		return x
	case ewtStride2:
		base := ewtRand(dt, seed, append(shape.Clone(), 2)...)
		ewtApply(base, f)
		return base.Select(-1, 1)
	}
	base := ewtRand(dt, seed, shape...)
	ewtApply(base, f)
	return base
}

// ewtValues returns the logical elements of x in row-major order, read
// straight from the storage through x's strides (independent of Copy).
func ewtValues(x *Tensor) []float64 {
	raw := x.Device().Download(x.Storage(), 0, x.Storage().Len())
	out := make([]float64, x.Numel())
	ewtForEach(x.Shape(), func(i int, idx []int) {
		off := x.Offset()
		for k, v := range idx {
			off += v * x.Strides()[k]
		}
		switch r := raw.(type) {
		case []float32:
			out[i] = float64(r[off])
		case []float64:
			out[i] = r[off]
		}
	})
	return out
}

// ewtForEach calls fn for every index of shape in row-major order.
func ewtForEach(shape Shape, fn func(i int, idx []int)) {
	n := shape.Numel()
	idx := make([]int, len(shape))
	for i := 0; i < n; i++ {
		fn(i, idx)
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
}

// ewtBcast returns the element of vals (row-major, shape in) that output
// index idx reads under numpy broadcasting.
func ewtBcast(vals []float64, in Shape, idx []int) float64 {
	lead := len(idx) - len(in)
	flat := 0
	for k, d := range in {
		i := idx[lead+k]
		if d == 1 {
			i = 0
		}
		flat = flat*d + i
	}
	return vals[flat]
}

// ewtRound rounds v to dtype dt.
func ewtRound(dt DType, v float64) float64 {
	if dt == Float32 {
		return float64(float32(v))
	}
	return v
}

// ewtUlp is the unit roundoff of dt.
func ewtUlp(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-24
	}
	return 0x1p-52
}

// ewtExact fails unless got equals want rounded to dt, element by element
// (two NaNs count as equal).
func ewtExact(t *testing.T, what string, dt DType, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		w := ewtRound(dt, want[i])
		if got[i] != w && !(math.IsNaN(got[i]) && math.IsNaN(w)) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], w)
		}
	}
}

// ewtClose fails unless |got-want| <= tol*max(|want|, 1) for every element.
func ewtClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.IsNaN(got[i]) && math.IsNaN(want[i]) {
			continue
		}
		if !(math.Abs(got[i]-want[i]) <= tol*max(math.Abs(want[i]), 1)) {
			t.Fatalf("%s: element %d = %v, want %v (tolerance %g)", what, i, got[i], want[i], tol)
		}
	}
}

// ewtSameBits runs f with 1 and with 2 workers and fails unless every
// returned tensor is bit-identical between the runs.
func ewtSameBits(t *testing.T, what string, f func() []*Tensor) {
	t.Helper()
	old := SetWorkers(1)
	defer SetWorkers(old)
	one := f()
	SetWorkers(2)
	two := f()
	for i := range one {
		a, b := ewtValues(one[i]), ewtValues(two[i])
		for j := range a {
			if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
				t.Fatalf("%s: output %d element %d: %v with 1 worker, %v with 2", what, i, j, a[j], b[j])
			}
		}
	}
}

var ewtBinaryNames = [...]string{"Add", "Sub", "Mul", "Div", "Maximum", "Minimum", "Eq", "Pow"}

// ewtBinaryRef is the float64 meaning of each binary op, written out here.
func ewtBinaryRef(op BinaryOp, x, y float64) float64 {
	switch op {
	case OpAdd:
		return x + y
	case OpSub:
		return x - y
	case OpMul:
		return x * y
	case OpDiv:
		return x / y
	case OpMaximum:
		if x > y {
			return x
		}
		return y
	case OpMinimum:
		if x < y {
			return x
		}
		return y
	case OpEq:
		if x == y {
			return 1
		}
		return 0
	case OpPow:
		return math.Pow(x, y)
	}
	panic("unknown op")
}

// ewtBinaryDomain returns the transforms that keep an op's operands in a
// useful range: positive bases for Pow, denominators away from 0 for Div,
// small integers for Eq so that equal pairs occur often.
func ewtBinaryDomain(op BinaryOp) (fa, fb func(float64) float64) {
	switch op {
	case OpDiv:
		return nil, func(v float64) float64 { return math.Copysign(math.Abs(v)+0.25, v) }
	case OpPow:
		return func(v float64) float64 { return math.Abs(v) + 0.1 }, func(v float64) float64 { return 2 * v }
	case OpEq:
		r := func(v float64) float64 { return math.Round(2 * v) }
		return r, r
	}
	return nil, nil
}

// ewtBinaryShapes are operand shape pairs: equal shapes, scalars on either
// side, broadcasting in both directions and over middle axes.
var ewtBinaryShapes = [][2]Shape{
	{{}, {}},
	{{1}, {1}},
	{{7}, {7}},
	{{1000}, {1000}},
	{{}, {63}},
	{{63}, {}},
	{{3, 1, 5}, {4, 5}},
	{{4, 5}, {3, 1, 5}},
	{{7, 63}, {63}},
	{{7, 63}, {7, 1}},
	{{2, 3, 4, 5}, {2, 1, 4, 1}},
	{{1, 3, 1, 5}, {2, 1, 4, 5}},
	{{5, 1, 2, 7}, {5, 3, 2, 7}},
}

// TestBinaryAllOpsShapesLayouts checks every binary op against the float64
// loop for broadcast shape pairs and all operand layouts, writing into a
// poisoned output through the backend and through the op wrappers.
func TestBinaryAllOpsShapesLayouts(t *testing.T) {
	wrappers := [...]func(a, b *Tensor) *Tensor{Add, Sub, Mul, Div, Maximum, Minimum, Eq, Pow}
	for _, dt := range ewtDTypes {
		for op := OpAdd; op <= OpPow; op++ {
			fa, fb := ewtBinaryDomain(op)
			for si, sp := range ewtBinaryShapes {
				for la := 0; la < ewtLayouts; la++ {
					lb := (la + si) % ewtLayouts
					name := fmt.Sprintf("%v %s %v(%s) %v(%s)", dt, ewtBinaryNames[op], sp[0], ewtLayoutNames[la], sp[1], ewtLayoutNames[lb])
					a := ewtOperand(dt, uint64(10+si), sp[0], la, fa)
					b := ewtOperand(dt, uint64(50+si), sp[1], lb, fb)
					out, err := BroadcastShapes(sp[0], sp[1])
					if err != nil {
						t.Fatal(err)
					}
					av, bv := ewtValues(a), ewtValues(b)
					want := make([]float64, out.Numel())
					ewtForEach(out, func(i int, idx []int) {
						want[i] = ewtBinaryRef(op, ewtBcast(av, sp[0], idx), ewtBcast(bv, sp[1], idx))
					})
					dst := ewtPoison(dt, out...)
					CPU.Backend().Binary(op, dst, a.Expand(out...), b.Expand(out...))
					ewtExact(t, name, dt, ewtValues(dst), want)
					got := wrappers[op](a, b)
					if !got.Shape().Equal(out) {
						t.Fatalf("%s: wrapper shape %v, want %v", name, got.Shape(), out)
					}
					ewtExact(t, name+" (wrapper)", dt, ewtValues(got), want)
				}
			}
		}
	}
}

// TestBinarySpecialValues pins down NaN and signed-zero behaviour.
func TestBinarySpecialValues(t *testing.T) {
	nan := math.NaN()
	a := FromFloat64s([]float64{nan, 1, 2, 0}, 4)
	b := FromFloat64s([]float64{1, nan, 2, 0}, 4)
	for _, c := range []struct {
		f    func(a, b *Tensor) *Tensor
		name string
		want []float64
	}{
		{Maximum, "Maximum", []float64{nan, nan, 2, 0}},
		{Minimum, "Minimum", []float64{nan, nan, 2, 0}},
		{Eq, "Eq", []float64{0, 0, 1, 1}},
	} {
		ewtExact(t, c.name, Float64, c.f(a, b).Float64s(), c.want)
	}
}

// TestBinaryWorkersBitIdentical runs large broadcast and strided binary ops
// with 1 and 2 workers.
func TestBinaryWorkersBitIdentical(t *testing.T) {
	for _, dt := range ewtDTypes {
		a := ewtOperand(dt, 1, Shape{300, 257}, ewtPermuted, nil)
		b := ewtOperand(dt, 2, Shape{257}, ewtContig, nil)
		c := ewtOperand(dt, 3, Shape{300, 1}, ewtStride2, nil)
		d := ewtOperand(dt, 4, Shape{300, 257}, ewtContig, nil)
		ewtSameBits(t, fmt.Sprint(dt, " binary"), func() []*Tensor {
			return []*Tensor{Add(a, b), Div(b, c), Pow(Abs(a), c), Mul(a, d), Sub(d, b)}
		})
	}
}

var ewtUnaryNames = [...]string{"Neg", "Exp", "Log", "Tanh", "Sigmoid", "SiLU", "ReLU", "GELUTanh", "GELUErf",
	"Sqrt", "Square", "Abs", "Scale", "AddScalar", "PowScalar", "ClampMin", "ClampMax"}

// ewtUnaryCase is a unary op with its parameter, input domain and float64
// reference (written independently of the kernel where a second form
// exists: sigmoid through tanh, GELU-erf through erfc).
type ewtUnaryCase struct {
	op     UnaryOp
	p      float64
	domain func(float64) float64
	f      func(x, p float64) float64
	exact  bool // the kernel result must equal f rounded to the dtype
}

func ewtSigmoidRef(x float64) float64 { return 0.5 * (1 + math.Tanh(0.5*x)) }

var ewtUnaryCases = []ewtUnaryCase{
	{OpNeg, 0, nil, func(x, _ float64) float64 { return -x }, true},
	{OpExp, 0, nil, func(x, _ float64) float64 { return math.Exp(x) }, false},
	{OpLog, 0, func(v float64) float64 { return math.Abs(v) + 0.05 }, func(x, _ float64) float64 { return math.Log(x) }, false},
	{OpTanh, 0, nil, func(x, _ float64) float64 { return math.Tanh(x) }, false},
	{OpSigmoid, 0, nil, func(x, _ float64) float64 { return ewtSigmoidRef(x) }, false},
	{OpSiLU, 0, nil, func(x, _ float64) float64 { return x * ewtSigmoidRef(x) }, false},
	{OpReLU, 0, nil, func(x, _ float64) float64 { return math.Max(x, 0) }, true},
	{OpGELUTanh, 0, func(v float64) float64 { return 3 * v }, func(x, _ float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}, false},
	{OpGELUErf, 0, func(v float64) float64 { return 3 * v }, func(x, _ float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, false},
	{OpSqrt, 0, func(v float64) float64 { return math.Abs(v) }, func(x, _ float64) float64 { return math.Sqrt(x) }, true},
	{OpSquare, 0, nil, func(x, _ float64) float64 { return x * x }, true},
	{OpAbs, 0, nil, func(x, _ float64) float64 { return math.Abs(x) }, true},
	{OpScale, -0.3, nil, func(x, p float64) float64 { return p * x }, true},
	{OpAddScalar, 0.7, nil, func(x, p float64) float64 { return x + p }, true},
	{OpPowScalar, 1.7, func(v float64) float64 { return math.Abs(v) + 0.05 }, func(x, p float64) float64 { return math.Pow(x, p) }, true},
	{OpPowScalar, -2, func(v float64) float64 { return math.Abs(v) + 0.2 }, func(x, p float64) float64 { return 1 / (x * x) }, false},
	{OpClampMin, -0.25, nil, func(x, p float64) float64 { return math.Max(x, p) }, true},
	{OpClampMax, 0.4, nil, func(x, p float64) float64 { return math.Min(x, p) }, true},
}

func (c ewtUnaryCase) tol(dt DType) float64 {
	if dt == Float32 {
		return 4 * ewtUlp(dt)
	}
	return 64 * ewtUlp(dt)
}

var ewtUnaryShapes = []Shape{{}, {1}, {7}, {63}, {1000}, {7, 63}, {3, 1, 5}, {2, 3, 4, 5}}

// TestUnaryAllOps checks every unary op for every shape and input layout,
// into a poisoned output.
func TestUnaryAllOps(t *testing.T) {
	for _, dt := range ewtDTypes {
		for ci, c := range ewtUnaryCases {
			for si, s := range ewtUnaryShapes {
				layout := (ci + si) % ewtLayouts
				name := fmt.Sprintf("%v %s(p=%g) %v %s", dt, ewtUnaryNames[c.op], c.p, s, ewtLayoutNames[layout])
				a := ewtOperand(dt, uint64(100+si), s, layout, c.domain)
				av := ewtValues(a)
				want := make([]float64, len(av))
				for i, x := range av {
					want[i] = c.f(x, c.p)
				}
				dst := ewtPoison(dt, s...)
				CPU.Backend().Unary(c.op, dst, a, c.p)
				if c.exact {
					ewtExact(t, name, dt, ewtValues(dst), want)
				} else {
					ewtClose(t, name, ewtValues(dst), want, c.tol(dt))
				}
				ewtExact(t, name+" (wrapper)", dt, Unary(c.op, a, c.p).Float64s(), ewtValues(dst))
			}
		}
	}
}

// TestUnaryNamedWrappers checks that each named wrapper runs its own op.
func TestUnaryNamedWrappers(t *testing.T) {
	x := ewtOperand(Float64, 7, Shape{63}, ewtContig, func(v float64) float64 { return math.Abs(v) + 0.1 })
	named := map[UnaryOp]*Tensor{
		OpNeg: Neg(x), OpExp: Exp(x), OpLog: Log(x), OpTanh: Tanh(x), OpSigmoid: Sigmoid(x), OpSiLU: SiLU(x),
		OpReLU: ReLU(x), OpGELUTanh: GELUTanh(x), OpGELUErf: GELUErf(x), OpSqrt: Sqrt(x), OpSquare: Square(x),
		OpAbs: Abs(x), OpScale: Scale(x, 1.5), OpAddScalar: AddScalar(x, 1.5), OpPowScalar: PowScalar(x, 1.5),
		OpClampMin: ClampMin(x, 1.5), OpClampMax: ClampMax(x, 1.5),
	}
	for op, got := range named {
		want := Unary(op, x, 1.5)
		ewtExact(t, ewtUnaryNames[op], Float64, got.Float64s(), want.Float64s())
	}
}

// ewtGradRef is the derivative of each op written out here; y is the
// forward value.
func ewtGradRef(op UnaryOp, x, y, p float64) float64 {
	switch op {
	case OpNeg:
		return -1
	case OpExp:
		return math.Exp(x)
	case OpLog:
		return 1 / x
	case OpTanh:
		c := math.Cosh(x)
		return 1 / (c * c)
	case OpSigmoid:
		s := ewtSigmoidRef(x)
		return s * (1 - s)
	case OpSiLU:
		s := ewtSigmoidRef(x)
		return s + x*s*(1-s)
	case OpReLU:
		if x > 0 {
			return 1
		}
		return 0
	case OpGELUTanh:
		c := math.Sqrt(2 / math.Pi)
		u := c * (x + 0.044715*x*x*x)
		sech := 1 / math.Cosh(u)
		return 0.5*(1+math.Tanh(u)) + 0.5*x*sech*sech*c*(1+3*0.044715*x*x)
	case OpGELUErf:
		return 0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
	case OpSqrt:
		return 0.5 / math.Sqrt(x)
	case OpSquare:
		return 2 * x
	case OpAbs:
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	case OpScale:
		return p
	case OpAddScalar:
		return 1
	case OpPowScalar:
		return p * math.Pow(x, p-1)
	case OpClampMin:
		if x >= p {
			return 1
		}
		return 0
	case OpClampMax:
		if x <= p {
			return 1
		}
		return 0
	}
	panic("unknown op")
}

// TestUnaryGradAllOps checks dx = dy*op'(x) for every op, with x, y and dy
// in different layouts, against the derivatives written above.
func TestUnaryGradAllOps(t *testing.T) {
	for _, dt := range ewtDTypes {
		for ci, c := range ewtUnaryCases {
			for si, s := range ewtUnaryShapes {
				lx, ly, ldy := (ci+si)%ewtLayouts, (ci+si+1)%ewtLayouts, (ci+2*si)%ewtLayouts
				name := fmt.Sprintf("%v %s'(p=%g) %v x:%s y:%s dy:%s", dt, ewtUnaryNames[c.op], c.p, s,
					ewtLayoutNames[lx], ewtLayoutNames[ly], ewtLayoutNames[ldy])
				x := ewtOperand(dt, uint64(200+si), s, lx, c.domain)
				dy := ewtOperand(dt, uint64(300+si), s, ldy, nil)
				y := ewtOperand(dt, 0, s, ly, nil)
				y.CopyFrom(Unary(c.op, x, c.p))
				xv, yv, dyv := ewtValues(x), ewtValues(y), ewtValues(dy)
				want := make([]float64, len(xv))
				for i := range xv {
					want[i] = dyv[i] * ewtGradRef(c.op, xv[i], yv[i], c.p)
				}
				dx := ewtPoison(dt, s...)
				CPU.Backend().UnaryGrad(c.op, dx, x, y, dy, c.p)
				// The kernel reuses y (rounded to the dtype) where the
				// reference recomputes from x: allow for the rounding of y.
				tol := 4 * ewtUlp(dt)
				if dt == Float64 {
					tol = 64 * ewtUlp(dt)
				}
				if dt == Float32 && (c.op == OpExp || c.op == OpTanh || c.op == OpSigmoid || c.op == OpSqrt) {
					tol = 2e-6 // 1-y^2 and y(1-y) amplify y's rounding where y is near ±1
				}
				ewtClose(t, name, ewtValues(dx), want, tol)
				ewtExact(t, name+" (wrapper)", dt, UnaryGrad(c.op, x, y, dy, c.p).Float64s(), ewtValues(dx))
			}
		}
	}
}

// TestUnaryGradFiniteDifferences checks each float64 derivative kernel
// against central differences of the forward kernel, away from kinks.
func TestUnaryGradFiniteDifferences(t *testing.T) {
	const h = 1e-5
	for _, c := range ewtUnaryCases {
		x := ewtOperand(Float64, 400, Shape{63}, ewtContig, c.domain)
		xd := x.F64Data()
		for i, v := range xd {
			if math.Abs(v) < 0.01 || math.Abs(v-c.p) < 0.01 { // keep clear of the kinks at 0 and p
				xd[i] = v + 0.05
			}
		}
		y := Unary(c.op, x, c.p)
		ones := FromFloat64s(make([]float64, 63), 63)
		ones.Backend().Fill(ones, 1)
		g := UnaryGrad(c.op, x, y, ones, c.p).Float64s()
		fp := Unary(c.op, AddScalar(x, h), c.p).Float64s()
		fm := Unary(c.op, AddScalar(x, -h), c.p).Float64s()
		for i := range g {
			fd := (fp[i] - fm[i]) / (2 * h)
			if math.Abs(fd-g[i]) > 1e-6*max(1, math.Abs(fd)) {
				t.Fatalf("%s(p=%g) at x=%v: kernel derivative %v, finite difference %v", ewtUnaryNames[c.op], c.p, xd[i], g[i], fd)
			}
		}
	}
}

// TestUnaryGradKinks pins the subgradient conventions at the kinks.
func TestUnaryGradKinks(t *testing.T) {
	x := FromFloat64s([]float64{-1, 0, 1, 0.5}, 4)
	dy := FromFloat64s([]float64{3, 3, 3, 3}, 4)
	for _, c := range []struct {
		op   UnaryOp
		p    float64
		want []float64
	}{
		{OpReLU, 0, []float64{0, 0, 3, 3}},
		{OpAbs, 0, []float64{-3, 0, 3, 3}},
		{OpClampMin, 0.5, []float64{0, 0, 3, 3}},
		{OpClampMax, 0.5, []float64{3, 3, 0, 3}},
		{OpPowScalar, 0, []float64{0, 0, 0, 0}},
	} {
		y := Unary(c.op, x, c.p)
		ewtExact(t, ewtUnaryNames[c.op], Float64, UnaryGrad(c.op, x, y, dy, c.p).Float64s(), c.want)
	}
}

// TestUnaryWorkersBitIdentical runs large strided unary ops and gradients
// with 1 and 2 workers.
func TestUnaryWorkersBitIdentical(t *testing.T) {
	for _, dt := range ewtDTypes {
		x := ewtOperand(dt, 5, Shape{300, 257}, ewtPermuted, nil)
		dy := ewtOperand(dt, 6, Shape{300, 257}, ewtStride2, nil)
		ewtSameBits(t, fmt.Sprint(dt, " unary"), func() []*Tensor {
			y := GELUTanh(x)
			s := Sigmoid(x)
			return []*Tensor{y, s, Exp(x), UnaryGrad(OpGELUTanh, x, y, dy, 0), UnaryGrad(OpSigmoid, x, s, dy, 0)}
		})
	}
}

// TestWhereAndMaskedFill checks Where with broadcast, strided operands into a
// poisoned output and MaskedFill end to end.
func TestWhereAndMaskedFill(t *testing.T) {
	mask01 := func(v float64) float64 {
		if v > 0.3 {
			return 1
		}
		return 0
	}
	shapes := [][3]Shape{
		{{7}, {7}, {7}},
		{{}, {63}, {}},
		{{3, 1, 5}, {4, 5}, {3, 4, 1}},
		{{2, 1, 4, 1}, {2, 3, 4, 5}, {5}},
		{{1000}, {1}, {1000}},
	}
	for _, dt := range ewtDTypes {
		for si, s := range shapes {
			for l := 0; l < ewtLayouts; l++ {
				name := fmt.Sprintf("%v Where %v %v %v layout %s", dt, s[0], s[1], s[2], ewtLayoutNames[l])
				c := ewtOperand(dt, uint64(500+si), s[0], l, mask01)
				a := ewtOperand(dt, uint64(600+si), s[1], (l+1)%ewtLayouts, nil)
				b := ewtOperand(dt, uint64(700+si), s[2], (l+2)%ewtLayouts, nil)
				out, _ := BroadcastShapes(s[0], s[1])
				out, _ = BroadcastShapes(out, s[2])
				cv, av, bv := ewtValues(c), ewtValues(a), ewtValues(b)
				want := make([]float64, out.Numel())
				ewtForEach(out, func(i int, idx []int) {
					if ewtBcast(cv, s[0], idx) != 0 {
						want[i] = ewtBcast(av, s[1], idx)
					} else {
						want[i] = ewtBcast(bv, s[2], idx)
					}
				})
				dst := ewtPoison(dt, out...)
				CPU.Backend().Where(dst, c.Expand(out...), a.Expand(out...), b.Expand(out...))
				ewtExact(t, name, dt, ewtValues(dst), want)
				ewtExact(t, name+" (wrapper)", dt, Where(c, a, b).Float64s(), want)
			}
		}
		// MaskedFill: mask [3,1,5] over a [2,3,4,5] (permuted).
		a := ewtOperand(dt, 800, Shape{2, 3, 4, 5}, ewtPermuted, nil)
		m := ewtOperand(dt, 801, Shape{3, 1, 5}, ewtContig, mask01)
		av, mv := ewtValues(a), ewtValues(m)
		want := make([]float64, len(av))
		ewtForEach(a.Shape(), func(i int, idx []int) {
			want[i] = av[i]
			if ewtBcast(mv, m.Shape(), idx) != 0 {
				want[i] = -1e9
			}
		})
		got := MaskedFill(a, m, -1e9)
		if !got.Shape().Equal(a.Shape()) {
			t.Fatalf("MaskedFill shape %v", got.Shape())
		}
		ewtExact(t, fmt.Sprint(dt, " MaskedFill"), dt, got.Float64s(), want)
	}
}

// TestElementwiseShapePanics checks that the wrappers reject mismatched
// shapes with a message naming the op and both shapes.
func TestElementwiseShapePanics(t *testing.T) {
	a, b := Zeros(3, 4), Zeros(5)
	wrappers := [...]func(a, b *Tensor) *Tensor{Add, Sub, Mul, Div, Maximum, Minimum, Eq, Pow}
	for op, f := range wrappers {
		expectPanic(t, []string{ewtBinaryNames[op], "[3 4]", "[5]"}, func() { f(a, b) })
	}
	expectPanic(t, []string{"Where", "[3 4]", "[5]", "[1]"}, func() { Where(a, b, Zeros(1)) })
	expectPanic(t, []string{"UnaryGrad", "[3 4]", "[5]"}, func() { UnaryGrad(OpExp, a, a, b, 0) })
	expectPanic(t, []string{"MaskedFill", "[5]", "[3 4]"}, func() { MaskedFill(a, b, 0) })
	expectPanic(t, []string{"MaskedFill", "[3 4]", "[3 1]"}, func() { MaskedFill(Zeros(3, 1), a, 0) })
	expectPanic(t, []string{"Add", "float32", "float64"}, func() { Add(a, New(CPU, Float64, 3, 4)) })
}
