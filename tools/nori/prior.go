package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/prior"
)

func init() {
	register("prior", "write synthetic training tables (CSV + manifest.json, optional PNG plots)", runPrior)
}

func runPrior(args []string) error { return priorMain(args, os.Stdout, os.Stderr) }

// priorMain is the prior subcommand with its output streams.
func priorMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prior", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10, "number of tables")
	seed := fs.Uint64("seed", 1, "seed: table i of seed s is the same wherever it is drawn (training batches included)")
	rowsFlag := fs.String("rows", "512", "rows per table: a count R, or a range LO:HI drawn log-uniformly per table")
	featFlag := fs.String("features", "16", "features per table: a count F, or a range LO:HI drawn log-uniformly per table")
	out := fs.String("out", "", "output directory (required; created if missing)")
	plot := fs.Bool("plot", false, "also write PNG figures of the first -plots tables: target against its 3 most correlated features, histograms")
	plots := fs.Int("plots", 4, "number of tables to plot with -plot")
	gen := fs.String("generator", "", "draw every table from this generator only (one of: "+strings.Join(prior.Names(), ", ")+")")
	noFilter := fs.Bool("nofilter", false, "skip the learnability filter")
	force := fs.Bool("force", false, "overwrite existing files in -out")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nori prior -n N -seed S -rows R|LO:HI -features F|LO:HI -out DIR [-plot] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	if *n < 1 || *n > 10_000_000 {
		return fmt.Errorf("-n %d: want 1..10000000", *n)
	}
	if *plot && *plots < 1 {
		return fmt.Errorf("-plots %d: want at least 1", *plots)
	}
	cfg := prior.DefaultConfig()
	var err error
	if cfg.Sizes.MinRows, cfg.Sizes.MaxRows, err = parseSizeRange("-rows", *rowsFlag); err != nil {
		return err
	}
	if cfg.Sizes.MinFeatures, cfg.Sizes.MaxFeatures, err = parseSizeRange("-features", *featFlag); err != nil {
		return err
	}
	// Every size in range, not the batch buckets: tables here are not batched.
	cfg.Sizes.RowBuckets, cfg.Sizes.FeatureBuckets = 0, 0
	if err := cfg.Sizes.Validate(); err != nil {
		return fmt.Errorf("-rows/-features: %v", err)
	}
	if *gen != "" {
		if _, ok := prior.Lookup(*gen); !ok {
			return fmt.Errorf("-generator %q: unknown (have %s)", *gen, strings.Join(prior.Names(), ", "))
		}
		cfg.Shares = map[string]float64{*gen: 1}
	}
	cfg.Filter.Enabled = !*noFilter
	p, err := prior.New(cfg)
	if err != nil {
		return err
	}

	nPlot := 0
	if *plot {
		nPlot = min(*plots, *n)
	}
	files := priorFileNames(*n, nPlot)
	if err := prepareOutDir(*out, files.all(), *force); err != nil {
		return err
	}

	man := prior.NewManifest(*seed, cfg)
	// Draw in chunks (tables in parallel, files in order) to bound memory.
	const chunk = 64
	for lo := 0; lo < *n; lo += chunk {
		hi := min(lo+chunk, *n)
		tables := make([]*prior.Table, hi-lo)
		errs := make([]error, hi-lo)
		par.Parallel(hi-lo, 1, func(a, b int) {
			for k := a; k < b; k++ {
				i := lo + k
				sh := cfg.Sizes.Shape(*seed, int64(i))
				tables[k], errs[k] = p.Table(*seed, uint64(i), sh.Rows, sh.Features)
			}
		})
		for k, t := range tables {
			i := lo + k
			if errs[k] != nil {
				return fmt.Errorf("table %d: %w", i, errs[k])
			}
			var buf bytes.Buffer
			if err := prior.WriteCSV(&buf, t); err != nil {
				return err
			}
			if err := writeFileAtomic(filepath.Join(*out, files.csv[i]), buf.Bytes()); err != nil {
				return err
			}
			man.Add(files.csv[i], t)
			if i < nPlot {
				if err := plotTable(filepath.Join(*out, files.plots[i][0]), filepath.Join(*out, files.plots[i][1]), t, files.csv[i]); err != nil {
					return fmt.Errorf("plotting table %d: %w", i, err)
				}
			}
		}
	}
	var buf bytes.Buffer
	if _, err := man.WriteTo(&buf); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(*out, "manifest.json"), buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d tables to %s (manifest.json", *n, *out)
	if nPlot > 0 {
		fmt.Fprintf(stdout, ", %d plotted", nPlot)
	}
	fmt.Fprintln(stdout, ")")
	return nil
}

// parseSizeRange parses "N" or "LO:HI" (positive integers, LO <= HI).
func parseSizeRange(flagName, s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, ":")
	if lo, err = strconv.Atoi(strings.TrimSpace(a)); err != nil || lo < 1 {
		return 0, 0, fmt.Errorf("%s %q: want a positive count or a range LO:HI", flagName, s)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil || hi < lo {
			return 0, 0, fmt.Errorf("%s %q: want a range LO:HI of positive counts with LO <= HI", flagName, s)
		}
	}
	return lo, hi, nil
}

// priorFiles names the files of one run, relative to the output directory.
type priorFiles struct {
	csv   []string
	plots [][2]string // scatter, histogram
}

func priorFileNames(n, nPlot int) priorFiles {
	width := max(5, len(strconv.Itoa(n-1)))
	var f priorFiles
	for i := 0; i < n; i++ {
		base := fmt.Sprintf("table_%0*d", width, i)
		f.csv = append(f.csv, base+".csv")
		if i < nPlot {
			f.plots = append(f.plots, [2]string{base + "_scatter.png", base + "_hist.png"})
		}
	}
	return f
}

func (f priorFiles) all() []string {
	out := append([]string{"manifest.json"}, f.csv...)
	for _, p := range f.plots {
		out = append(out, p[0], p[1])
	}
	return out
}

// prepareOutDir creates dir if needed and refuses to overwrite any of the
// files about to be written unless force is set.
func prepareOutDir(dir string, files []string, force bool) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("-out %s exists and is not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if force {
		return nil
	}
	for _, name := range files {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s already exists (use -force to overwrite)", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that an interrupted run leaves no partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
