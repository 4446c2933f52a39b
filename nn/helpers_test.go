package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// Shared test helpers: random tensors, host (plain Go, float64) reference
// computations and comparisons.

var dtypes = []tensor.DType{tensor.Float32, tensor.Float64}

// tolFor is the tolerance of a float32 or float64 comparison against a
// float64 host reference: float32 keeps ~7 digits, and the values compared
// here are sums of up to a few hundred O(1) terms.
func tolFor(dt tensor.DType) float64 {
	if dt == tensor.Float32 {
		return 2e-5
	}
	return 1e-12
}

// randn returns a tensor of N(0, 1) values of dtype dt from (seed, stream 7).
func randn(dt tensor.DType, seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.CPU, dt, shape...)
	t.Backend().RandNormal(t, seed, 7, 0, 1)
	return t
}

// builderFor returns a builder of dtype dt.
func builderFor(dt tensor.DType, seed uint64) *Builder {
	b := NewBuilder(seed)
	b.DType = dt
	return b
}

// randomize overwrites t with N(0, std^2) values so that parameters
// initialised to constants (norm gains) are exercised with generic values.
func randomize(t *tensor.Tensor, seed uint64, mean, std float64) {
	t.Backend().RandNormal(t, seed, 11, mean, std)
}

// assertClose fails unless |got-want| <= tol*(1+|want|) elementwise.
func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s: element %d is %.10g, want %.10g (|diff| %.3g, tol %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// assertBits fails unless a and b hold bit-identical values.
func assertBits(t *testing.T, what string, a, b *tensor.Tensor) {
	t.Helper()
	x, y := a.Float64s(), b.Float64s()
	if len(x) != len(y) {
		t.Fatalf("%s: %d vs %d values", what, len(x), len(y))
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			t.Fatalf("%s: element %d differs: %v vs %v", what, i, x[i], y[i])
		}
	}
}

// hostLinear computes x [rows, in] w^T [in, out] + b on the host.
func hostLinear(x []float64, rows, in int, w []float64, out int, b []float64) []float64 {
	y := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			s := 0.0
			for i := 0; i < in; i++ {
				s += x[r*in+i] * w[o*in+i]
			}
			if b != nil {
				s += b[o]
			}
			y[r*out+o] = s
		}
	}
	return y
}

// hostMatMul returns a [m, k] @ b [k, n].
func hostMatMul(a, b []float64, m, k, n int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// hostTranspose returns the transpose of a [m, n].
func hostTranspose(a []float64, m, n int) []float64 {
	t := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			t[j*m+i] = a[i*n+j]
		}
	}
	return t
}

func silu(x float64) float64 { return x / (1 + math.Exp(-x)) }

// symEigen returns the eigenvalues of the symmetric matrix a [n, n] by
// cyclic Jacobi rotations (a is destroyed). Used to get singular values of a
// matrix X as sqrt(eig(X X^T)) without a linear-algebra dependency.
func symEigen(a []float64, n int) []float64 {
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				off += a[i*n+j] * a[i*n+j]
			}
		}
		if off < 1e-24 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ { // rotate columns p, q
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p], a[k*n+q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := 0; k < n; k++ { // rotate rows p, q
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k], a[q*n+k] = c*apk-s*aqk, s*apk+c*aqk
				}
			}
		}
	}
	ev := make([]float64, n)
	for i := range ev {
		ev[i] = a[i*n+i]
	}
	return ev
}

// singularValues returns the singular values of x [m, n] (m <= n is not
// required).
func singularValues(x []float64, m, n int) []float64 {
	if m > n {
		x, m, n = hostTranspose(x, m, n), n, m
	}
	g := hostMatMul(x, hostTranspose(x, m, n), m, n, m)
	ev := symEigen(g, m)
	for i, e := range ev {
		ev[i] = math.Sqrt(math.Max(e, 0))
	}
	return ev
}

func TestHelperSingularValues(t *testing.T) {
	// diag(3, 2) embedded in a rotated 2x3 matrix: singular values 3 and 2.
	c, s := math.Cos(0.3), math.Sin(0.3)
	x := []float64{3 * c, 3 * s, 0, -2 * s, 2 * c, 0}
	sv := singularValues(x, 2, 3)
	got := fmt.Sprintf("%.9f %.9f", math.Max(sv[0], sv[1]), math.Min(sv[0], sv[1]))
	if got != "3.000000000 2.000000000" {
		t.Fatalf("singular values %s, want 3 2", got)
	}
}
