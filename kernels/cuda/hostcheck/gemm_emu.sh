#!/bin/sh
# gemm_emu.sh: build and run the GEMM emulator (gemm_emu.cc) on the real kernels/cuda/src/gemm.cu. See
# gemm_README.md.
#
#   kernels/cuda/hostcheck/gemm_emu.sh [-quick] [-v]     every case (or a few), one line per case
#   kernels/cuda/hostcheck/gemm_emu.sh -mutants          each deliberately broken copy of gemm.cu must FAIL
#
# gemm.cu is compiled as host C++: its "PTX wrappers" section (inline PTX) is replaced by gemm_host.h's
# GEMM_HOST_WRAPPERS and its dynamic shared array by the emulator's window; everything else is the kernel source
# as committed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cu="$here/../src/gemm.cu"
work="$here/_work/gemm"
mkdir -p "$work"
CXX=${CXX:-g++}
CXXFLAGS="-std=c++17 -O2 -g -ffp-contract=off -fno-strict-aliasing -fsanitize=alignment,bounds -fno-sanitize-recover=all -I$here -I$work"

# tu NAME SED: the kernel translation unit from gemm.cu with an optional mutation (a sed script).
tu() {
	sed -e "$2" "$cu" | awk '
		/^#include <cuda_bf16.h>/ { next }
		/-- PTX wrappers$/ { print "GEMM_HOST_WRAPPERS"; skip = 1; next }
		/-- epilogue$/ { skip = 0 }
		!skip { print }' |
		sed 's/extern __shared__ __align__(128) uint8_t smem\[\];/uint8_t *smem = sim_dyn_smem();/' >"$work/$1.inc"
	grep -q '^GEMM_HOST_WRAPPERS' "$work/$1.inc" || { echo "gemm_emu.sh: no PTX wrappers section in gemm.cu" >&2; exit 2; }
	grep -q 'sim_dyn_smem()' "$work/$1.inc" || { echo "gemm_emu.sh: gemm.cu's dynamic shared array not found" >&2; exit 2; }
	printf '#include "gemm_host.h"\n#include "%s.inc"\nextern "C" int2 gemm_host_raster(int p, int tm, int tn) { return raster(p, tm, tn); }\n' "$1" >"$work/$1.cc"
	$CXX $CXXFLAGS -c "$work/$1.cc" -o "$work/$1.o"
}

build() { # build NAME SED -> $work/NAME (the emulator linked with that kernel unit)
	tu "k_$1" "$2"
	[ "$work/emu.o" -nt "$here/gemm_emu.cc" ] && [ "$work/emu.o" -nt "$here/gemm_host.h" ] ||
		$CXX $CXXFLAGS -c "$here/gemm_emu.cc" -o "$work/emu.o"
	$CXX $CXXFLAGS -o "$work/$1" "$work/emu.o" "$work/k_$1.o"
}

if [ "${1:-}" != "-mutants" ]; then
	build gemm ''
	exec "$work/gemm" "$@"
fi

# Mutants: each must make the emulator report a failure (shows the checks can fail).
status=0
mutant() { # NAME SED ARGS
	name=$1 script=$2
	shift 2
	build "m_$name" "$script"
	if "$work/m_$name" "$@" >"$work/m_$name.log" 2>&1; then
		echo "MUTANT SURVIVED: $name"
		status=1
	else
		echo "mutant caught: $name: $(grep -m1 -E 'FAIL|emu:|runtime error' "$work/m_$name.log" | cut -c1-160)"
	fi
}
# The barrier before the prefetch: warps still reading stage kt-1 race the cp.async into it.
mutant no_barrier_before_prefetch '/slice kt is in shared memory; every warp is done/s/__syncthreads();/;/' -quick
# The barrier after the prefetch instead of before it: the copy into stage kt-1 races warps still reading it.
mutant barrier_after_prefetch '/slice kt is in shared memory; every warp is done/s/__syncthreads();/;/;s/if (pf < nk) load_stage(pf % GEMM_STAGES, pf);/&  __syncthreads();/' -quick
# One stage less of waiting: slice kt read before its copy completed.
mutant wait_one_less 's/cp_async_wait<GEMM_STAGES - 2>()/cp_async_wait<GEMM_STAGES - 1>()/' -quick
# Zero-fill dropped at the K edge (full 16 bytes copied): reads past K.
mutant no_kedge_zero_fill 's/valid = gr < rows ? min(max(K - gk, 0), T::E) : 0;/valid = gr < rows ? T::E : 0;/' -quick
# Wrong ldmatrix half for the B (n-contiguous) fragments.
mutant bad_b_trans_k 's/const int k = ks \* 16 + (lane \& 7) + 8 \* ((lane >> 3) \& 1);/const int k = ks * 16 + (lane \& 7) + 8 * (lane >> 4);/' -quick
# No tf32 rounding of the A fragments.
mutant no_tf32_round_a 's/for (int q = 0; q < 4; q++) af\[mi\]\[q\] = to_tf32(af\[mi\]\[q\]);/;/' -quick
# The barrier after the epilogue: the next batch's prologue overwrites the tile others still read.
mutant no_barrier_after_epilogue '/the next batch.s prologue overwrites the tile/s/__syncthreads();/;/' -quick
# Grouped order off by one in the last partial group.
mutant raster_size 's/const int size = min(tm - first, GEMM_GROUP_M);/const int size = GEMM_GROUP_M;/' -quick
# ReLU mapping NaN to 0 (kernels/ref's max(v, 0) keeps it).
mutant relu_hides_nan 's/return v > 0.f || v != v ? v : 0.f;/return v > 0.f ? v : 0.f;/' -run nanA
# cp.async on rows that are not 16-byte aligned (GemmRun's flags forced on): the alignment checks must fire.
mutant force_vec '' -quick -forcevec
exit $status
