#!/usr/bin/env bash
# Runs the cuda-tagged test binaries and benchmarks on a GPU machine and
# collects their output, for the device tool (which carries out/gpu and
# returns what is written under $OUT):
#
#   make build-cuda && bash tools/gpu/pack.sh         # here: out/carry/bin.tar.xz
#   run: bash tools/gpu/run.sh [tests|bench|all] [TEST_REGEX] [BENCH_REGEX]   # there, carry out/carry
#
# The binaries come from out/carry/bin.tar.xz when it is there (unpacked to
# /tmp/gpubin), else from GPU_BIN (default out/gpu: 80 MB, too much for a
# lease's 64 MiB beside the tree).
#
# Each binary's output goes to $OUT/<name>.{test,bench}.txt; a summary of
# PASS/FAIL lines to $OUT/summary.txt. nvidia-smi's device line heads it.
set -uo pipefail
mode=${1:-all}
tests=${2:-.}
bench=${3:-.}
bin=${GPU_BIN:-out/gpu}
if [ -z "${GPU_BIN:-}" ] && [ -f out/carry/bin.tar.xz ]; then
	mkdir -p /tmp/gpubin && tar -C /tmp/gpubin -xJf out/carry/bin.tar.xz
	bin=/tmp/gpubin
fi
out=${OUT:-out/gpu-results}
mkdir -p "$out"
{
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 || echo "nvidia-smi failed"
	date -u
} >"$out/summary.txt"
for t in "$bin"/*.test; do
	name=$(basename "$t" .test)
	if [ "$mode" = tests ] || [ "$mode" = all ]; then
		(cd "$(dirname "$t")" && "./$name.test" -test.run "$tests" -test.v -test.timeout 300s) >"$out/$name.test.txt" 2>&1
		echo "$name tests: exit $?" >>"$out/summary.txt"
		grep -E '^(--- FAIL|FAIL|ok|PASS)' "$out/$name.test.txt" | head -50 >>"$out/summary.txt"
	fi
	if [ "$mode" = bench ] || [ "$mode" = all ]; then
		(cd "$(dirname "$t")" && "./$name.test" -test.run '^$' -test.bench "$bench" -test.benchtime 20x -test.timeout 300s) >"$out/$name.bench.txt" 2>&1
		echo "$name bench: exit $?" >>"$out/summary.txt"
	fi
done
cat "$out/summary.txt"
