#!/bin/sh
# run.sh: run the CUDA launchers of the elementwise and norm families, and
# their tagged tests, against the CPU emulator (see README.md).
#
#   kernels/cuda/hostcheck/run.sh [go test flags, e.g. -run 'RMSNorm' -v]
#   NORI_STRESS=1 kernels/cuda/hostcheck/run.sh ...
#
# Stress mode shrinks the grids (one SM; row kernels 2 blocks) and the slab
# size (5000 elements) so that grid-stride loops and the splitting of
# launches beyond 2^31 elements run at test sizes.
#
# It builds the emulator (g++) from sim.cc and the kernel sources, copies the
# launchers and tests into kernels/cuda/hostcheck/_work (ignored by ./...
# patterns), with the stand-in runtime, and runs go test there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
work="$here/_work"
cu=${NORI_CU_SRC:-$src/src} # kernel sources (override to emulate modified copies)
mkdir -p "$work/sim"
find "$work" -maxdepth 1 -type f -delete

# The kernel families the emulator runs (gemm and attention use mma.sync /
# ldmatrix / cp.async inline PTX and cannot run on the host).
modules="rmsnorm layernorm softmax swiglu elementwise copy reduce index rng"
objs=""
bin="$work/sim/nori-sim"
# Rebuild the emulator only when a kernel source or the emulator changed.
stale=$(find "$cu" "$here" -maxdepth 1 \( -name '*.cu' -o -name '*.cuh' -o -name 'sim.*' -o -name run.sh \) -newer "$bin" 2>/dev/null | head -1)
[ -x "$bin" ] && [ -z "$stale" ] && [ "$(cat "$work/sim/from" 2>/dev/null)" = "$cu" ] || build=1
CXX=${CXX:-g++}
CXXFLAGS="-std=c++17 -O1 -g -ffp-contract=off -fno-strict-aliasing -fsanitize=undefined -fno-sanitize-recover=all -I$here"
for m in ${build:+$modules}; do
	# One translation unit and namespace per family: their inline helpers
	# may share names (the GPU compiles each file alone).
	printf '#include "sim.h"\nnamespace nori_tu_%s {\n#include "%s/%s.cu"\n}\n' "$m" "$cu" "$m" >"$work/sim/tu_$m.cc"
	$CXX $CXXFLAGS -c "$work/sim/tu_$m.cc" -o "$work/sim/tu_$m.o" &
	objs="$objs $work/sim/tu_$m.o"
done
if [ -n "${build:-}" ]; then
	$CXX $CXXFLAGS -c "$here/sim.cc" -o "$work/sim/sim.o" &
	wait
	$CXX $CXXFLAGS -rdynamic -o "$bin" "$work/sim/sim.o" $objs -ldl
	echo "$cu" >"$work/sim/from"
fi

# The Go side: launchers, their untagged planning code and their tests,
# without the cuda build tag, plus the stand-in runtime and test helpers.
strip() { sed -e "/^\/\/go:build /{N;d;}" "$1" >"$2"; }
mkdir -p "$work/ptx" && cp "$src"/ptx/*.ptx "$work/ptx/"
for f in ptx layout elementwise_plan norm_plan norm_common rmsnorm layernorm softmax swiglu elementwise copy reduce index rng; do
	strip "$src/$f.go" "$work/$f.go"
done
tests="rmsnorm layernorm softmax swiglu elementwise copy reduce index rng_export"
# The untagged planning tests assume the real limits (and run in go test ./kernels/cuda anyway).
[ "${NORI_STRESS:-}" = 1 ] || tests="$tests layout norm_plan"
for f in $tests; do
	strip "$src/${f}_test.go" "$work/${f}_test.go"
done
# Point the grid cap and the slab size at runtime_host.go's variables (equal
# to the real constants unless NORI_STRESS=1).
sed -i 's/normMaxGrid)/hostNormMaxGrid)/' "$work/norm_common.go"
awk '/^func \(f flatLayout\) slabs/ { in_slabs = 1 } in_slabs { gsub(/maxKernelElems/, "hostSlabElems") } /^}/ { in_slabs = 0 } { print }' \
	"$work/layout.go" >"$work/layout.go.tmp" && mv "$work/layout.go.tmp" "$work/layout.go"
sed -i 's#return int(maxKernelElems / max(per, 1)), nil#return max(1, int(hostSlabElems/max(per, 1))), nil#' "$work/index.go"
grep -q hostNormMaxGrid "$work/norm_common.go" && grep -q hostSlabElems "$work/layout.go" && grep -q hostSlabElems "$work/index.go" ||
	{ echo "run.sh: the launchers changed; update the stress-mode substitutions" >&2; exit 1; }
sed -e "/^\/\/go:build /{N;d;}" -e 's#"github.com/nori-ml/nori/kernels/cuda"#cuda "github.com/nori-ml/nori/kernels/cuda/hostcheck/_work"#' \
	"$src/rng_test.go" >"$work/rng_test.go"
strip "$here/runtime_host.go" "$work/runtime_host.go"
strip "$here/testmain_host_test.go" "$work/testmain_host_test.go"
for f in "$here"/*_hostcheck_test.go; do
	[ -e "$f" ] && strip "$f" "$work/$(basename "$f")"
done

cd "$src/../.."
NORI_SIM="$bin" NORI_PTX="$src/ptx" go test -count=1 "$@" ./kernels/cuda/hostcheck/_work/
