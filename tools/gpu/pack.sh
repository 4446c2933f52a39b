#!/usr/bin/env bash
# Packs the cuda-tagged binaries of out/gpu (make build-cuda, about 80 MB) into
# out/carry/bin.tar.xz (about 15 MB) so that they fit in a device lease, which
# carries at most 64 MiB with the working tree. out/ is ignored by git; name
# out/carry in the run's carry list.
#
#   make build-cuda && bash tools/gpu/pack.sh [BINARY...]   # default: every file in out/gpu
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p out/carry
if [ $# -eq 0 ]; then
	set -- $(cd out/gpu && ls)
fi
tar -C out/gpu -cf - "$@" | xz -T0 -6 >out/carry/bin.tar.xz.tmp
mv out/carry/bin.tar.xz.tmp out/carry/bin.tar.xz
ls -la out/carry/bin.tar.xz
