package cuda

import (
	"strings"
	"testing"
)

// gemmKernelParams is the argument list GemmRun (gemm.go) passes to every
// GEMM kernel, as PTX parameter kinds ("u": Ptr or int, .u64; "f": float32
// widened to double, .f64): C, A, B, Bias, Residual, M, N, K, LdA, LdB, LdC,
// Batch, StrideA, StrideB, StrideC, Alpha, Beta, ResidualScale, Act, flags.
// Keep it in step with GemmRun's r.Launch call.
const gemmKernelParams = "uuuuu" + "uuuuuuu" + "uuu" + "fff" + "uu"

// gemmKernelNames lists every kernel name GemmRun can form:
// nori_gemm_fp32_<tr> and nori_gemm_<tf32|bf16>_<l|s>_<tr>.
func gemmKernelNames() []string {
	var names []string
	for _, tr := range []string{"nn", "nt", "tn", "tt"} {
		names = append(names, "nori_gemm_fp32_"+tr)
		for _, prec := range []string{"tf32", "bf16"} {
			for _, tile := range []string{"l", "s"} {
				names = append(names, "nori_gemm_"+prec+"_"+tile+"_"+tr)
			}
		}
	}
	return names
}

// TestGemmKernelParams checks, without a GPU, that every GEMM kernel GemmRun
// can launch is in the embedded PTX with the parameter list it passes, and
// that the PTX allows the 256-thread blocks it launches (.maxntid): a drift
// would read garbage arguments or fail every launch on the GPU.
func TestGemmKernelParams(t *testing.T) {
	ptx, err := PTX("gemm")
	if err != nil {
		t.Fatal(err)
	}
	names := gemmKernelNames()
	if got := len(Entries(ptx)); got != len(names) {
		t.Errorf("gemm PTX has %d entries, GemmRun launches %d kernels: %v", got, len(names), Entries(ptx))
	}
	for _, name := range names {
		got, ok := ptxParamKinds(ptx, name)
		if !ok {
			t.Errorf("no entry %s in the gemm PTX (have %v)", name, Entries(ptx))
			continue
		}
		if got != gemmKernelParams {
			t.Errorf("%s: PTX parameters %q, GemmRun passes %q", name, got, gemmKernelParams)
		}
		body := ptx[strings.Index(ptx, ".entry "+name+"("):]
		body = body[:strings.Index(body, "{")]
		if !strings.Contains(body, ".maxntid 256, 1, 1") {
			t.Errorf("%s: no .maxntid 256 (GemmRun launches 256 threads): %q", name, body[strings.Index(body, ")"):])
		}
	}
}
