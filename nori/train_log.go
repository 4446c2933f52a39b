package nori

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nori-ml/nori/tensor"
)

// LogFile is the JSONL training log of a training directory.
const LogFile = "train_log.jsonl"

// LogEntry is one line of the training log: a window of LogEvery steps
// ending at Step (a skipped step always gets a line of its own, window 1).
type LogEntry struct {
	Step int `json:"step"` // last step of the window (0-based)
	// Loss, Pinball and Crossing are means over the window's accepted steps
	// (the skipped step's own values on a skip line).
	Loss     float64 `json:"loss"`
	Pinball  float64 `json:"pinball"`
	Crossing float64 `json:"crossing"`
	LossMA   float64 `json:"loss_ma"`
	LR       float64 `json:"lr"`
	// GradNorm is the gradient norm before clipping of the window's last
	// accepted step.
	GradNorm   float64 `json:"grad_norm"`
	Skipped    int     `json:"skipped"` // skipped steps in the window
	SkipReason string  `json:"skip_reason,omitempty"`
	Rows       int     `json:"rows"`
	Features   int     `json:"features"`
	// StepsPerSec and TablesPerSec are the window's rates (batch building
	// included); Elapsed is the run's training time in seconds, earlier
	// pieces of a resumed run included.
	StepsPerSec  float64 `json:"steps_per_s"`
	TablesPerSec float64 `json:"tables_per_s"`
	Elapsed      float64 `json:"elapsed_s"`
	TablesSeen   int64   `json:"tables_seen"`
	// Device is the GPU's work per step over the window (runs on a GPU
	// only; absent on the CPU and on skip lines).
	Device *DeviceWindow `json:"device,omitempty"`
}

// DeviceWindow is a log window's GPU work per step: what tells an
// overhead-bound step (many launches, copies or forced collections per step)
// from a kernel-bound one.
type DeviceWindow struct {
	Launches    float64 `json:"launches_per_step"`
	Uploads     float64 `json:"uploads_per_step"`
	Downloads   float64 `json:"downloads_per_step"`
	Collections float64 `json:"gcs_per_step"`   // garbage collections the allocator forced
	CollectMs   float64 `json:"gc_ms_per_step"` // milliseconds they blocked the step
	PeakGiB     float64 `json:"peak_gib"`       // allocator's peak bytes in use so far
}

// jsonFloat makes NaN and infinities encodable (JSON has no such numbers):
// they are logged as null, read back as NaN.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// MarshalJSON writes non-finite numbers as null.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	type plain LogEntry
	return json.Marshal(struct {
		plain
		Loss     jsonFloat `json:"loss"`
		Pinball  jsonFloat `json:"pinball"`
		Crossing jsonFloat `json:"crossing"`
		GradNorm jsonFloat `json:"grad_norm"`
	}{plain(e), jsonFloat(e.Loss), jsonFloat(e.Pinball), jsonFloat(e.Crossing), jsonFloat(e.GradNorm)})
}

// UnmarshalJSON reads null numbers as NaN.
func (e *LogEntry) UnmarshalJSON(b []byte) error {
	type plain LogEntry
	var aux struct {
		plain
		Loss     *float64 `json:"loss"`
		Pinball  *float64 `json:"pinball"`
		Crossing *float64 `json:"crossing"`
		GradNorm *float64 `json:"grad_norm"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*e = LogEntry(aux.plain)
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	e.Loss, e.Pinball, e.Crossing, e.GradNorm = val(aux.Loss), val(aux.Pinball), val(aux.Crossing), val(aux.GradNorm)
	return nil
}

// ReadTrainLog reads a JSONL training log. A torn last line (the process
// killed mid-write) is ignored; any other bad line is an error naming it.
func ReadTrainLog(path string) ([]LogEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nori: training log: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	var out []LogEntry
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var e LogEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			if i == len(lines)-1 { // no newline after it: torn
				break
			}
			return nil, fmt.Errorf("nori: training log %s line %d: %w", path, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// trainLog accumulates steps into windows and appends lines to the log.
type trainLog struct {
	f     *os.File
	w     *bufio.Writer
	every int
	// tables seen at the start of the window
	// window sums
	n                int
	loss, pin, cross float64
	grad             float64
	lastStart        time.Time
	steps            int
	tables           int64
	// gpu is the model's device when it is a GPU (nil otherwise), last its
	// counters at the start of the window.
	gpu  tensor.GPUDevice
	last tensor.DeviceCounters
}

// watch makes the log record dev's counters when dev is a GPU.
func (l *trainLog) watch(dev tensor.Device) {
	if g, ok := dev.(tensor.GPUDevice); ok {
		l.gpu, l.last = g, g.Counters()
	}
}

// openTrainLog opens dir's log for appending after dropping the lines of
// steps >= fromStep (left by a run that went past its last checkpoint), so
// that a resumed run's log reads as one uninterrupted run. The rewrite is
// atomic.
func openTrainLog(dir string, fromStep, every int, tablesSeen int64) (*trainLog, error) {
	path := filepath.Join(dir, LogFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("nori: training log: %w", err)
	}
	var keep bytes.Buffer
	for _, l := range bytes.Split(old, []byte("\n")) {
		var e LogEntry
		if len(bytes.TrimSpace(l)) == 0 || json.Unmarshal(l, &e) != nil || e.Step >= fromStep {
			continue
		}
		keep.Write(l)
		keep.WriteByte('\n')
	}
	if err := writeFileAtomically(path, keep.Bytes()); err != nil {
		return nil, fmt.Errorf("nori: training log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("nori: training log: %w", err)
	}
	now := time.Now()
	return &trainLog{f: f, w: bufio.NewWriter(f), every: every, tables: tablesSeen, lastStart: now}, nil
}

// add records a step; it writes a line at the end of each window and for
// every skipped step.
func (l *trainLog) add(r StepResult, t *Trainer) error {
	l.steps++
	e := LogEntry{
		Step: r.Step, LossMA: r.LossMA, LR: r.LR, Rows: r.Rows, Features: r.Features,
		Elapsed: t.Elapsed().Seconds(), TablesSeen: t.TablesSeen(), GradNorm: math.NaN(),
	}
	if r.Skipped {
		e.Loss, e.Pinball, e.Crossing, e.GradNorm = r.Loss, r.Pinball, r.Crossing, r.GradNorm
		e.Skipped, e.SkipReason = 1, r.SkipReason
		return l.write(e, false)
	}
	l.n++
	l.loss += r.Loss
	l.pin += r.Pinball
	l.cross += r.Crossing
	l.grad = r.GradNorm
	if (r.Step+1)%l.every != 0 {
		return nil
	}
	k := float64(l.n)
	e.Loss, e.Pinball, e.Crossing, e.GradNorm = l.loss/k, l.pin/k, l.cross/k, l.grad
	return l.write(e, true)
}

func (l *trainLog) write(e LogEntry, window bool) error {
	now := time.Now()
	if window {
		if dt := now.Sub(l.lastStart).Seconds(); dt > 0 {
			e.StepsPerSec = float64(l.steps) / dt
			e.TablesPerSec = float64(e.TablesSeen-l.tables) / dt
		}
		if l.gpu != nil && l.steps > 0 {
			c := l.gpu.Counters()
			d, k := c.Sub(l.last), float64(l.steps)
			l.last = c
			e.Device = &DeviceWindow{
				Launches: float64(d.Launches) / k, Uploads: float64(d.Uploads) / k, Downloads: float64(d.Downloads) / k,
				Collections: float64(d.Collections) / k, CollectMs: d.CollectTime.Seconds() * 1e3 / k,
				PeakGiB: float64(l.gpu.MemStats().PeakInUse) / (1 << 30),
			}
		}
		l.n, l.loss, l.pin, l.cross, l.steps, l.lastStart, l.tables = 0, 0, 0, 0, 0, now, e.TablesSeen
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	// Each line goes to the file whole and at once (one line per LogEvery
	// steps, so the cost is nil): a reader following the run (tail -f, a
	// plot) sees every window as it ends, never a line torn at a buffer
	// boundary.
	if _, err := l.w.Write(b); err != nil {
		return fmt.Errorf("nori: training log: %w", err)
	}
	return l.flush()
}

// flush writes buffered lines to the file.
func (l *trainLog) flush() error {
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("nori: training log: %w", err)
	}
	return nil
}

func (l *trainLog) close() error {
	err := l.flush()
	if e := l.f.Close(); err == nil && e != nil {
		err = fmt.Errorf("nori: training log: %w", e)
	}
	return err
}

// writeFileAtomically writes data to a temporary file next to path, syncs
// it and renames it over path.
func writeFileAtomically(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Progress draws a one-line progress bar (step, loss, rates, ETA) on a
// terminal stream, redrawn at most every Interval.
type Progress struct {
	W        io.Writer
	Interval time.Duration
	target   int
	tables0  int64
	first    int
	start    time.Time
	last     time.Time
}

// NewProgress returns a bar for a run from step first (tablesSeen tables
// consumed so far) to target.
func NewProgress(w io.Writer, first, target int, tablesSeen int64) *Progress {
	now := time.Now()
	return &Progress{W: w, Interval: 250 * time.Millisecond, target: target, tables0: tablesSeen, first: first, start: now}
}

// Update redraws the bar after a step (always after the last one), with the
// number of tables consumed so far.
func (p *Progress) Update(r StepResult, tablesSeen int64) {
	if p == nil || p.W == nil {
		return
	}
	now := time.Now()
	done := r.Step + 1
	if now.Sub(p.last) < p.Interval && done < p.target {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate, trate := 0.0, 0.0
	if el > 0 {
		rate, trate = float64(done-p.first)/el, float64(tablesSeen-p.tables0)/el
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.target-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	const width = 24
	frac := float64(done) / float64(max(p.target, 1))
	fill := int(math.Round(frac * width))
	bar := strings.Repeat("=", min(fill, width)) + strings.Repeat(" ", width-min(fill, width))
	skip := ""
	if r.Skipped {
		skip = " (skipped: " + r.SkipReason + ")"
	}
	fmt.Fprintf(p.W, "\rstep %d/%d [%s] loss %.4f (avg %.4f) %.2f steps/s %.1f tables/s ETA %s%s\x1b[K",
		done, p.target, bar, r.Loss, r.LossMA, rate, trate, eta, skip)
	if done >= p.target {
		fmt.Fprintln(p.W)
	}
}
