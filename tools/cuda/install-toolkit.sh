#!/usr/bin/env bash
# Installs Debian bookworm's CUDA toolkit 11.8 (nvcc, ptxas, cuda.h, libcuda) from contrib/non-free,
# using the same mirror and keyring as the machine's main Debian source. Idempotent: does nothing
# when nvcc and cuda.h are already there. Needs root (CI and the dev machines run as root).
set -euo pipefail
if command -v nvcc >/dev/null 2>&1 && [ -f /usr/include/cuda.h ]; then
	exit 0
fi
src=/etc/apt/sources.list.d/debian.sources
dst=/etc/apt/sources.list.d/nonfree.sources
if [ ! -f "$dst" ]; then
	uri=$(awk '/^URIs:/{print $2; exit}' "$src")
	key=$(awk '/^Signed-By:/{print $2; exit}' "$src")
	: "${uri:=http://deb.debian.org/debian}"
	: "${key:=/usr/share/keyrings/debian-archive-keyring.gpg}"
	printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: contrib non-free\nSigned-By: %s\n' "$uri" "$key" >"$dst"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev libcuda1 >/dev/null
nvcc --version | tail -n 2
