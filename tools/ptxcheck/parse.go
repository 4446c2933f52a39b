package main

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
)

// kernelInfo is what `ptxas -v` reports for one entry function.
type kernelInfo struct {
	Name        string
	Registers   int
	SharedBytes int // static shared memory (smem); dynamic shared memory is not known to ptxas
	StackBytes  int
	SpillStores int
	SpillLoads  int
}

var (
	reEntry = regexp.MustCompile(`Compiling entry function '([^']+)'`)
	reProps = regexp.MustCompile(`(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads`)
	reUsed  = regexp.MustCompile(`Used (\d+) registers`)
	reSmem  = regexp.MustCompile(`(\d+) bytes smem`)
)

// parsePtxasVerbose extracts the per-entry figures from ptxas -v output
// (stderr). Non-entry functions (device functions compiled separately) are
// ignored: their figures are folded into the entries that call them.
func parsePtxasVerbose(out string) []kernelInfo {
	var ks []kernelInfo
	cur := -1      // index of the entry being compiled
	propsFor := "" // the function the next "stack frame" line describes
	sc := bufio.NewScanner(strings.NewReader(out))
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	for sc.Scan() {
		line := sc.Text()
		if m := reEntry.FindStringSubmatch(line); m != nil {
			ks = append(ks, kernelInfo{Name: m[1]})
			cur = len(ks) - 1
			continue
		}
		if strings.Contains(line, "Compiling") { // a non-entry function
			cur = -1
			continue
		}
		if i := strings.Index(line, "Function properties for "); i >= 0 {
			propsFor = strings.TrimSpace(line[i+len("Function properties for "):])
			continue
		}
		if cur < 0 {
			continue
		}
		k := &ks[cur]
		if m := reProps.FindStringSubmatch(line); m != nil && propsFor == k.Name {
			k.StackBytes, k.SpillStores, k.SpillLoads = atoi(m[1]), atoi(m[2]), atoi(m[3])
		}
		if m := reUsed.FindStringSubmatch(line); m != nil {
			k.Registers = atoi(m[1])
			if s := reSmem.FindStringSubmatch(line); s != nil {
				k.SharedBytes = atoi(s[1])
			}
		}
	}
	return ks
}
