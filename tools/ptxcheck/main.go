// Command ptxcheck keeps the committed PTX of kernels/cuda honest without a
// GPU (it is what `make ptx-check` runs, in CI too):
//
//  1. every kernels/cuda/src/*.cu is compiled again with the Makefile's nvcc
//     flags and must give exactly the committed kernels/cuda/ptx/*.ptx (a PTX
//     file without a source is an error too);
//  2. every PTX file goes through `ptxas -arch=sm_90 -v` (the GPU machine's
//     architecture), and a kernel that spills registers fails the check unless
//     it is listed, with a reason, in kernels/cuda/src/spills-allowed.txt
//     (cold kernels only).
//
// It prints one line per kernel: registers, static shared memory, stack and
// spill bytes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	src := flag.String("src", "kernels/cuda/src", "CUDA sources")
	ptx := flag.String("ptx", "kernels/cuda/ptx", "committed PTX")
	nvcc := flag.String("nvcc", "nvcc", "nvcc binary")
	nvccFlags := flag.String("flags", "-std=c++17 -O3 -arch=compute_80 -ptx", "nvcc flags (the Makefile's NVCCFLAGS)")
	arch := flag.String("arch", "sm_90", "ptxas target architecture")
	allow := flag.String("allow", "kernels/cuda/src/spills-allowed.txt", "kernels allowed to spill (name, reason)")
	flag.Parse()
	if err := run(*src, *ptx, *nvcc, strings.Fields(*nvccFlags), *arch, *allow); err != nil {
		fmt.Fprintln(os.Stderr, "ptxcheck:", err)
		os.Exit(1)
	}
}

func run(srcDir, ptxDir, nvcc string, flags []string, arch, allowFile string) error {
	sources, err := filepath.Glob(filepath.Join(srcDir, "*.cu"))
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return fmt.Errorf("no CUDA sources in %s", srcDir)
	}
	tmp, err := os.MkdirTemp("", "ptxcheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var problems []string
	have := map[string]bool{}
	for _, s := range sources {
		stem := strings.TrimSuffix(filepath.Base(s), ".cu")
		have[stem] = true
		fresh := filepath.Join(tmp, stem+".ptx")
		args := append(append([]string{}, flags...), "-o", fresh, s)
		if out, err := exec.Command(nvcc, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v\n%s", nvcc, strings.Join(args, " "), err, out)
		}
		committed := filepath.Join(ptxDir, stem+".ptx")
		want, err := os.ReadFile(fresh)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(committed)
		switch {
		case os.IsNotExist(err):
			problems = append(problems, fmt.Sprintf("%s: no committed PTX (run make ptx and commit it)", committed))
		case err != nil:
			return err
		case !bytes.Equal(got, want):
			hint := "run make ptx and commit it"
			if bytes.Contains(want, []byte("_GLOBAL__N__")) {
				// nvcc names anonymous-namespace symbols with a hash of the
				// source path: such PTX differs in every checkout.
				hint = "it declares symbols in an anonymous namespace, whose mangled names hash the file's path; use a named namespace"
			}
			problems = append(problems, fmt.Sprintf("%s differs from what %s compiles to (%s)", committed, s, hint))
		}
	}
	ptxs, err := filepath.Glob(filepath.Join(ptxDir, "*.ptx"))
	if err != nil {
		return err
	}
	allowed := map[string]string{}
	if b, err := os.ReadFile(allowFile); err == nil {
		allowed = parseAllowList(string(b))
	} else if !os.IsNotExist(err) {
		return err
	}
	var all []kernelInfo
	for _, p := range ptxs {
		stem := strings.TrimSuffix(filepath.Base(p), ".ptx")
		if !have[stem] {
			problems = append(problems, fmt.Sprintf("%s has no source %s.cu", p, filepath.Join(srcDir, stem)))
		}
		cmd := exec.Command("ptxas", "-arch="+arch, "-v", p, "-o", os.DevNull)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("ptxas -arch=%s %s: %v\n%s", arch, p, err, stderr.String())
		}
		ks := parsePtxasVerbose(stderr.String())
		for _, k := range ks {
			fmt.Printf("%-14s %-44s regs %3d  smem %6d  stack %4d  spill st/ld %d/%d\n",
				stem, k.Name, k.Registers, k.SharedBytes, k.StackBytes, k.SpillStores, k.SpillLoads)
		}
		all = append(all, ks...)
	}
	for _, k := range spillViolations(all, allowed) {
		problems = append(problems, fmt.Sprintf("kernel %s spills registers under ptxas -arch=%s (hot kernels must not; list it in %s with a reason only if it is cold)", k, arch, allowFile))
	}
	fmt.Printf("ptxcheck: %d sources, %d kernels checked for %s\n", len(sources), len(all), arch)
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

// parseAllowList reads "kernel reason..." lines; # starts a comment.
func parseAllowList(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m[f[0]] = strings.Join(f[1:], " ")
	}
	return m
}

// spillViolations lists the kernels that spill and are not allowed to.
func spillViolations(ks []kernelInfo, allowed map[string]string) []string {
	var bad []string
	for _, k := range ks {
		if k.SpillStores+k.SpillLoads == 0 {
			continue
		}
		if _, ok := allowed[k.Name]; !ok {
			bad = append(bad, k.Name)
		}
	}
	return bad
}
