//go:build ignore

// attn_ref.go: the float64 ground truth of attn_emu.py. It reads a case
// (sizes, scale, contiguous q, k, v, optional qscale, dout, all float64
// little-endian) from the file named by its first argument, runs
// kernels/ref's AttentionForward and AttentionBackward per head, and writes
// out, lse, dq, dk, dv and dqscale (when qscale is given) to the second.
// Not part of the Go build; run by attn_emu.py as `go run attn_ref.go IN OUT`.
package main

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/nori-ml/nori/kernels/ref"
)

func main() {
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "attn_ref:", err)
		os.Exit(1)
	}
}

func run(in, outName string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [6]int64
	if err := binary.Read(f, binary.LittleEndian, &hdr); err != nil {
		return err
	}
	var scale float64
	if err := binary.Read(f, binary.LittleEndian, &scale); err != nil {
		return err
	}
	B, H, nq, nk, d, hasQS := int(hdr[0]), int(hdr[1]), int(hdr[2]), int(hdr[3]), int(hdr[4]), hdr[5] != 0
	read := func(n int) ([]float64, error) {
		x := make([]float64, n)
		return x, binary.Read(f, binary.LittleEndian, x)
	}
	heads := B * H
	q, err := read(heads * nq * d)
	if err != nil {
		return err
	}
	k, err := read(heads * nk * d)
	if err != nil {
		return err
	}
	v, err := read(heads * nk * d)
	if err != nil {
		return err
	}
	var qs []float64
	if hasQS {
		if qs, err = read(heads * nq); err != nil {
			return err
		}
	}
	dout, err := read(heads * nq * d)
	if err != nil {
		return err
	}
	out, lse := make([]float64, heads*nq*d), make([]float64, heads*nq)
	dq, dk, dv := make([]float64, heads*nq*d), make([]float64, heads*nk*d), make([]float64, heads*nk*d)
	var dqs []float64
	if hasQS {
		dqs = make([]float64, heads*nq)
	}
	for bh := 0; bh < heads; bh++ {
		qr, kr := bh*nq*d, bh*nk*d
		h := ref.AttnHead[float64]{Q: q[qr:], K: k[kr:], V: v[kr:], QStride: d, KStride: d, VStride: d,
			Nq: nq, Nk: nk, D: d, Scale: scale}
		var hq []float64
		if hasQS {
			h.QScale = qs[bh*nq:][:nq]
			hq = dqs[bh*nq:][:nq]
		}
		o, l := out[qr:][:nq*d], lse[bh*nq:][:nq]
		ref.AttentionForward(o, l, h, 0, nq, nil)
		ref.AttentionBackward(dq[qr:][:nq*d], dk[kr:][:nk*d], dv[kr:][:nk*d], hq, dout[qr:][:nq*d], o, l, h, nil)
	}
	w, err := os.Create(outName)
	if err != nil {
		return err
	}
	for _, x := range [][]float64{out, lse, dq, dk, dv, dqs} {
		if err := binary.Write(w, binary.LittleEndian, x); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
