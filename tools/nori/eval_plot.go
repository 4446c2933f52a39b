package main

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nori-ml/nori/nori"
)

// evalPalette colours the baselines (matplotlib's tab10).
var evalPalette = []color.NRGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
}

// plotEvalComparison draws, for every table and baseline, nori's mean R²
// (y) against the baseline's (x), with the diagonal: points above it are
// tables where nori wins. R² below -0.2 is drawn at -0.2 so that one
// failure does not squash the plot.
func plotEvalComparison(path string, names []string, perTable map[string]float64, base *nori.Baselines) (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("plot: %v", e)
		}
	}()
	const floor = -0.2
	clip := func(v float64) float64 { return max(v, floor) }
	p := plot.New()
	p.Title.Text = "test R² per table: nori vs baselines (above the diagonal: nori better)"
	p.X.Label.Text = "baseline R² (mean over splits)"
	p.Y.Label.Text = "nori R² (mean over splits)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = floor, 1, floor, 1
	p.Add(plotter.NewGrid())
	diag, err := plotter.NewLine(plotter.XYs{{X: floor, Y: floor}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	diag.Color = color.Gray{Y: 120}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}}
	for k, m := range base.Models {
		var xys plotter.XYs
		for _, n := range names {
			if v, ok := base.R2[n][m]; ok {
				xys = append(xys, plotter.XY{X: clip(v), Y: clip(perTable[n])})
			}
		}
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		s.GlyphStyle.Color = evalPalette[k%len(evalPalette)]
		s.GlyphStyle.Shape = shapes[k%len(shapes)]
		s.GlyphStyle.Radius = vg.Points(3)
		p.Add(s)
		p.Legend.Add(m, s)
	}
	p.Legend.Top = false
	p.Legend.Left = false
	w, err := p.WriterTo(7*vg.Inch, 7*vg.Inch, "png")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return err
	}
	return saveAtomic(path, buf.Bytes())
}
