#!/usr/bin/python3
"""PyTorch reference timing of attention forward+backward (issue 8).

Times torch.nn.functional.scaled_dot_product_attention with the flash
backend, bf16 inputs, on the GPU, at the shapes of kernels/cuda's
BenchmarkAttentionFlash: N context rows in {512, 2048, 8192, 32768}, head
dim 64, 2 heads, batch 16384/N (FlashAttention-2's 16k-token convention),
q, k, v views of one packed [B, N, 3, H, D] projection, no mask, scale
1/sqrt(D). FLOPs are counted as FlashAttention does: 4*N*N*D per head
forward, 2.5 times that backward. Prints one JSON line per size:

  {"n": N, "batch": B, "heads": 2, "head_dim": 64, "fwd_ms": ..., "fwd_bwd_ms": ...,
   "fwd_tflops": ..., "tflops": ..., "device": "...", "torch": "..."}

Run it on the GPU machine next to `go test -tags cuda -run '^$' -bench
AttentionFlash ./kernels/cuda/` and compare TFLOP/s of the same sizes.

Usage:
  attention_torch.py [--sizes 512,2048,8192,32768] [--repeat R] [--heads H] [--head-dim D]
"""

import argparse
import json
import math
import sys

import torch
import torch.nn.functional as F


def sdpa_flash(q, k, v):
    """scaled_dot_product_attention restricted to the flash backend."""
    try:  # torch >= 2.3
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return F.scaled_dot_product_attention(q, k, v)
    except ImportError:
        with torch.backends.cuda.sdp_kernel(enable_flash=True, enable_math=False, enable_mem_efficient=False):
            return F.scaled_dot_product_attention(q, k, v)


def time_ms(fn, repeat):
    """Mean GPU milliseconds of fn over repeat calls after two warm-ups."""
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeat):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / repeat


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="512,2048,8192,32768")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=16384, help="batch = max(1, tokens // N)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("attention_torch.py: no CUDA device", file=sys.stderr)
        sys.exit(1)
    dev = torch.device("cuda")
    h, d = args.heads, args.head_dim
    for n in [int(x) for x in args.sizes.split(",")]:
        b = max(1, args.tokens // n)
        torch.manual_seed(0)
        qkv = torch.randn(b, n, 3, h, d, device=dev, dtype=torch.bfloat16)
        # [B, H, N, D] views of the packed projection, as in nori.
        qkv_leaf = qkv.detach().requires_grad_(True)
        q, k, v = (qkv_leaf[:, :, i].transpose(1, 2) for i in range(3))
        dout = torch.randn(b, h, n, d, device=dev, dtype=torch.bfloat16)

        def fwd():
            with torch.no_grad():
                sdpa_flash(q.detach(), k.detach(), v.detach())

        def fwd_bwd():
            out = sdpa_flash(q, k, v)
            (grad,) = torch.autograd.grad(out, qkv_leaf, dout)
            return grad

        fwd_ms = time_ms(fwd, args.repeat)
        fb_ms = time_ms(fwd_bwd, args.repeat)
        flops_fwd = 4.0 * b * h * n * n * d
        flops_bwd = 2.5 * flops_fwd
        print(
            json.dumps(
                {
                    "n": n,
                    "batch": b,
                    "heads": h,
                    "head_dim": d,
                    "fwd_ms": round(fwd_ms, 4),
                    "fwd_bwd_ms": round(fb_ms, 4),
                    "fwd_tflops": round(flops_fwd / (fwd_ms * 1e-3) / 1e12, 2),
                    "tflops": round((flops_fwd + flops_bwd) / (fb_ms * 1e-3) / 1e12, 2),
                    "device": torch.cuda.get_device_name(),
                    "torch": torch.__version__,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
