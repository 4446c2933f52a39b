# nori: build, test, benchmark and CI entry points. `make help` lists them.
GO      ?= go
PKGS    ?= ./...
BENCHTIME ?= 1s

.PHONY: help test test-noasm bench bench-blas parity vet fmt fmt-check ci fuzz build

help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

build: ## compile everything
	$(GO) build $(PKGS)

test: ## run the unit and end-to-end tests (the README's test command)
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-noasm: ## the tests again with the pure-Go fallbacks only (no assembly)
	$(GO) test -count=1 -timeout 20m -tags noasm $(PKGS)

bench: ## run the benchmarks (GFLOP/s, GB/s and allocations via b.ReportMetric)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

bench-blas: ## Sgemm against OpenBLAS (cgo, installs libopenblas-dev) and gonum
	@dpkg -s libopenblas-dev >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq libopenblas-dev)
	$(GO) test -tags openblas -run '^$$' -bench 'Sgemm' -benchtime $(BENCHTIME) ./bench/

parity: ## the Go model against the PyTorch reference (installs python3-torch)
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || (apt-get update -qq && apt-get install -y -qq python3-torch)
	$(GO) test -tags parity -count=1 -run Parity -v ./nori/

vet: ## go vet
	$(GO) vet $(PKGS)

fmt: ## format the sources in place
	gofmt -w .

fmt-check: ## fail if any file needs gofmt
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fuzz: ## fuzz the checkpoint loader for a while (FUZZTIME, default 30s)
	$(GO) test ./nn -run '^$$' -fuzz FuzzLoad -fuzztime $${FUZZTIME:-30s}

ci: fmt-check vet build test test-noasm cuda-ci ## what .ci/run runs on a clean clone

.PHONY: eval
eval: ## nori eval on ../shared/datasets/regression against the baselines, embedded checkpoint (CHECKPOINT=file.safetensors for another)
	$(GO) run ./tools/nori eval -data ../shared/datasets/regression -splits ../shared/datasets/splits/regression -baselines ../shared/datasets/baselines_regression.csv -out out/eval.csv $(if $(CHECKPOINT),-checkpoint $(CHECKPOINT))

# ---- CUDA (issues 7 and 8). The default build never needs any of this. ----
CUDA_SRC := $(wildcard kernels/cuda/src/*.cu)
CUDA_PTX := $(patsubst kernels/cuda/src/%.cu,kernels/cuda/ptx/%.ptx,$(CUDA_SRC))
NVCC     ?= nvcc
# sm_80 PTX: mma.sync m16n8k16 bf16/tf32, cp.async and ldmatrix exist there; the driver JIT-compiles it for
# sm_90. No -lineinfo: it would write this checkout's absolute paths into the committed PTX.
NVCCFLAGS ?= -std=c++17 -O3 -arch=compute_80 -ptx

.PHONY: cuda-toolkit ptx ptx-check vet-cuda build-cuda

cuda-toolkit: ## install Debian's CUDA toolkit 11.8 (nvcc, ptxas, cuda.h, libcuda) from contrib/non-free
	bash tools/cuda/install-toolkit.sh

kernels/cuda/ptx/%.ptx: kernels/cuda/src/%.cu $(wildcard kernels/cuda/src/*.cuh)
	$(NVCC) $(NVCCFLAGS) -o $@ $<

ptx: $(CUDA_PTX) ## compile kernels/cuda/src/*.cu to the committed PTX

ptx-check: ## fail if a committed PTX differs from its source's compilation or a hot kernel spills under ptxas -arch=sm_90
	$(GO) run ./tools/ptxcheck -nvcc "$(NVCC)" -flags "$(NVCCFLAGS)"

vet-cuda: ## go vet with the cuda tags (needs cuda.h and libcuda: make cuda-toolkit)
	$(GO) vet -tags cuda $(PKGS)
	$(GO) vet -tags cuda,cublas ./kernels/cuda/

GPU_BIN ?= out/gpu
# Packages with cuda-tagged tests (vet -tags cuda type-checks every package's tests; these get binaries to carry).
CUDA_TEST_PKGS ?= ./kernels/cuda/ ./tensor/ ./nn/ ./nori/ ./bench/
build-cuda: ## compile the cuda-tagged binaries and test binaries into $(GPU_BIN) (run them on the GPU machine)
	@mkdir -p $(GPU_BIN)
	$(GO) build -tags cuda -ldflags="-s -w" -o $(GPU_BIN)/nori ./tools/nori
	$(GO) test -tags cuda -c -ldflags="-s -w" -o $(GPU_BIN)/ $(CUDA_TEST_PKGS)
	$(GO) test -tags cuda,cublas -c -ldflags="-s -w" -o $(GPU_BIN)/cuda-cublas.test ./kernels/cuda/

cuda-ci: cuda-toolkit vet-cuda build-cuda ptx-check ## the CUDA part of CI: toolkit, vet, compile the tagged code, PTX check

.PHONY: hostcheck
hostcheck: ## run the CUDA kernels without a GPU in the host emulators (kernels/cuda/hostcheck; needs g++, numpy; ~15 min)
	kernels/cuda/hostcheck/run.sh
	kernels/cuda/hostcheck/gemm_emu.sh
	/usr/bin/python3 kernels/cuda/hostcheck/attn_emu.py
