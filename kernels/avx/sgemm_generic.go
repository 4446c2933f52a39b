package avx

// kernGeneric is the pure-Go micro-kernel (mrGeneric x nrGeneric), used at
// level Generic: the same packing, blocking and threading as the assembly
// kernels, so the noasm build exercises the whole driver. Each accumulator
// sums its k products in order.
func kernGeneric(k int, a []float32, as int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, loadC bool) {
	const mr, nr = mrGeneric, nrGeneric
	var acc [mr][nr]float32
	for l := 0; l < k; l++ {
		av := a[l*as : l*as+mr]
		bv := b[l*bs : l*bs+nr]
		for r := range mr {
			ar := av[r]
			row := &acc[r]
			for j := range nr {
				row[j] += ar * bv[j]
			}
		}
	}
	for r := range mr {
		crow := c[r*ldc : r*ldc+nr]
		for j := range nr {
			v := alpha * acc[r][j]
			if loadC {
				v += beta * crow[j]
			}
			crow[j] = v
		}
	}
}

// kernRowAGeneric is kernGeneric reading A in place: row r of the tile at
// a[r*lda:], one element per k step (same order of operations).
func kernRowAGeneric(k int, a []float32, lda int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, loadC bool) {
	const mr, nr = mrGeneric, nrGeneric
	var acc [mr][nr]float32
	var rows [mr][]float32
	for r := range rows {
		rows[r] = a[r*lda : r*lda+k]
	}
	for l := 0; l < k; l++ {
		bv := b[l*bs : l*bs+nr]
		for r := range mr {
			ar := rows[r][l]
			row := &acc[r]
			for j := range nr {
				row[j] += ar * bv[j]
			}
		}
	}
	for r := range mr {
		crow := c[r*ldc : r*ldc+nr]
		for j := range nr {
			v := alpha * acc[r][j]
			if loadC {
				v += beta * crow[j]
			}
			crow[j] = v
		}
	}
}
