package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/nori-ml/nori/prior"
)

// Figures of synthetic tables, so that a person can look at what the model
// learns from: the target against its three most correlated features
// (scatter), and histograms of the target and of the first features.

const (
	scatterPanels = 3
	histCols      = 4
	histRows      = 3 // target + up to 11 features
)

// plotTable writes the scatter and histogram figures of t (named name in
// the titles) as PNG files.
func plotTable(scatterPath, histPath string, t *prior.Table, name string) (err error) {
	defer func() {
		// gonum/plot panics on some degenerate inputs; report, do not crash.
		if e := recover(); e != nil {
			err = fmt.Errorf("plot: %v", e)
		}
	}()
	title := fmt.Sprintf("%s: %s", name, t.Info.Generator)

	// Scatter: the target against its most correlated features.
	top := topCorrelated(t, scatterPanels)
	row := make([]*plot.Plot, 0, scatterPanels)
	for _, j := range top {
		x, y := completePairs(t.Column(j), t.Y)
		p := plot.New()
		p.Title.Text = fmt.Sprintf("f%d%s, r = %.2f", j, catMark(t, j), pearson(x, y))
		p.X.Label.Text = fmt.Sprintf("f%d", j)
		p.Y.Label.Text = "target"
		xys := make(plotter.XYs, len(x))
		for i := range x {
			xys[i] = plotter.XY{X: x[i], Y: y[i]}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		s.GlyphStyle.Radius = vg.Points(1.5)
		s.GlyphStyle.Color = color.NRGBA{R: 31, G: 119, B: 180, A: 150}
		p.Add(s)
		row = append(row, p)
	}
	if err := writeGrid(scatterPath, [][]*plot.Plot{row}, title+" (target vs most correlated features)", 5*vg.Inch*vg.Length(len(row))/1.6, 4*vg.Inch); err != nil {
		return err
	}

	// Histograms: the target, then features 0, 1, ...
	grid := make([][]*plot.Plot, 0, histRows)
	cells := min(histRows*histCols, t.Features+1)
	for k := 0; k < cells; k++ {
		if k%histCols == 0 {
			grid = append(grid, make([]*plot.Plot, 0, histCols))
		}
		vals, label := t.Y, "target"
		if k > 0 {
			vals, label = t.Column(k-1), fmt.Sprintf("f%d%s", k-1, catMark(t, k-1))
		}
		h, err := histogram(vals, label)
		if err != nil {
			return err
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], h)
	}
	// Align needs full rows: pad the last one with empty plots.
	for last := grid[len(grid)-1]; len(last) < len(grid[0]); last = grid[len(grid)-1] {
		grid[len(grid)-1] = append(last, nil)
	}
	return writeGrid(histPath, grid, title+" (histograms)", 3*vg.Inch*vg.Length(len(grid[0])), 2.4*vg.Inch*vg.Length(len(grid))+0.4*vg.Inch)
}

func catMark(t *prior.Table, j int) string {
	if t.Categorical[j] {
		return " (categorical)"
	}
	return ""
}

// histogram plots the non-missing values of vals, with the share missing in
// the title.
func histogram(vals []float64, label string) (*plot.Plot, error) {
	obs := make(plotter.Values, 0, len(vals))
	for _, v := range vals {
		if !math.IsNaN(v) {
			obs = append(obs, v)
		}
	}
	p := plot.New()
	p.Title.Text = label
	if miss := len(vals) - len(obs); miss > 0 {
		p.Title.Text += fmt.Sprintf(" (%.0f%% missing)", 100*float64(miss)/float64(len(vals)))
	}
	if len(obs) == 0 {
		return p, nil
	}
	lo, hi := obs[0], obs[0]
	for _, v := range obs {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi { // one value: a single bar of unit width
		obs = append(obs, lo-0.5, lo+0.5)
	}
	h, err := plotter.NewHist(obs, 30)
	if err != nil {
		return nil, err
	}
	h.FillColor = color.NRGBA{R: 255, G: 127, B: 14, A: 220}
	h.LineStyle.Width = 0
	p.Add(h)
	return p, nil
}

// writeGrid draws plots (rows of equal length; nil cells left blank) under a
// title and writes a PNG.
func writeGrid(path string, plots [][]*plot.Plot, title string, w, h vg.Length) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	titleH := 0.35 * vg.Inch
	sty := plot.New().Title.TextStyle
	sty.Font.Size = vg.Points(14)
	dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - titleH*0.25}, title)
	body := draw.Crop(dc, 0, 0, 0, -titleH)
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, body)
	for i := range plots {
		for j, p := range plots[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// topCorrelated returns up to k features ordered by decreasing |Pearson
// correlation| with the target over rows where both are observed (ties and
// undefined correlations last, by index).
func topCorrelated(t *prior.Table, k int) []int {
	type fc struct {
		j int
		r float64
	}
	cs := make([]fc, t.Features)
	for j := range cs {
		x, y := completePairs(t.Column(j), t.Y)
		r := math.Abs(pearson(x, y))
		if math.IsNaN(r) {
			r = -1
		}
		cs[j] = fc{j, r}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].r > cs[b].r })
	out := make([]int, 0, k)
	for _, c := range cs[:min(k, len(cs))] {
		out = append(out, c.j)
	}
	return out
}

// completePairs returns the (x, y) pairs where x is observed.
func completePairs(x, y []float64) (xs, ys []float64) {
	for i := range x {
		if !math.IsNaN(x[i]) {
			xs = append(xs, x[i])
			ys = append(ys, y[i])
		}
	}
	return xs, ys
}

// pearson is the sample correlation of x and y (NaN when either is constant
// or there are fewer than two pairs).
func pearson(x, y []float64) float64 {
	n := float64(len(x))
	if len(x) < 2 {
		return math.NaN()
	}
	mx, my := 0.0, 0.0
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	sxy, sxx, syy := 0.0, 0.0, 0.0
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}
