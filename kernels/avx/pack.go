package avx

// Packing copies a block of op(A) or op(B) into the layout the micro-kernels
// read: consecutive micro-panels, each holding for every k step the mr (or
// nr) values of its rows (columns) side by side. Rows or columns past the
// matrix edge are zero, so partial tiles run the same kernel. Transposes and
// leading dimensions are absorbed here.

// packA packs rows [i0, i0+mb) and inner indices [p0, p0+kb) of op(A) (A is
// row-major with leading dimension lda, op(A) = A or Aᵀ) into dst as
// ceil(mb/mr) panels of kb*mr floats.
func packA(dst []float32, a []float32, lda int, trans bool, i0, mb, p0, kb, mr int) {
	for ip := 0; ip < mb; ip += mr {
		rows := min(mr, mb-ip)
		d := dst[ip*kb : ip*kb+kb*mr]
		if trans {
			// Row i of op(A) is column i of A: the mr values of one k step
			// are contiguous in A.
			for l := 0; l < kb; l++ {
				src := a[(p0+l)*lda+i0+ip:]
				dl := d[l*mr : l*mr+mr]
				copy(dl, src[:rows])
				clear(dl[rows:])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(i0+ip+r)*lda+p0 : (i0+ip+r)*lda+p0+kb]
			packStrided(d[r:], src, mr)
		}
		for r := rows; r < mr; r++ {
			for l := 0; l < kb; l++ {
				d[l*mr+r] = 0
			}
		}
	}
}

// packB packs inner indices [p0, p0+kb) and columns [j0, j0+nb) of op(B) (B
// row-major with leading dimension ldb, op(B) = B or Bᵀ) into dst as
// ceil(nb/nr) panels of kb*nr floats; only panels [q0, q1) are written.
func packB(dst []float32, b []float32, ldb int, trans bool, j0, nb, p0, kb, nr, q0, q1 int) {
	for q := q0; q < q1; q++ {
		jp := q * nr
		cols := min(nr, nb-jp)
		d := dst[jp*kb : jp*kb+kb*nr]
		if !trans {
			for l := 0; l < kb; l++ {
				src := b[(p0+l)*ldb+j0+jp:]
				dl := d[l*nr : l*nr+nr]
				copy(dl, src[:cols])
				clear(dl[cols:])
			}
			continue
		}
		// Column j of op(B) is row j of B: gather it across the k steps.
		for c := 0; c < cols; c++ {
			src := b[(j0+jp+c)*ldb+p0 : (j0+jp+c)*ldb+p0+kb]
			packStrided(d[c:], src, nr)
		}
		for c := cols; c < nr; c++ {
			for l := 0; l < kb; l++ {
				d[l*nr+c] = 0
			}
		}
	}
}

// packStrided writes src[l] to dst[l*stride] (the transposing copy).
func packStrided(dst, src []float32, stride int) {
	if len(src) == 0 {
		return
	}
	_ = dst[(len(src)-1)*stride]
	l := 0
	for ; l+4 <= len(src); l += 4 {
		s := src[l : l+4 : l+4]
		dst[l*stride] = s[0]
		dst[(l+1)*stride] = s[1]
		dst[(l+2)*stride] = s[2]
		dst[(l+3)*stride] = s[3]
	}
	for ; l < len(src); l++ {
		dst[l*stride] = src[l]
	}
}
