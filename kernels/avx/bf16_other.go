//go:build !amd64 || noasm

package avx

// Without assembly every level runs the pure-Go tile.
var bf16Dot512, bf16Fma512, bf16Fma256 = bf16Generic, bf16Generic, bf16Generic
