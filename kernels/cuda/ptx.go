package cuda

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// ptxFiles holds the committed PTX of every kernel family (see `make ptx`).
//
//go:embed ptx/*.ptx
var ptxFiles embed.FS

// Modules returns the names of the embedded PTX modules (the stems of
// src/*.cu), sorted.
func Modules() []string {
	ents, err := fs.ReadDir(ptxFiles, "ptx")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".ptx"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// PTX returns the embedded PTX text of module name (e.g. "rmsnorm").
func PTX(name string) (string, error) {
	b, err := ptxFiles.ReadFile("ptx/" + name + ".ptx")
	if err != nil {
		return "", fmt.Errorf("cuda: no embedded PTX module %q (have %v)", name, Modules())
	}
	return string(b), nil
}

// Entries returns the kernel entry points (.entry names) declared in a PTX
// text, in order of appearance.
func Entries(ptx string) []string {
	var out []string
	for _, line := range strings.Split(ptx, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, ".visible .entry ")
		if !ok {
			rest, ok = strings.CutPrefix(line, ".entry ")
		}
		if !ok {
			continue
		}
		if i := strings.IndexAny(rest, "( "); i >= 0 {
			rest = rest[:i]
		}
		out = append(out, rest)
	}
	return out
}
