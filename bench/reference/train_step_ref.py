#!/usr/bin/python3
"""PyTorch reference of one nori training step, for timing (issue 6).

The same step as nori's trainer (nori/train.go), on the model of
nori_ref.py (its forward pass, with the checkpoint's weights turned into
leaf tensors that require gradients, frozen FiLM tables excepted):

  forward -> pinball loss over the quantiles averaged over query rows
  + 0.05 * mean(relu(q_i - q_{i+1})^2) -> backward -> clip the global
  gradient norm to 1.0 -> Muon (momentum 0.95 Nesterov, 5 Newton-Schulz
  steps, update scaled by sqrt(max/min dim), weight decay 0.01) for every
  parameter of rank >= 2 and AdamW (0.9, 0.95, eps 1e-8, weight decay 0.01)
  for the rest -> EMA update (decay 0.999) of the weights.

Inputs: a checkpoint written by nori's Model.Save and a batch file
(safetensors: "x" [B, N, F], "y" [B, nctx] normalised context targets, "yq"
[B, N-nctx] normalised query targets, F32; metadata "nctx"). Times --repeat
steps after one untimed warm-up step and prints one JSON line:
{"seconds": [...], "threads": T, "loss": [...], ...}.

Usage:
  train_step_ref.py CHECKPOINT BATCH [--threads N] [--repeat R] [--lr LR]
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nori_ref import NoriRef, read_safetensors  # noqa: E402

NS_A, NS_B, NS_C = 3.4445, -4.7750, 2.0315


def newton_schulz(g, steps):
    """nori's nn.NewtonSchulz: X <- aX + (bA + cA^2)X, A = XX^T, on the
    transpose when rows > cols, from X = g/(||g||_F + 1e-7)."""
    x = g
    trans = x.shape[0] > x.shape[1]
    if trans:
        x = x.t()
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        a = x @ x.t()
        x = NS_A * x + (NS_B * a + NS_C * (a @ a)) @ x
    return x.t() if trans else x


class MuonAdamW:
    """nori's nn.MuonAdamW: Muon for rank >= 2, AdamW for the rest."""

    def __init__(self, params, lr, wd=0.01, momentum=0.95, ns_steps=5, betas=(0.9, 0.95), eps=1e-8):
        self.lr, self.wd, self.mu, self.ns = lr, wd, momentum, ns_steps
        self.muon = [p for p in params if p.dim() >= 2]
        self.mom = [torch.zeros(p.shape[0], p[0].numel()) for p in self.muon]
        adam = [p for p in params if p.dim() < 2]
        self.adam = torch.optim.AdamW(adam, lr=lr, betas=betas, eps=eps, weight_decay=wd) if adam else None

    @torch.no_grad()
    def step(self):
        for p, b in zip(self.muon, self.mom):
            if p.grad is None:
                continue
            r = p.shape[0]
            g = p.grad.reshape(r, -1)
            b.mul_(self.mu).add_(g)
            u = g + self.mu * b
            o = newton_schulz(u, self.ns)
            scale = math.sqrt(max(o.shape) / min(o.shape))
            p.mul_(1 - self.lr * self.wd).add_(o.reshape(p.shape), alpha=-self.lr * scale)
        if self.adam is not None:
            self.adam.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("batch")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    ap.add_argument("--repeat", type=int, default=3, help="timed steps (after one warm-up step)")
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    weights, meta = read_safetensors(args.checkpoint)
    if "nori_config" not in meta:
        sys.exit("train_step_ref: %s has no nori_config metadata" % args.checkpoint)
    cfg = json.loads(meta["nori_config"])
    params = []
    w = {}
    for k, v in weights.items():
        t = v.to(torch.float32).clone()
        frozen = k.startswith("encoder.film.") and k.endswith("_table")
        if not frozen:
            t.requires_grad_(True)
            params.append(t)
        w[k] = t
    ema = [p.detach().clone() for p in params]
    batch, bmeta = read_safetensors(args.batch)
    nctx = int(bmeta["nctx"])
    x, y, yq = batch["x"], batch["y"], batch["yq"]
    Q = cfg["quantiles"]
    taus = torch.arange(1, Q + 1, dtype=torch.float32) / (Q + 1)
    model = NoriRef(w, cfg)
    opt = MuonAdamW(params, args.lr)

    def step():
        for p in params:
            p.grad = None
        q = model.forward(x, y, nctx)  # [B, nq, Q]
        u = yq[..., None] - q
        pin = torch.maximum(taus * u, (taus - 1) * u).mean()
        d = torch.relu(q[..., :-1] - q[..., 1:])
        loss = pin + 0.05 * (d * d).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, params):
                e.mul_(0.999).add_(p, alpha=0.001)
        return loss.item()

    losses = [step()]  # warm-up (allocations, first-touch)
    secs = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        losses.append(step())
        secs.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": secs, "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "loss": losses, "params": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
