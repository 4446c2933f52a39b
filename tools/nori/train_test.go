package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nori-ml/nori/configs"
	"github.com/nori-ml/nori/nori"
)

// trainCLIConfig writes a tiny training config (Tiny model, small tables,
// no filter) and returns its path.
func trainCLIConfig(t *testing.T, dir string) string {
	t.Helper()
	c := nori.DefaultTrainConfig(nori.Tiny())
	c.Name = "cli"
	c.BatchSize = 2
	c.TotalSteps = 6
	c.WarmupSteps = 2
	c.CheckpointEvery = 3
	c.LogEvery = 1
	c.Prior.Filter = false
	c.Curriculum = []nori.CurriculumStage{{MinRows: 20, MaxRows: 30, RowBuckets: 2, MinFeatures: 2, MaxFeatures: 4, FeatureBuckets: 2, MinContextFrac: 0.5, MaxContextFrac: 0.7}}
	p := filepath.Join(dir, "cli.json")
	if err := os.WriteFile(p, c.JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// trainCLISetup returns a temporary directory, the path of the tiny config
// written there, and a run directory beside it (not created).
func trainCLISetup(t *testing.T) (dir, cfg, run string) {
	t.Helper()
	dir = t.TempDir()
	return dir, trainCLIConfig(t, dir), filepath.Join(dir, "run")
}

func runTrainCLI(args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	err := trainMain(context.Background(), args, &out, &errw)
	return out.String(), errw.String(), err
}

// TestTrainCLIRunAndResume trains 3 steps, resumes to 6, and checks the
// files: the inference checkpoint loads, the log has 6 lines, the loss
// curve and config are written.
func TestTrainCLIRunAndResume(t *testing.T) {
	dir, cfg, run := trainCLISetup(t)
	prof := filepath.Join(dir, "cpu.pprof")
	if _, stderr, err := runTrainCLI("-config", cfg, "-out", run, "-steps", "3", "-quiet", "-cpuprofile", prof); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	// The profile is a gzipped protocol buffer (pprof's format).
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("-cpuprofile wrote %d bytes (%v), want a gzip stream", len(b), err)
	}
	stdout, stderr, err := runTrainCLI("-out", run, "-resume", "-workers", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "(3 -> 6)") || !strings.Contains(stderr, "resuming \"cli\" at step 3") || !strings.Contains(stderr, "step 6/6") {
		t.Fatalf("stdout %q\nstderr %q", stdout, stderr)
	}
	m, err := nori.LoadModel(filepath.Join(run, nori.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Config() != nori.Tiny() {
		t.Fatalf("checkpoint config %+v", m.Config())
	}
	log, err := nori.ReadTrainLog(filepath.Join(run, nori.LogFile))
	if err != nil || len(log) != 6 || log[5].Step != 5 {
		t.Fatalf("log %+v, %v", log, err)
	}
	for _, f := range []string{"loss.png", "config.json", nori.TrainStateFile} {
		if st, err := os.Stat(filepath.Join(run, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var c nori.TrainConfig
	b, _ := os.ReadFile(filepath.Join(run, "config.json"))
	if err := json.Unmarshal(b, &c); err != nil || c.Name != "cli" {
		t.Fatalf("config.json: %v %+v", err, c)
	}
}

func TestTrainCLIErrors(t *testing.T) {
	dir, cfg, run := trainCLISetup(t)
	if _, _, err := runTrainCLI("-config", cfg, "-out", run, "-steps", "1", "-quiet"); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"batch_size": 0}`), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-config", cfg}, "-out is required"},
		{[]string{"-out", filepath.Join(dir, "x")}, "-config is required"},
		{[]string{"-config", "nope", "-out", filepath.Join(dir, "x")}, `no training config named "nope"`},
		{[]string{"-config", filepath.Join(dir, "missing.json"), "-out", filepath.Join(dir, "x")}, "no such file"},
		{[]string{"-config", bad, "-out", filepath.Join(dir, "x")}, "bad.json"},
		{[]string{"-config", cfg, "-out", filepath.Join(dir, "x"), "-steps", "-2"}, "-steps -2"},
		{[]string{"-config", cfg, "-out", filepath.Join(dir, "x"), "-workers", "-1"}, "-workers -1"},
		{[]string{"-config", cfg, "-out", run}, "already holds a training run"},
		{[]string{"-out", filepath.Join(dir, "empty"), "-resume"}, "no training state"},
		{[]string{"-config", cfg, "-out", run, "-resume", "-seed", "9"}, "differs from the config of the run"},
		{[]string{"-out", run, "-resume", "-seed", "9"}, "differs from the run's seed"},
		{[]string{"-out", run, "-resume", "-steps", "1"}, "already at step 1"},
		{[]string{"-out", run, "-resume", "-init", filepath.Join(run, "model.safetensors")}, "-init starts a new run"},
		{[]string{"-config", cfg, "-out", filepath.Join(dir, "y"), "-init", filepath.Join(dir, "none.safetensors")}, "none.safetensors"},
		{[]string{"-config", cfg, "-out", filepath.Join(dir, "x"), "extra"}, "unexpected arguments"},
		{[]string{"-bogus"}, "flag provided but not defined"},
		{[]string{"-config", cfg, "-out", filepath.Join(dir, "y"), "-cpuprofile", filepath.Join(dir, "no", "such", "cpu.pprof")}, "-cpuprofile"},
	}
	for _, c := range cases {
		_, _, err := runTrainCLI(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.args, err, c.want)
		}
	}
}

// TestTrainCLIInterrupt: a cancelled context (SIGINT) checkpoints and
// reports how to resume.
func TestTrainCLIInterrupt(t *testing.T) {
	dir := t.TempDir()
	cfg := trainCLIConfig(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errw bytes.Buffer
	err := trainMain(ctx, []string{"-config", cfg, "-out", filepath.Join(dir, "run"), "-quiet"}, &out, &errw)
	if err == nil || !strings.Contains(err.Error(), "continue with -resume") {
		t.Fatalf("error %v", err)
	}
	if _, err := nori.ReadTrainConfig(filepath.Join(dir, "run")); err != nil {
		t.Fatalf("no checkpoint after the interrupt: %v", err)
	}
}

// TestTrainDeviceFlag checks the -device and -precision errors (a GPU cannot
// be opened in the default build, and the message says why).
func TestTrainDeviceFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", "tiny", "-out", t.TempDir(), "-device", "cuda"}, "without -tags cuda"},
		{[]string{"-config", "tiny", "-out", t.TempDir(), "-device", "tpu"}, "want cpu, cuda or cuda:N"},
		{[]string{"-config", "tiny", "-out", t.TempDir(), "-device", "cuda:x"}, "cuda:N"},
		{[]string{"-config", "tiny", "-out", t.TempDir(), "-precision", "fp8"}, "want fp32, tf32 or bf16"},
	} {
		var stdout, stderr bytes.Buffer
		err := trainMain(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

func TestPhysicalMemory(t *testing.T) {
	n, err := physicalMemory()
	if err != nil {
		t.Skipf("no /proc/meminfo: %v", err)
	}
	if n < 64<<20 {
		t.Fatalf("physical memory %d bytes: implausible", n)
	}
}

// TestTrainCLIInit: -init starts a new run from a checkpoint's weights and
// records the checkpoint in the run's config.
func TestTrainCLIInit(t *testing.T) {
	dir := t.TempDir()
	cfg := trainCLIConfig(t, dir)
	first := filepath.Join(dir, "first")
	if _, _, err := runTrainCLI("-config", cfg, "-out", first, "-steps", "2", "-quiet"); err != nil {
		t.Fatal(err)
	}
	initPath := filepath.Join(first, nori.ModelFile)
	second := filepath.Join(dir, "second")
	if _, _, err := runTrainCLI("-config", cfg, "-out", second, "-steps", "1", "-seed", "5", "-init", initPath, "-quiet"); err != nil {
		t.Fatal(err)
	}
	c, err := nori.ReadTrainConfig(second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Init != initPath || c.Seed != 5 {
		t.Errorf("the run's config has init %q and seed %d, want %q and 5", c.Init, c.Seed, initPath)
	}
}

// TestTrainCLIMemoryCheck: the pre-flight prints each stage's estimate,
// -mem-check=false skips it, and a batch far beyond the machine's memory is
// refused before anything is written, with an error that names the stage
// and its shape.
func TestTrainCLIMemoryCheck(t *testing.T) {
	if _, err := physicalMemory(); err != nil {
		t.Skipf("no physical memory figure here: %v", err)
	}
	dir, cfgPath, run := trainCLISetup(t)
	_, stderr, err := runTrainCLI("-config", cfgPath, "-out", run, "-steps", "1", "-quiet")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "memory: stage 1: 2 tables of 30 rows (21 context) x 4 features:") {
		t.Errorf("no memory estimate of the stage in:\n%s", stderr)
	}
	_, stderr, err = runTrainCLI("-out", run, "-resume", "-steps", "2", "-quiet", "-mem-check=false")
	if err != nil || strings.Contains(stderr, "memory:") {
		t.Errorf("-mem-check=false: error %v, output:\n%s", err, stderr)
	}

	c, err := loadTrainConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c.BatchSize = 65536 // the most a config allows: about 1 MiB each, 64 GiB
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, c.JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	if total, _ := physicalMemory(); total > 64<<30 {
		t.Skipf("this machine has %s: a 64 GiB batch may fit", nori.FormatBytes(total))
	}
	hugeRun := filepath.Join(dir, "huge-run")
	_, _, err = runTrainCLI("-config", huge, "-out", hugeRun, "-quiet")
	if err == nil || !strings.Contains(err.Error(), "out of memory budget") || !strings.Contains(err.Error(), "stage 1 (65536 tables of 30 rows x 4 features)") {
		t.Fatalf("a 65536-table batch: error %v, want an out-of-memory-budget error naming the stage", err)
	}
	if _, err := os.Stat(hugeRun); !os.IsNotExist(err) {
		t.Errorf("the refused run left %s behind (%v)", hugeRun, err)
	}
}

// TestLoadTrainConfigBuiltinBesideDirectory: a built-in config's name
// still names it when the working directory holds a folder of that name
// (a run folder called "small"), and a path to a directory is an error
// that says so.
func TestLoadTrainConfigBuiltinBesideDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("small", 0o755); err != nil {
		t.Fatal(err)
	}
	want, err := configs.Get("small")
	if err != nil {
		t.Fatal(err)
	}
	wantCfg, err := nori.ParseTrainConfig(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadTrainConfig("small")
	if err != nil {
		t.Fatalf("-config small beside a folder named small: %v", err)
	}
	if !bytes.Equal(got.JSON(), wantCfg.JSON()) {
		t.Errorf("-config small beside a folder: got\n%s\nwant the built-in\n%s", got.JSON(), wantCfg.JSON())
	}
	if _, err := loadTrainConfig("./small"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("-config ./small (a directory): error %v, want no such file", err)
	}
}
