package avx

// Copy copies src into dst (len(dst) elements) with plain vector loads and
// stores (4 x 64 bytes per iteration on AVX-512, 4 x 32 on AVX2): the
// memory-bandwidth reference the vector kernels' benchmarks compare with,
// next to the runtime's memmove (built-in copy). dst and src must not
// overlap partially.
func Copy(dst, src []float32) {
	src = src[:len(dst)]
	b := len(dst) &^ 63
	vk().copy(dst[:b], src[:b])
	copy(dst[b:], src[b:])
}

func copyGo(dst, src []float32) { copy(dst, src) }
