package cuda

import (
	"strings"
	"testing"
)

// trainKernelParams is, for every kernel the encoder, pinball, optim and
// Muon launchers launch, the PTX parameter types in the order the Go calls
// pass them: "u" for a pointer or an int (long long: .u64), "f" for a
// float64 (double: .f64). A kernel whose parameters drift from its launcher
// would read garbage on the GPU; this test catches it without one.
var trainKernelParams = map[string]map[string]string{
	"pinball": {
		"nori_pinball_loss":          "uuuuuu",    // partials, pred, target, taus, n, q
		"nori_pinball_crossing_loss": "uuuuuu",    // partials, pred, target, taus, n, q
		"nori_pinball_crossing":      "uuuuuuuff", // partials, dpred, pred, target, taus, n, q, spin, scross
		"nori_pinball_grad":          "uuuuuuf",   // dpred, pred, target, taus, n, q, scale
		"nori_pinball_reduce":        "uuu",       // out, partials, nblocks
	},
	"optim": {
		"nori_optim_adamw":          "uuuuufffffff", // p, g, m, v, n, lr, beta1, beta2, eps, wd, bc1, bc2
		"nori_optim_adamw_vec4":     "uuuuufffffff",
		"nori_optim_axpby":          "uuuff", // y, x, n, a, b
		"nori_optim_axpby_vec4":     "uuuff",
		"nori_optim_muon_momentum":  "uuuuufuu", // partials, u, mom, grad, n, mu, nesterov, chunk
		"nori_optim_muon_normalize": "uuuuu",    // x, u, partials, nparts, n
		"nori_optim_sumsq":          "uuuu",     // partials, x, n, chunk
	},
	"encoder": {
		"nori_encoder_fwd":         "uuuuuuuuuuff", // out, mean, rstd, vals, gtab, btab, lnw, lnb, S, K, inv, eps
		"nori_encoder_bwd":         "uuuuuuuuuufu", // partials, dout, vals, gtab, btab, lnw, mean, rstd, S, K, inv, tpb
		"nori_encoder_colsum":      "uuuuuu",       // out, partials, nrec, rec, off, width
		"nori_encoder_missing_fwd": "uuuuu",        // v, vals, missing, S, E
		"nori_encoder_missing_bwd": "uuuuuu",       // partials, dv, vals, S, E, rpb
	},
}

// ptxParamKinds returns the parameter types ("u"/"f", or "?" for anything
// else) of entry name in a PTX text, and whether the entry exists.
func ptxParamKinds(ptx, name string) (string, bool) {
	i := strings.Index(ptx, ".entry "+name+"(")
	if i < 0 {
		return "", false
	}
	body := ptx[i:]
	body = body[:strings.Index(body, ")")]
	var kinds strings.Builder
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, ".param ") {
			continue
		}
		switch f := strings.Fields(line); f[1] {
		case ".u64", ".b64", ".s64":
			kinds.WriteByte('u')
		case ".f64":
			kinds.WriteByte('f')
		default:
			kinds.WriteByte('?')
		}
	}
	return kinds.String(), true
}

// TestTrainKernelParams checks the embedded PTX of the training kernels
// against the argument lists their launchers pass.
func TestTrainKernelParams(t *testing.T) {
	for module, kernels := range trainKernelParams {
		ptx, err := PTX(module)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range kernels {
			got, ok := ptxParamKinds(ptx, name)
			if !ok {
				t.Errorf("%s: no entry %s in the embedded PTX (have %v)", module, name, Entries(ptx))
				continue
			}
			if got != want {
				t.Errorf("%s.%s: PTX parameters %q, the launcher passes %q", module, name, got, want)
			}
		}
	}
}
