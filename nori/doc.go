// Package nori is a tabular foundation model for regression: a transformer
// pretrained on synthetic tables that predicts a numeric target for new rows
// from a table of labelled rows given at prediction time (in-context
// learning; there is no per-dataset training). It predicts a distribution,
// 999 quantiles per row, from which the mean, the median or any quantile
// follows.
//
// # Use
//
//	reg, err := nori.NewRegressor()     // the embedded pretrained model
//	...
//	err = reg.Fit(Xtrain, ytrain)       // stores the context; validates
//	pred, err := reg.Predict(Xtest)     // means
//	q, err := reg.PredictQuantiles(Xtest, []float64{0.1, 0.9})
//	dist, err := reg.PredictDistribution(Xtest)
//
// Tables with named, mixed numeric and string columns and missing cells go
// through Table (built in code or read with ReadCSV) with FitTable and
// PredictTable; strings need no encoding by the caller. The command
// `nori predict -train train.csv -test test.csv` does the same on files.
//
// A pretrained checkpoint is embedded in the package (go:embed of
// checkpoints/default.safetensors; docs/model.md describes it):
// NewRegressor without WithCheckpoint or WithModel uses it, DefaultModel
// returns it and DefaultCheckpointInfo describes it (config, training steps).
// WithCheckpoint("file.safetensors") uses a checkpoint of your own, such as
// one written by `nori train`. NewModel's random models (Tiny, Nori6M) exist
// for tests, training and benchmarks; their predictions are noise.
//
// # Inference pipeline
//
// Fit validates the data and fits the preprocessing on the training rows
// only; every Predict method then encodes the query rows with it, one row at
// a time. Without local contexts a row's prediction never depends on the
// other query rows; with them (the default above 256 training rows, below)
// it depends on which query rows share its group, never on their order.
//
//   - Target (target_map.go): normalised by the training mean and
//     population std (std below 1e-12 counts as 1); with WithTargetPower
//     every odd member then sees its Yeo-Johnson transform, standardised
//     again. Each member's quantiles are mapped back to the target's
//     units. A constant target is predicted exactly, without running the
//     network.
//   - Columns (preprocess.go): numeric, or categorical (string columns;
//     numeric columns with fewer than 4 distinct values when there are at
//     least 100 training rows), ordinal-coded with unknown categories -1 and
//     missing cells NaN; ±Inf features read as missing; entirely missing and
//     constant columns dropped; above 256 columns, the top 256 SVD
//     components replace them.
//   - Ensemble (preprocess_member.go, 8 members by default): each member is
//     a differently preprocessed copy of the table: the first half keep the
//     original columns and add their uniform quantile transform and a
//     truncated SVD of it, the second half transform each numeric column
//     adaptively (identity, log1p, Box-Cox, Yeo-Johnson, exp or
//     quantile-to-normal by its distribution); all add 10 products of random
//     column pairs and a row fingerprint, number each categorical column's
//     categories by their mean training target (except member 0, which
//     keeps their natural order; preprocess_target_codes.go,
//     WithTargetOrderedCodes(false) shuffles them per member instead, as
//     the reference does) and shuffle the column order. The members' quantiles are
//     sorted per row and averaged.
//   - Member weights (ensemble_weights.go; WithMemberWeights): Fit predicts
//     each member's training rows in 3 held-out folds and weights the
//     average by a softmax of each member's relative excess error over the
//     best one's, so views of the table that suit the network count more.
//     Within the local contexts of tables over 512 training rows the
//     members are scored once, on 4 probe contexts, and every group shares
//     those weights (local_weights.go).
//   - Member pool (ensemble_pool.go; WithMemberPool): Fit builds 16
//     candidate members, scores each as the weighting does and keeps the
//     ensemble's size best. Every odd candidate leaves out the features
//     that the learned distance of the local contexts weights 0
//     (ensemble_subset.go, WithFeatureSubsets), so the scores also choose
//     between the full table and the features that matter.
//   - Budget (budget.go): a member's context keeps at most budget/width
//     training rows (seeded subsample); query rows go through the network in
//     chunks against context keys/values computed once.
//   - Local contexts (local_context.go, local_groups.go; the default when
//     there are more than 256 training rows, WithLocalContext to change or
//     turn off): the query rows are grouped by k-means in rank coordinates
//     of the features, about 25 rows per group, and each group is predicted
//     from the 256 training rows nearest to any of its members, with the
//     encoder and members fitted on those rows alone. The network was
//     trained on small tables and learns a query's neighbourhood far better
//     than a whole large table. Each feature's coordinate is weighted by
//     how much it helps a nearest-neighbour prediction of the target on the
//     training rows (local_metric.go, WithLocalMetric), so the neighbourhood
//     is near in the features that matter.
//   - Point estimates (quantiles.go): the quantile function is piecewise
//     linear between the levels tau_i = (i+1)/1000 and flat beyond; the mean
//     is its integral, the median its value at 0.5 (also the mode estimate),
//     other levels by linear interpolation.
//
// Every random choice comes from WithSeed's seed, and the result does not
// depend on the number of workers: the same data, seed and model give the
// same bits.
package nori
