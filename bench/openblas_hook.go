package bench

// openblas is OpenBLAS's cblas_sgemm when built with the openblas tag
// (openblas.go), else nil and the OpenBLAS benchmark cases are absent.
var openblas func(threads int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
