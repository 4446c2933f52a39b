//go:build amd64 && !noasm

package avx

import "golang.org/x/sys/cpu"

func detectCPU() (Level, bool) {
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasFMA:
		return AVX512, x.HasAVX512BF16
	case x.HasAVX2 && x.HasFMA:
		return AVX2, false
	}
	return Generic, false
}
