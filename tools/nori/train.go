package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/nori-ml/nori/configs"
	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/nori"
)

func init() {
	register("train", "pretrain a checkpoint on the synthetic prior", runTrain)
}

func runTrain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return trainMain(ctx, args, os.Stdout, os.Stderr)
}

// trainMain is the train subcommand with its context (cancelled on SIGINT
// or SIGTERM: the run checkpoints and stops) and output streams.
func trainMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgArg := fs.String("config", "", "training config: a JSON file, or the name of a built-in config ("+strings.Join(configs.Names(), ", ")+"); with -resume, optional (the run's own config is used and must match)")
	steps := fs.Int("steps", 0, "train until this many steps are done in total (a resumed run counts its earlier steps; default: the config's total_steps)")
	out := fs.String("out", "", "output directory: checkpoints (model.safetensors = EMA weights, train_state.safetensors), train_log.jsonl, loss.png, config.json (required)")
	resume := fs.Bool("resume", false, "continue the run saved in -out exactly where its last checkpoint left it")
	seedSet := false
	seed := fs.Uint64("seed", 0, "override the config's seed (initial weights and data stream)")
	initFrom := fs.String("init", "", "start the new run from this model checkpoint's weights instead of random ones (\"default\": the embedded checkpoint); its model must be the config's; sets the config's init")
	workers := fs.Int("workers", 0, "worker goroutines of the kernels (default: all cores)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	devf := addDeviceFlags(fs, "bf16")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the training steps to this file (go tool pprof; on a GPU it shows the host's share of each step)")
	memCheck := fs.Bool("mem-check", true, "before training, measure one table of each remaining curriculum stage's largest shape, print each step's estimated peak memory, and on the CPU refuse a run whose steps would not fit in 70% of the machine's memory")
	memGiB := fs.Float64("mem-limit", 0, "soft memory limit of the process in GiB (the garbage collector works harder near it; default: 60% of physical memory, or GOMEMLIMIT)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nori train -config FILE|NAME -out DIR [-steps N] [-resume] [-init CHECKPOINT] [-seed S] [-workers W]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *out == "":
		return errors.New("-out is required")
	case *cfgArg == "" && !*resume:
		return errors.New("-config is required (a JSON file or one of: " + strings.Join(configs.Names(), ", ") + ")")
	case *initFrom != "" && *resume:
		return errors.New("-init starts a new run; a resumed run continues from its own training state")
	case *steps < 0:
		return fmt.Errorf("-steps %d: want a positive step count", *steps)
	case *workers < 0:
		return fmt.Errorf("-workers %d: want >= 1 (0: all cores)", *workers)
	}
	if *workers > 0 {
		defer par.SetWorkers(par.SetWorkers(*workers))
	}
	// The profile file is created before anything else is written, so that
	// a bad path fails the command before it starts a run.
	var profile *os.File
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		profile = f
	}

	dev, err := devf.open()
	if err != nil {
		return err
	}
	if *memGiB < 0 {
		return fmt.Errorf("-mem-limit %g: want a positive number of GiB", *memGiB)
	}
	limit, err := setTrainMemoryLimit(*memGiB)
	if err != nil {
		fmt.Fprintf(stderr, "warning: no memory limit set (%v)\n", err)
	}
	setTrainPoolLimit(limit)
	var want *nori.TrainConfig
	if *cfgArg != "" {
		c, err := loadTrainConfig(*cfgArg)
		if err != nil {
			return err
		}
		if seedSet {
			c.Seed = *seed
		}
		if *initFrom != "" {
			c.Init = *initFrom
		}
		want = &c
	}
	statePath := filepath.Join(*out, nori.TrainStateFile)
	var tr *nori.Trainer
	if *resume {
		stored, err := nori.ReadTrainConfig(*out)
		if err != nil {
			return err
		}
		if want != nil && string(want.JSON()) != string(stored.JSON()) {
			return fmt.Errorf("-config %s (seed %d) differs from the config of the run in %s; resume without -config, or start a new run in another directory", *cfgArg, want.Seed, *out)
		}
		if want == nil && seedSet && *seed != stored.Seed {
			return fmt.Errorf("-seed %d differs from the run's seed %d; a resumed run keeps its seed", *seed, stored.Seed)
		}
		if tr, err = nori.ResumeTrainerOn(*out, dev); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "resuming %q at step %d (%d tables seen)\n", stored.Name, tr.Steps(), tr.TablesSeen())
	} else {
		if _, err := os.Stat(statePath); err == nil {
			return fmt.Errorf("%s already holds a training run (%s); pass -resume to continue it, or choose another -out", *out, statePath)
		}
		var err error
		if tr, err = nori.NewTrainerOn(*want, dev); err != nil {
			return err
		}
	}
	c := tr.Config()
	until := *steps
	if until == 0 {
		until = c.TotalSteps
	}
	if until <= tr.Steps() {
		return fmt.Errorf("-steps %d: the run in %s is already at step %d", until, *out, tr.Steps())
	}
	if *memCheck {
		// Before anything is written: a run that cannot fit leaves no
		// directory behind.
		if err := checkTrainMemory(tr, dev, stderr); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := saveAtomic(filepath.Join(*out, "config.json"), append(c.JSON(), '\n')); err != nil {
		return fmt.Errorf("writing config.json: %w", err)
	}
	m := tr.Model()
	fmt.Fprintf(stderr, "config %q: %d layers, E=%d, %d heads, %d quantiles, %d trainable parameters; batch %d, lr %g, %d workers; steps %d -> %d\n",
		c.Name, c.Model.Layers, c.Model.Embed, c.Model.Heads, c.Model.Quantiles, m.NumTrainableParams(), c.BatchSize, c.LR, par.Workers(), tr.Steps(), until)

	first, tables0, start := tr.Steps(), tr.TablesSeen(), time.Now()
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return fmt.Errorf("-cpuprofile %s: %w", *cpuProfile, err)
		}
		defer pprof.StopCPUProfile()
	}
	err = tr.Run(ctx, nori.RunOptions{
		Dir: *out, Until: until, Progress: progress,
		OnCheckpoint: func(dir string, step int) error {
			return plotLossCurve(filepath.Join(dir, nori.LogFile), filepath.Join(dir, "loss.png"), c.Name)
		},
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	done, secs := tr.Steps()-first, time.Since(start).Seconds()
	fmt.Fprintf(stdout, "trained %d steps (%d -> %d) in %.1f s: %.3f steps/s, %.2f tables/s; loss moving average %.4f; %d steps skipped in the run; checkpoint %s\n",
		done, first, tr.Steps(), secs, float64(done)/secs, float64(tr.TablesSeen()-tables0)/secs, tr.LossMA(), tr.Skipped(), filepath.Join(*out, nori.ModelFile))
	if err != nil {
		return fmt.Errorf("interrupted at step %d: checkpoint written to %s; continue with -resume", tr.Steps(), *out)
	}
	return nil
}

// loadTrainConfig reads a config file, or a built-in config by name when
// arg is not a path to an existing file (a directory that happens to share
// a built-in config's name, such as a run folder called "small", is not
// one).
func loadTrainConfig(arg string) (nori.TrainConfig, error) {
	data, err := os.ReadFile(arg)
	if fi, statErr := os.Stat(arg); statErr == nil && fi.IsDir() {
		err = fmt.Errorf("%w: %s is a directory", os.ErrNotExist, arg)
	}
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nori.TrainConfig{}, fmt.Errorf("-config %s: %w", arg, err)
		}
		if strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".json") {
			return nori.TrainConfig{}, fmt.Errorf("-config %s: no such file", arg)
		}
		if data, err = configs.Get(arg); err != nil {
			return nori.TrainConfig{}, fmt.Errorf("-config %s: %w", arg, err)
		}
	}
	c, err := nori.ParseTrainConfig(data)
	if err != nil {
		return nori.TrainConfig{}, fmt.Errorf("-config %s: %w", arg, err)
	}
	return c, nil
}
