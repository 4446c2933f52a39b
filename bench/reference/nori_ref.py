#!/usr/bin/python3
"""PyTorch reference of the nori model's forward pass (issue 5).

An independent implementation of the same mathematics as the Go model in
nori/, written the way the published PyTorch model computes it (one token
tensor [B, N, G+1, E] for all rows, the FiLM MLP applied per scalar, module A
run in every layer), used to check the Go model (`make parity`) and to time it
against PyTorch on the CPU.

It reads a checkpoint written by nori's Model.Save (safetensors with the config
JSON under the "nori_config" metadata key) and a table file (safetensors with
tensors "x" [B, N, F] and "y" [B, nctx], F32, metadata "nctx"), and writes the
quantiles [B, N-nctx, Q] as a safetensors file (tensor "quantiles").

Needs only torch (Debian's python3-torch; torch 1.13 has no
scaled_dot_product_attention, so attention is written out, in bounded chunks
of sets so that long contexts do not materialise every score matrix at once).

Usage:
  nori_ref.py CHECKPOINT TABLE OUT [--threads N] [--repeat R]
Prints one JSON line: {"seconds": [...], "peak_rss_delta_mb": ..., ...}.
"""

import argparse
import json
import math
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64}


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) of a safetensors file (F32/F64/BF16)."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen])
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + hlen
    out = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        raw = bytearray(data[base + lo:base + hi])
        if e["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).to(torch.int32) << 16
            t = t.view(torch.float32)
        else:
            t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.zeros(0, dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out, meta


def write_safetensors(path, tensors, meta):
    """Writes F32 tensors with string metadata."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = meta
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class NoriRef:
    def __init__(self, weights, cfg):
        self.w = weights
        self.c = cfg

    # --- building blocks -------------------------------------------------
    def lin(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w.get(name + ".bias"))

    def ln(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.w[name + ".weight"], self.w[name + ".bias"], 1e-5)

    @staticmethod
    def rms(x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)

    # --- in-model normalisation (float64) --------------------------------
    def preprocess(self, x, nctx):
        c = self.c
        B, N, Fn = x.shape
        gs = c["group_size"]
        G = -(-Fn // gs)
        x = torch.cat([x, torch.zeros(B, N, G * gs - Fn, dtype=x.dtype)], -1)
        isnan = torch.isnan(x)
        ctx = x[:, :nctx]
        fin = torch.isfinite(ctx)
        cnt = fin.sum(1)
        s = torch.where(fin, ctx, torch.zeros_like(ctx)).sum(1)
        fill = torch.where(cnt > 0, s / cnt.clamp(min=1), torch.zeros_like(s))
        xf = torch.where(torch.isfinite(x), x, fill[:, None, :].expand_as(x))
        z = xf
        if c["normalize_x"]:
            cf = xf[:, :nctx]
            mean = fill  # the mean of the filled context column; filled cells give exactly 0
            if nctx > 1:
                std = torch.sqrt(((cf - mean[:, None]) ** 2).sum(1) / (nctx - 1)) + 1e-20
            else:
                std = torch.ones_like(mean)
            z = ((xf - mean[:, None]) / std[:, None]).clamp(-100, 100)
        if c["group_scale"]:
            const = (xf[:, :nctx] == xf[:, :1]).all(1)  # [B, G*gs], context rows only
            k = (~const).reshape(B, G, gs).sum(-1).clamp(min=1).to(x.dtype)
            scale = torch.sqrt(gs / k).repeat_interleave(gs, dim=1)
            z = z * scale[:, None, :]
        miss = isnan if c["missing_embedding"] else torch.zeros_like(isnan)
        z = torch.where(miss, torch.zeros_like(z), z)
        return z, miss, G

    def targets(self, y, N):
        B, nctx = y.shape
        fin = torch.isfinite(y)
        cnt = fin.sum(1)
        mean = torch.where(cnt > 0, torch.where(fin, y, torch.zeros_like(y)).sum(1) / cnt.clamp(min=1),
                           torch.zeros(B, dtype=y.dtype))
        m = mean[:, None].expand(B, nctx)
        val = torch.where(fin, y, m)
        ind = torch.where(torch.isnan(y), torch.full_like(y, -2.0),
                          torch.where(y == math.inf, torch.full_like(y, 2.0),
                                      torch.where(y == -math.inf, torch.full_like(y, 4.0), torch.zeros_like(y))))
        qv = mean[:, None].expand(B, N - nctx)
        vals = torch.cat([val, qv], 1)
        inds = torch.cat([ind, torch.full_like(qv, -2.0)], 1)
        return torch.stack([vals, inds], -1), val

    # --- value encoder ----------------------------------------------------
    def encode_values(self, z, miss):
        c = self.c
        K = c["rbf_centers"]
        a = z.abs()
        safe = torch.where(a == 0, torch.ones_like(a), a)
        e = torch.floor(torch.log10(safe))
        e = torch.where(safe >= torch.pow(10.0, e + 1), e + 1,
                        torch.where(safe < torch.pow(10.0, e), e - 1, e))
        e = e.clamp(-9, 9)
        m = torch.where(a == 0, torch.zeros_like(a), a / torch.pow(10.0, e))
        e = torch.where(a == 0, torch.zeros_like(e), e)
        centers = torch.linspace(0.0, 10.0, K, dtype=torch.float64)
        rbf = torch.exp(-((m[..., None] - centers) ** 2) / (2 * c["rbf_sigma"] ** 2)).to(torch.float32)
        if c["film"]:
            ei = e.to(torch.long)
            sign = (z < 0).to(torch.long)
            esign = (ei < 0).to(torch.long)
            digit = ei.abs() % 10
            ctrl = torch.cat([self.w["encoder.film.sign_table"][sign],
                              self.w["encoder.film.exp_sign_table"][esign],
                              self.w["encoder.film.exp_digit_table"][digit]], -1)
            gb = self.lin(F.gelu(self.lin(ctrl, "encoder.film.fc1")), "encoder.film.fc2")
            gamma, beta = torch.split(gb, K, dim=-1)
            rbf = rbf * torch.sigmoid(gamma) + torch.tanh(beta)
        out = self.lin(self.ln(rbf, "encoder.value_norm"), "encoder.value_out")
        if c["missing_embedding"]:
            out = torch.where(miss[..., None], self.w["encoder.missing"].expand_as(out), out)
        return out

    # --- attention --------------------------------------------------------
    def qass(self, q, n, prefix):
        """q [..., H, D]; n context rows."""
        if n <= 1:
            return q
        H, D = q.shape[-2], q.shape[-1]
        logn = torch.tensor([[math.log(n)]], dtype=torch.float32)
        base = self.lin(F.gelu(self.lin(logn, prefix + ".base.fc1")), prefix + ".base.fc2").view(H, D)
        base = logn.view(1, 1) * (1.0 + torch.tanh(base))
        gate = 1.0 + torch.tanh(self.lin(F.gelu(self.lin(q, prefix + ".gate.fc1")), prefix + ".gate.fc2"))
        return q * base * gate

    def attention(self, xq, xkv, prefix, n_keys, qass):
        """xq [S, Nq, E], xkv [S, Nk, E]: sets S attend independently."""
        c = self.c
        E, H = c["embed"], c["heads"]
        D = E // H
        W = self.w[prefix + ".qkv.weight"]
        S, Nq, Nk = xq.shape[0], xq.shape[1], xkv.shape[1]
        q = F.linear(xq, W[:E]).view(S, Nq, H, D)
        kv = F.linear(xkv, W[E:]).view(S, Nk, 2, H, D)
        if qass:
            q = self.qass(q, n_keys, prefix + ".qass")
        q = q.permute(0, 2, 1, 3)
        k = kv[:, :, 0].permute(0, 2, 1, 3)
        v = kv[:, :, 1].permute(0, 2, 1, 3)
        # Bounded memory: at most ~64M scores at a time.
        step = max(1, (64 << 20) // max(1, H * Nq * Nk))
        outs = []
        for s0 in range(0, S, step):
            sc = torch.matmul(q[s0:s0 + step], k[s0:s0 + step].transpose(-1, -2)) / math.sqrt(D)
            outs.append(torch.matmul(torch.softmax(sc, -1), v[s0:s0 + step]))
        o = torch.cat(outs, 0).permute(0, 2, 1, 3).reshape(S, Nq, E)
        return F.linear(o, self.w[prefix + ".out.weight"])

    # --- forward ------------------------------------------------------------
    def forward(self, x, y, nctx):
        c = self.c
        B, N, _ = x.shape
        E = c["embed"]
        z, miss, G = self.preprocess(x.to(torch.float64), nctx)
        vals = self.encode_values(z, miss)  # [B, N, Fp, E]
        f = vals.reshape(B, N, G, c["group_size"] * E)
        f = self.ln(self.lin(f, "encoder.fusion.fc1"), "encoder.fusion.norm1")
        f = self.ln(self.lin(torch.relu(f), "encoder.fusion.fc2"), "encoder.fusion.norm2")
        yin, yctx = self.targets(y.to(torch.float64), N)
        if c["y_aware"]:
            bias = self.lin(yctx.to(torch.float32)[..., None], "encoder.y_aware")  # [B, nctx, E]
            bias = torch.cat([bias, torch.zeros(B, N - nctx, E)], 1)[:, :, None, :]
            if c["column_y_aware"]:
                gate = torch.sigmoid((f * bias).sum(-1) / math.sqrt(E))[..., None]
                alpha = torch.sigmoid(self.w["encoder.y_aware.alpha"])
                f = f + (1.0 - alpha) * bias + alpha * (bias * gate)
            else:
                f = f + bias
        t = self.lin(yin.to(torch.float32), "encoder.target")[:, :, None, :]
        h = torch.cat([f, t], 2)  # [B, N, T, E]
        T = h.shape[2]
        alpha = c["residual_scale"] or c["layers"] ** -0.5
        sep = c["separate_query_attention"]
        for l in range(c["layers"]):
            p = "layers.%d" % l
            # Row attention: per (table, token) set over the rows.
            hn = self.rms(h).permute(0, 2, 1, 3).reshape(B * T, N, E)
            ctx = hn[:, :nctx]
            a_ctx = self.attention(ctx, ctx, p + ".row_ctx", nctx, c["qassmax"])
            a_q = self.attention(hn[:, nctx:], ctx, p + (".row_query" if sep else ".row_ctx"), nctx, c["qassmax"])
            a = torch.cat([a_ctx, a_q], 1).reshape(B, T, N, E).permute(0, 2, 1, 3)
            h = h + alpha * a
            hn = self.rms(h)
            mlp = self.lin(F.silu(self.lin(hn, p + ".mlp.gate")) * self.lin(hn, p + ".mlp.up"), p + ".mlp.down")
            h = h + alpha * mlp
            hn = self.rms(h).reshape(B * N, T, E)
            fa = self.attention(hn, hn, p + ".feat", T, False).reshape(B, N, T, E)
            h = h + alpha * fa
        t = self.rms(h)[:, nctx:, -1]
        t = F.gelu(self.ln(self.lin(t, "head.fc1"), "head.norm"))
        return self.lin(t, "head.fc2")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("table")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    ap.add_argument("--repeat", type=int, default=1, help="forward passes to time")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    weights, meta = read_safetensors(args.checkpoint)
    if "nori_config" not in meta:
        sys.exit("nori_ref: %s has no nori_config metadata" % args.checkpoint)
    cfg = json.loads(meta["nori_config"])
    weights = {k: v.to(torch.float32) for k, v in weights.items()}
    table, tmeta = read_safetensors(args.table)
    nctx = int(tmeta["nctx"])
    model = NoriRef(weights, cfg)
    base = peak_rss_mb()
    secs = []
    with torch.no_grad():
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            out = model.forward(table["x"], table["y"], nctx)
            secs.append(time.perf_counter() - t0)
    write_safetensors(args.out, {"quantiles": out}, {"format": "nori", "format_version": "1"})
    print(json.dumps({"seconds": secs, "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "peak_rss_mb": peak_rss_mb(), "peak_rss_delta_mb": peak_rss_mb() - base,
                      "shape": list(out.shape)}))


if __name__ == "__main__":
    main()
