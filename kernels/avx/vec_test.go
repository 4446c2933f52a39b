package avx

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestVecConstOffsets checks that vec_amd64.h's byte offsets match the vc*
// indices of vec.go (index*32) and that the table holds the Go constants.
func TestVecConstOffsets(t *testing.T) {
	idx := map[string]int{"LOG2E": vcLog2E, "LN2HI": vcLn2Hi, "LN2LO": vcLn2Lo, "C7": vcC7, "C6": vcC6, "C5": vcC5,
		"C4": vcC4, "C3": vcC3, "C2": vcC2, "ONE": vcOne, "LO": vcLo, "HI": vcHi, "SIGN": vcSign, "ABS": vcAbs,
		"C128": vcC128, "NEGINF": vcNegInf, "BIAS": vcBias, "GELU2C": vcGelu2C, "GELU2CK": vcGelu2CK,
		"GELU6CK": vcGelu6CK, "INVSQ2": vcInvSq2, "INVS2P": vcInvS2P}
	for i := 0; i < 10; i++ {
		idx["ERF"+strconv.Itoa(i)] = vcErf0 + i
	}
	src, err := os.ReadFile("vec_amd64.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := regexp.MustCompile(`(?m)^#define VC_(\w+) (\d+)$`).FindAllStringSubmatch(string(src), -1)
	if len(defs) != vcCount || len(idx) != vcCount {
		t.Fatalf("vec_amd64.h defines %d offsets, the test knows %d, vec.go has %d", len(defs), len(idx), vcCount)
	}
	for _, d := range defs {
		i, ok := idx[d[1]]
		off, _ := strconv.Atoi(d[2])
		if !ok || off != 32*i {
			t.Fatalf("VC_%s = %s, want %d", d[1], d[2], 32*i)
		}
	}
	for name, v := range map[int]float32{vcLog2E: expLog2E, vcLo: expLo, vcHi: expHi, vcC7: expC7, vcErf0 + 9: erfcPoly[9]} {
		for _, w := range vconst[name] {
			if w != math.Float32bits(v) {
				t.Fatalf("vconst[%d] = %#x, want %#x", name, w, math.Float32bits(v))
			}
		}
	}
}
