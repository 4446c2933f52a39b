package avx

import "testing"

func TestSetLevelNeverExceedsDetected(t *testing.T) {
	defer SetLevel(SetLevel(AVX512))
	if Current() > Detected() {
		t.Fatalf("current %v above detected %v", Current(), Detected())
	}
	SetLevel(Generic)
	if Current() != Generic || HasBF16() {
		t.Fatalf("SetLevel(Generic): current %v bf16 %v", Current(), HasBF16())
	}
	t.Logf("detected %v, bf16 %v", Detected(), hasBF16)
}
