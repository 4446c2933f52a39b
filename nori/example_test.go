package nori_test

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nori-ml/nori/nori"
)

// Reading a CSV file with mixed columns: each column is typed on its own,
// strings make a column categorical, and empty/NA/NaN cells are missing.
func ExampleReadCSV() {
	src := `city,rooms,area,price
"Paris, FR",3,70.5,510
Lyon,NA,55,
Nice,2,,300
`
	t, err := nori.ReadCSV(strings.NewReader(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range t.Names() {
		kind, _ := t.Kind(name)
		fmt.Printf("%s: %v\n", name, kind)
	}
	city, _ := t.Categorical("city")
	rooms, _ := t.Numeric("rooms")
	fmt.Printf("%q %v\n", city, rooms)
	// Output:
	// city: categorical
	// rooms: numeric
	// area: numeric
	// price: numeric
	// ["Paris, FR" "Lyon" "Nice"] [3 NaN 2]
}

// Reducing predicted quantiles to point estimates: the quantile function is
// piecewise linear between the levels and flat beyond them; the mean is its
// integral, the median its value at 0.5, other levels interpolate.
func ExampleDistribution() {
	d, err := nori.NewDistribution(
		[]float64{0.25, 0.5, 0.75},
		[][]float64{{1, 2, 4}, {10, 10, 10}},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Row 0: 0.25*1 + 0.5*(1+2)*0.25 + 0.5*(2+4)*0.25 + 0.25*4 = 2.375.
	fmt.Println("mean:", d.Mean())
	fmt.Println("median:", d.Median())
	q, _ := d.Quantile(0.625) // halfway between levels 0.5 and 0.75
	fmt.Println("q0.625:", q)
	q, _ = d.Quantile(0.9) // beyond the last level: flat
	fmt.Println("q0.9:", q)
	// Output:
	// mean: [2.375 10]
	// median: [2 10]
	// q0.625: [3 10]
	// q0.9: [4 10]
}

// Without options NewRegressor uses the pretrained checkpoint embedded in
// the binary. (The printed values hold for any trained weights; the
// predictions themselves are not printed because they change when the
// embedded checkpoint is retrained.)
func ExampleNewRegressor() {
	X := [][]float64{{1, 0}, {2, 1}, {3, 0}, {4, 1}, {5, 0}, {6, 1}, {7, 0}, {8, 1}}
	y := []float64{2, 5, 6, 9, 10, 13, 14, 17} // 2*x0 + 2*x1
	reg, err := nori.NewRegressor()
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reg.Fit(X, y); err != nil {
		fmt.Println(err)
		return
	}
	pred, err := reg.Predict([][]float64{{4.5, 0}, {6.5, 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("predictions:", len(pred))
	info, err := nori.DefaultCheckpointInfo()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("quantile levels of the embedded model:", info.Config.Quantiles)
	// Output:
	// predictions: 2
	// quantile levels of the embedded model: 999
}

// The API end to end on a table with strings. The model here is UNTRAINED
// (random Tiny weights): its predictions are noise, so the example prints
// only shapes and properties that hold for any model. A real run uses
// NewRegressor() (the embedded pretrained model) instead.
func ExampleRegressor_FitTable() {
	train, _ := nori.ReadCSV(strings.NewReader(`size,color,price
1.0,red,10
2.0,blue,19
3.0,red,31
4.0,green,42
5.0,blue,48
6.0,red,61
`))
	test, _ := nori.ReadCSV(strings.NewReader(`color,size
red,2.5
purple,7
`))
	untrained, _ := nori.NewModel(nori.Tiny(), 1)
	reg, err := nori.NewRegressor(nori.WithModel(untrained), nori.WithEnsemble(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reg.FitTable(train, "price"); err != nil {
		fmt.Println(err)
		return
	}
	dist, err := reg.PredictTableDistribution(test)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("rows:", dist.Len(), "levels:", len(dist.Levels()))
	sorted := true
	for i := range dist.Len() {
		sorted = sorted && sort.Float64sAreSorted(dist.Row(i))
	}
	fmt.Println("quantiles non-decreasing:", sorted)
	q, _ := reg.PredictTableQuantiles(test, []float64{0.1, 0.9})
	fmt.Println("quantile rows:", len(q), "levels per row:", len(q[0]))
	// Output:
	// rows: 2 levels: 99
	// quantiles non-decreasing: true
	// quantile rows: 2 levels per row: 2
}
