#!/usr/bin/python3
"""PyTorch (cuBLAS) reference timing of the GEMM shapes of issue 7.

Times torch matrix products on the GPU at the shapes and precisions of
kernels/cuda's BenchmarkGemm, row-major C[M,N] = A[M,K] @ B[K,N], no
transposes:

  shapes: 4096^3, M=65536 K=128 N=384, M=65536 K=384 N=128
  precs:  bf16     bf16 inputs, float32 output (torch.mm with out_dtype, when
                   this torch has it; otherwise the line says "unsupported")
          bf16out  bf16 inputs and output (torch.matmul on bf16)
          tf32     float32 inputs, TF32 tensor cores (allow_tf32 = True)
          fp32     float32 inputs, full float32 (allow_tf32 = False), 4096^3 only

FLOPs are 2*M*N*K per product; time is CUDA events around R products after a
warm-up, best of 3 repetitions. Prints one JSON line per (shape, prec):

  {"shape": "4096^3", "m": 4096, "n": 4096, "k": 4096, "prec": "bf16out",
   "ms": ..., "tflops": ..., "device": "...", "torch": "..."}

Run it on the GPU machine next to
  cuda.test -test.run '^$' -test.bench 'Gemm$' -test.benchtime 50x
and divide our TFLOP/s by these for the ratio ours/cuBLAS (the same ratio
BenchmarkGemmCuBLAS reports when libcublas.so.11 is there for -tags cublas).

Usage:
  gemm_torch.py [--repeat R] [--precs bf16,bf16out,tf32,fp32]
"""

import argparse
import json
import sys

import torch

SHAPES = [
    ("4096^3", 4096, 4096, 4096),
    ("M65536_K128_N384", 65536, 384, 128),
    ("M65536_K384_N128", 65536, 128, 384),
]


def make_product(prec, a, b):
    """Returns a zero-argument function computing one product in prec, or None."""
    if prec == "bf16":
        try:
            torch.mm(a[:1, :1], b[:1, :1], out_dtype=torch.float32)
        except (TypeError, RuntimeError):
            return None
        return lambda: torch.mm(a, b, out_dtype=torch.float32)
    return lambda: torch.matmul(a, b)


def time_ms(f, repeat):
    """Milliseconds per call of f: CUDA events around repeat calls, best of 3."""
    f()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(3):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(repeat):
            f()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) / repeat)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--precs", default="bf16,bf16out,tf32,fp32")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("gemm_torch.py: no CUDA device", file=sys.stderr)
        sys.exit(1)
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name(dev)
    gen = torch.Generator(device=dev)
    gen.manual_seed(0)
    for shape, m, n, k in SHAPES:
        for prec in args.precs.split(","):
            if prec == "fp32" and k < 4096:
                continue
            dtype = torch.bfloat16 if prec.startswith("bf16") else torch.float32
            torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
            a = torch.randn(m, k, device=dev, generator=gen).to(dtype)
            b = torch.randn(k, n, device=dev, generator=gen).to(dtype)
            line = {"shape": shape, "m": m, "n": n, "k": k, "prec": prec, "device": name, "torch": torch.__version__}
            f = make_product(prec, a, b)
            if f is None:
                line["unsupported"] = "torch.mm has no out_dtype here"
            else:
                ms = time_ms(f, args.repeat)
                line["ms"] = ms
                line["tflops"] = 2.0 * m * n * k / (ms * 1e9)
            print(json.dumps(line), flush=True)
            del a, b
    torch.backends.cuda.matmul.allow_tf32 = False


if __name__ == "__main__":
    main()
