package configs

import (
	"strings"
	"testing"

	"github.com/nori-ml/nori/nori"
)

// TestConfigsParse: every named config is a valid training config whose
// name field matches its file.
func TestConfigsParse(t *testing.T) {
	names := Names()
	if len(names) < 2 {
		t.Fatalf("named configs %v", names)
	}
	for _, n := range names {
		b, err := Get(n)
		if err != nil {
			t.Fatal(err)
		}
		c, err := nori.ParseTrainConfig(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if c.Name != n {
			t.Errorf("%s.json has name %q", n, c.Name)
		}
	}
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), "tiny") {
		t.Errorf("unknown name: %v", err)
	}
}
