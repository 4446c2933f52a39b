package cuda

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// This test runs without a GPU: every kernel the elementwise, copy, reduce,
// index and rng launchers can name must be an entry of the embedded PTX
// taking the parameters they pass, in order and kind (u: pointer or integer,
// f: double), and every entry of those modules must be launched by someone.
// The layout part of the argument lists is built by the launchers' own
// helpers (flatLayout.args, flatLayout.indexArgs); the other arguments are
// spelled out here as each launcher passes them.

// ewArgKinds maps argument values to their parameter kinds, as Launch packs
// them (pointers and integers: long long; floats: double).
func ewArgKinds(args []any) string {
	var b strings.Builder
	for _, a := range args {
		switch a.(type) {
		case float64, float32:
			b.WriteByte('f')
		default:
			b.WriteByte('u')
		}
	}
	return b.String()
}

// ewOperand is the pointer and eight strides operandArgs appends per operand.
const ewOperand = "uuuuuuuuu"

func TestElementwisePTXParams(t *testing.T) {
	f := coalesce([]Layout{Contiguous(3, 5), Contiguous(3, 5)})
	layout := ewArgKinds(f.args(nil)) // n, rank, dim[0..7]
	if len(layout) != 10 {
		t.Fatalf("flatLayout.args passes %d values, the kernels' NORI_LAYOUT_PARAMS are 10", len(layout))
	}
	var p reducePlan
	p.kept.strides = make([][MaxRank]int64, 1)
	index := ewArgKinds(p.kept.indexArgs(nil)) // rank, dim[0..7], stride[0..7]

	want := map[string]map[string]string{"elementwise": {}, "copy": {}, "reduce": {}, "index": {}, "rng": {}}
	for _, name := range unaryKernels {
		want["elementwise"]["nori_elementwise_unary_"+name+"_contig"] = "uuuf"                            // dst, a, n, p
		want["elementwise"]["nori_elementwise_unary_"+name] = layout + strings.Repeat(ewOperand, 2) + "f" // dst, a; p
		want["elementwise"]["nori_elementwise_grad_"+name+"_contig"] = "uuuuuf"                           // dx, x, y, dy, n, p
		want["elementwise"]["nori_elementwise_grad_"+name] = layout + strings.Repeat(ewOperand, 4) + "f"  // dx, x, y, dy; p
	}
	for _, name := range binaryKernels {
		want["elementwise"]["nori_elementwise_binary_"+name+"_contig"] = "uuuu" // dst, a, b, n
		want["elementwise"]["nori_elementwise_binary_"+name] = layout + strings.Repeat(ewOperand, 3)
	}
	want["elementwise"]["nori_elementwise_where_contig"] = "uuuuu" // dst, cond, a, b, n
	want["elementwise"]["nori_elementwise_where"] = layout + strings.Repeat(ewOperand, 4)
	for _, s := range []DType{DTF32, DTF64, DTBF16} {
		for _, d := range []DType{DTF32, DTF64, DTBF16} {
			want["copy"][copyKernel(s, d)] = layout + strings.Repeat(ewOperand, 2)
		}
	}
	for _, name := range reduceNames {
		// a, dst, partial, K, R, C, chunk, then the kept and reduced layouts.
		want["reduce"]["nori_reduce_rows_"+name] = "uuuuuuu" + index + index
		want["reduce"]["nori_reduce_cols_"+name] = "uuuuuuu" + index + index
		want["reduce"]["nori_reduce_finish_"+name] = "uuuuuuu" // dst, partial, K, C, pk, pc, R
	}
	want["reduce"]["nori_reduce_sumsq_partial"] = "uuu" // a, n, partial
	want["reduce"]["nori_reduce_sumsq_finish"] = "uuu"  // partial, nb, out
	want["index"]["nori_index_select"] = "uuuuuuu"      // dst, a, idx, n, nj, inner, axisLen
	want["index"]["nori_index_add"] = "uuuuuuuuuu"      // dst, src, dest, start, js, n, nu, inner, axisLen, nj
	want["rng"]["nori_rng_uniform"] = "uuuuff"          // dst, n, seed, stream, lo, hi
	want["rng"]["nori_rng_normal"] = "uuuuff"           // dst, n, seed, stream, mean, std

	if len(unaryKernels) != int(ref.OpClampMax)+1 || len(binaryKernels) != int(ref.OpPow)+1 {
		t.Errorf("the kernel tables cover %d unary and %d binary ops; ref has %d and %d",
			len(unaryKernels), len(binaryKernels), ref.OpClampMax+1, ref.OpPow+1)
	}
	for module, kernels := range want {
		params := normPTXParams(t, module)
		for name, kinds := range kernels {
			ps, ok := params[name]
			if !ok {
				t.Errorf("%s: no entry %s in the embedded PTX", module, name)
				continue
			}
			var got strings.Builder
			for _, p := range ps {
				switch p {
				case ".u64", ".b64", ".s64":
					got.WriteByte('u')
				case ".f64":
					got.WriteByte('f')
				default:
					fmt.Fprintf(&got, "<%s>", p)
				}
			}
			if got.String() != kinds {
				t.Errorf("%s.%s: PTX parameters %q, the launcher passes %q", module, name, got.String(), kinds)
			}
		}
		for name := range params {
			if _, ok := kernels[name]; !ok {
				t.Errorf("%s: entry %s is never launched", module, name)
			}
		}
	}
}
