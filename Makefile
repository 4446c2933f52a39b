# nori: build, test, benchmark and CI entry points. `make help` lists them.
GO      ?= go
PKGS    ?= ./...
BENCHTIME ?= 1s

.PHONY: help test test-noasm bench vet fmt fmt-check ci fuzz build

help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

build: ## compile everything
	$(GO) build $(PKGS)

test: ## run the unit and end-to-end tests (the README's test command)
	$(GO) test -count=1 -timeout 20m $(PKGS)

bench: ## run the benchmarks (GFLOP/s, GB/s and allocations via b.ReportMetric)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

vet: ## go vet
	$(GO) vet $(PKGS)

fmt: ## format the sources in place
	gofmt -w .

fmt-check: ## fail if any file needs gofmt
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fuzz: ## fuzz the checkpoint loader for a while (FUZZTIME, default 30s)
	$(GO) test ./nn -run '^$$' -fuzz FuzzLoad -fuzztime $${FUZZTIME:-30s}

ci: fmt-check vet build test ## what .ci/run runs on a clean clone
