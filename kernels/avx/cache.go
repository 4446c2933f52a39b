package avx

import "github.com/klauspost/cpuid/v2"

// blocking holds the Sgemm cache-block sizes (BLIS loop structure): a kc x
// nr micro-panel of packed B stays in L1 while the mr x kc micro-panels of
// an mc x kc packed A block stream from L2, and a kc x nc packed B block
// lives in L3.
type blocking struct{ kc, mc, nc int }

// cacheSizes are the detected data-cache sizes in bytes (L1D and L2 per
// core, L3 shared), with conservative defaults when cpuid reports nothing.
var cacheL1, cacheL2, cacheL3 = cacheSize(cpuid.CPU.Cache.L1D, 32<<10), cacheSize(cpuid.CPU.Cache.L2, 512<<10),
	cacheSize(cpuid.CPU.Cache.L3, 8<<20)

func cacheSize(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// blockingFor sizes the blocks for a micro-kernel of mr x nr:
//   - kc: the kc x nr B micro-panel is the size of L1, clamped to
//     [128, 512]: 384 for AVX-512's nr = 32 on a 48 KiB L1D, 512 for
//     AVX2. Measured on the dev machine (Zen 5, best of 15 interleaved
//     runs), kc = 384 beat a half-L1 kc = 192 by 5-15% on the model's
//     K = 256 and 384 shapes (fewer passes of C through memory) and was as
//     fast on squares: the A micro-panel and C tile are served from L2
//     fast enough;
//   - mc: the mc x kc packed A block takes half of L2;
//   - nc: the kc x nc packed B block takes a quarter of L3 (shared by the
//     cores), at most 8192 columns.
//
// kc is part of the numeric contract: C accumulates one kc block at a time,
// so it fixes the rounding. It depends on the cache sizes only, never on the
// worker count.
func blockingFor(mr, nr int) blocking {
	kc := min(max(cacheL1/(4*nr)/16*16, 128), 512)
	mc := max(cacheL2/2/(4*kc)/mr*mr, mr)
	nc := min(max(cacheL3/4/(4*kc)/nr*nr, nr), 8192/nr*nr)
	return blocking{kc: kc, mc: mc, nc: nc}
}
