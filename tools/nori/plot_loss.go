package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nori-ml/nori/nori"
)

// plotLossCurve draws the training loss of a JSONL log (each line's window
// mean, its moving average, skipped steps marked) and writes it as a PNG,
// atomically, so that a reader never sees a half-written image.
func plotLossCurve(logPath, pngPath, name string) (err error) {
	defer func() {
		// gonum/plot panics on some degenerate inputs; report, do not crash.
		if e := recover(); e != nil {
			err = fmt.Errorf("loss plot: %v", e)
		}
	}()
	log, err := nori.ReadTrainLog(logPath)
	if err != nil {
		return err
	}
	var loss, ma, skipped plotter.XYs
	// The smoothed curve is a debiased exponential average of the log lines
	// (TensorBoard's smoothing); the trainer's own moving average starts at
	// the first, much higher loss and lags behind.
	const smooth = 0.9
	acc, weight := 0.0, 0.0
	for _, e := range log {
		x := float64(e.Step + 1)
		if e.Skipped > 0 {
			y := e.Loss
			if math.IsNaN(y) || math.IsInf(y, 0) {
				y = math.Inf(1) // drawn at the top edge
			}
			skipped = append(skipped, plotter.XY{X: x, Y: y})
			continue
		}
		loss = append(loss, plotter.XY{X: x, Y: e.Loss})
		acc, weight = smooth*acc+(1-smooth)*e.Loss, smooth*weight+(1-smooth)
		ma = append(ma, plotter.XY{X: x, Y: acc / weight})
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("nori train %q: loss (pinball + crossing penalty)", name)
	p.X.Label.Text = "step"
	p.Y.Label.Text = "loss"
	p.Add(plotter.NewGrid())
	if len(loss) > 0 {
		l, err := plotter.NewLine(loss)
		if err != nil {
			return err
		}
		l.Color = color.NRGBA{R: 31, G: 119, B: 180, A: 110}
		l.Width = vg.Points(0.8)
		m, err := plotter.NewLine(ma)
		if err != nil {
			return err
		}
		m.Color = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
		m.Width = vg.Points(1.8)
		p.Add(l, m)
		p.Legend.Add("loss (log window mean)", l)
		p.Legend.Add("smoothed", m)
	}
	// Zoom on the bulk of the curve: the first steps' loss is several times
	// the rest, and a skipped spike far more; skipped steps are drawn at the
	// top edge when they are above it.
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, v := range loss[len(loss)/10:] {
		ymin, ymax = min(ymin, v.Y), max(ymax, v.Y)
	}
	if !(ymax > ymin) { // no curve, or a flat one
		ymin, ymax = 0, 1
		if len(loss) > 0 {
			ymin, ymax = max(0, loss[0].Y-1), loss[0].Y+1
		}
	}
	ymin, ymax = max(0, ymin-0.1*(ymax-ymin)), ymax+0.3*(ymax-ymin)
	for i := range skipped {
		skipped[i].Y = min(skipped[i].Y, ymax)
	}
	if len(skipped) > 0 {
		s, err := plotter.NewScatter(skipped)
		if err != nil {
			return err
		}
		s.GlyphStyle.Shape = draw.CrossGlyph{}
		s.GlyphStyle.Color = color.Black
		p.Add(s)
		p.Legend.Add("skipped step", s)
	}
	p.Y.Min, p.Y.Max = ymin, ymax
	p.Legend.Top = true
	w, err := p.WriterTo(8*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return err
	}
	return saveAtomic(pngPath, buf.Bytes())
}

// saveAtomic writes data to path through a synced temporary file in the
// same directory and a rename.
func saveAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
