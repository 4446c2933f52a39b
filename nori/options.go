package nori

import (
	"fmt"

	"github.com/nori-ml/nori/tensor"
)

// DefaultEnsemble is the default number of ensemble members.
const DefaultEnsemble = 8

// DefaultMemberPool is the default number of candidate members Fit scores
// to keep the ensemble's best (WithMemberPool).
const DefaultMemberPool = 16

// settings collects the options of a Regressor.
type settings struct {
	// load produces the network (WithCheckpoint, WithModel); nil when no
	// option gave one, and NewRegressor then uses DefaultModel.
	load       func(dev tensor.Device) (quantileModel, error)
	source     string // what load reads, for messages
	ensemble   int
	budget     int
	workers    int
	seed       uint64
	device     tensor.Device
	queryChunk int
	preprocess Preprocessing
	// weights: whether Fit weights the members by their held-out error
	// (ensemble_weights.go) or averages them equally.
	weights memberWeighting
	// localRows: training tables with more rows than this predict each
	// group of about localGroup query rows from the localRows training rows
	// nearest to it (local_context.go); 0: one context of every row.
	localRows, localGroup int
	// localMetric: whether local contexts learn the weights of their
	// distance (local_metric.go) or weight every feature the same.
	localMetric bool
	// localSize: whether Fit chooses the local contexts' size among
	// half, once and twice localRows on held-out training rows
	// (local_size.go) or keeps localRows.
	localSize bool
	// targetPower: whether the odd members see the Yeo-Johnson transform
	// of the target (target_map.go).
	targetPower bool
	// targetCodes: whether members after the first code categorical
	// columns by their mean training target (preprocess_target_codes.go)
	// or by a random permutation.
	targetCodes bool
	// pool: when above ensemble and the members are weighted, Fit builds
	// pool candidate members, scores them and keeps the ensemble best
	// (ensemble_pool.go); 0: the members are 0..ensemble-1.
	pool int
	// keep, when set, lists the candidate members a fit builds (chosen on
	// probe contexts by local_weights.go); nil: all candidates.
	keep []int
	// subsets: whether the pool's odd candidates leave out the features
	// the learned distance weights 0 (ensemble_subset.go).
	subsets bool
	// dropFeatures: the features the subset candidates leave out, set by
	// Fit; nil: every candidate sees every feature.
	dropFeatures map[string]bool
	// neighbour: whether local contexts add the neighbour feature, the
	// mean target of a row's nearest training rows (local_knn.go).
	neighbour bool
	// neighbourCol: the neighbour feature's column name, set by Fit when
	// it adds one; candidates i with i/2 odd leave it out.
	neighbourCol string
}

func defaultSettings() settings {
	return settings{ensemble: DefaultEnsemble, budget: DefaultBudget, workers: 1, device: tensor.CPU,
		localRows: DefaultLocalContextRows, localGroup: DefaultLocalGroupRows, localMetric: true,
		pool: DefaultMemberPool, targetCodes: true, subsets: true, neighbour: true}
}

// Option configures a Regressor (see NewRegressor).
type Option func(*settings) error

// WithCheckpoint loads the model from a checkpoint file written by
// Model.Save (or the trainer) instead of the embedded default. NewRegressor
// reports a missing, corrupt or incompatible file as an error (from
// LoadModel); an empty path is ErrBadOption.
func WithCheckpoint(path string) Option {
	return func(s *settings) error {
		if path == "" {
			return fmt.Errorf("%w: WithCheckpoint: empty path", ErrBadOption)
		}
		s.source = path
		s.load = func(dev tensor.Device) (quantileModel, error) {
			m, err := LoadModel(path)
			if err != nil {
				return nil, err
			}
			return runnerFor(m, dev)
		}
		return nil
	}
}

// WithModel uses an already loaded (or, in tests, freshly initialised)
// model. The Regressor only reads it; it may be shared between Regressors.
func WithModel(m *Model) Option {
	return func(s *settings) error {
		if m == nil {
			return fmt.Errorf("%w: WithModel(nil)", ErrBadOption)
		}
		s.source = "WithModel"
		s.load = func(dev tensor.Device) (quantileModel, error) { return runnerFor(m, dev) }
		return nil
	}
}

// WithEnsemble sets the number of ensemble members (default 8, at least 1).
// Each member is a differently preprocessed copy of the table; the members'
// predicted quantiles are averaged (weighted: WithMemberWeights). Time grows
// linearly with n.
func WithEnsemble(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: WithEnsemble(%d): need at least one member", ErrBadOption, n)
		}
		s.ensemble = n
		return nil
	}
}

// WithMemberPool makes Fit build n candidate members (default
// DefaultMemberPool), score each on held-out folds of the training rows as
// the member weighting does, and keep the best WithEnsemble of them,
// weighted (ensemble_pool.go). Fit costs about n/ensemble times the
// scoring work; Predict costs the same as without a pool. n at most the
// ensemble size (0 included), or the members averaged equally
// (WithMemberWeights(false)), means no pool: the members are the first
// ensemble candidates.
func WithMemberPool(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return fmt.Errorf("%w: WithMemberPool(%d): need a non-negative pool size", ErrBadOption, n)
		}
		s.pool = n
		return nil
	}
}

// WithFeatureSubsets sets whether every odd candidate of the member pool
// (WithMemberPool) leaves out the features that the learned distance of the
// local contexts weights 0, those a nearest-neighbour prediction of the
// target does without (default: on). The network reads features two to a
// token and combines tokens weakly, so such columns dilute the ones the
// target needs; the pool's scores keep a subset view only where it predicts
// held-out training rows better. It applies only with a pool, and costs Fit
// the distance's search (about 0.5 s on a 5,000-row table of 20 features)
// on tables too small for local contexts.
func WithFeatureSubsets(on bool) Option {
	return func(s *settings) error {
		s.subsets = on
		return nil
	}
}

// WithNeighbourFeature sets whether Fit gives every row one more column,
// the mean target of its nearest training rows in the learned distance of
// the local contexts (a training row's own target left out), read by half
// the candidate members (default: on; it needs WithLocalContext, and a
// table no larger than a context then gets one context of every row with
// the column). It carries what the whole table says about a row's
// neighbourhood into a context of a few hundred rows: on the 25 benchmark
// tables it raised the mean R² by 0.009 (kin8nm +0.078, servo +0.061,
// airfoil +0.027; diabetes -0.028; docs/model.md).
func WithNeighbourFeature(on bool) Option {
	return func(s *settings) error {
		s.neighbour = on
		return nil
	}
}

// WithBudget sets the element budget (default DefaultBudget): a member's
// context keeps at most budget/features training rows (a seeded subsample
// above that, never fewer than 16 rows), and query rows go through the
// model in chunks within the same budget.
func WithBudget(elements int) Option {
	return func(s *settings) error {
		if elements < 1 {
			return fmt.Errorf("%w: WithBudget(%d): the budget must be positive", ErrBadOption, elements)
		}
		s.budget = elements
		return nil
	}
}

// WithWorkers sets how many ensemble members run at the same time (default
// 1). The kernels inside each member already use every core of the worker
// pool (tensor.SetWorkers), so more than 1 mainly helps small tables where a
// member cannot keep the cores busy; memory grows with n. Results do not
// depend on n.
func WithWorkers(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("%w: WithWorkers(%d): need at least one worker", ErrBadOption, n)
		}
		s.workers = n
		return nil
	}
}

// WithSeed sets the seed of every random choice of the pipeline (members'
// column orders, category codes, pair features, context subsamples; default
// 0). The same seed, data and model give bit-identical predictions.
func WithSeed(seed uint64) Option {
	return func(s *settings) error { s.seed = seed; return nil }
}

// WithDevice sets the device the model runs on (default tensor.CPU).
func WithDevice(dev tensor.Device) Option {
	return func(s *settings) error {
		if dev == nil {
			return fmt.Errorf("%w: WithDevice(nil)", ErrBadOption)
		}
		s.device = dev
		return nil
	}
}

// WithQueryChunk sets how many query rows go through the model at once
// (default: as many as the budget allows for the member's width, at most
// 2048). Predictions do not depend on it; memory does.
func WithQueryChunk(rows int) Option {
	return func(s *settings) error {
		if rows < 1 {
			return fmt.Errorf("%w: WithQueryChunk(%d): need at least one row", ErrBadOption, rows)
		}
		s.queryChunk = rows
		return nil
	}
}

// Preprocessing selects what the ensemble members feed the model.
type Preprocessing uint8

const (
	// PreprocessEnsemble is the reference's pipeline (the default): half the
	// members add uniform quantile transforms and their SVD components, the
	// other half pass numeric columns through adaptive transforms; all add
	// random pair products and a row fingerprint (preprocess_member.go).
	PreprocessEnsemble Preprocessing = iota
	// PreprocessPlain feeds the encoded columns alone, each member in its own
	// random column order (and category coding): the table as the model saw
	// its training tables.
	PreprocessPlain
)

// String returns "ensemble" or "plain".
func (p Preprocessing) String() string {
	switch p {
	case PreprocessEnsemble:
		return "ensemble"
	case PreprocessPlain:
		return "plain"
	}
	return fmt.Sprintf("Preprocessing(%d)", uint8(p))
}

// ParsePreprocessing returns the Preprocessing named "ensemble" or "plain".
func ParsePreprocessing(name string) (Preprocessing, error) {
	switch name {
	case "ensemble":
		return PreprocessEnsemble, nil
	case "plain":
		return PreprocessPlain, nil
	}
	return 0, fmt.Errorf("%w: unknown preprocessing %q (want ensemble or plain)", ErrBadOption, name)
}

// WithPreprocessing sets the members' preprocessing (default
// PreprocessEnsemble).
func WithPreprocessing(p Preprocessing) Option {
	return func(s *settings) error {
		if p > PreprocessPlain {
			return fmt.Errorf("%w: WithPreprocessing(%d): unknown preprocessing", ErrBadOption, uint8(p))
		}
		s.preprocess = p
		return nil
	}
}

// memberWeighting is the setting of WithMemberWeights.
type memberWeighting int

const (
	// weightsAuto, the default: weighted when the query rows share one
	// context of the training rows or the table has at most
	// localWeightRows training rows; within the local contexts of larger
	// tables, where every group of query rows would pay the 3-4x work
	// again, one set of weights scored on a few probe contexts at Fit time
	// and shared by every group (local_weights.go).
	weightsAuto memberWeighting = iota
	weightsOn
	weightsOff
)

// localWeightRows is the largest training table whose local contexts weight
// their members each by default: up to here a whole prediction is cheap
// enough to pay for the weighting; beyond it the groups are many, and they
// share weights scored once on probe contexts (local_weights.go).
const localWeightRows = 512

// WithMemberWeights sets whether Fit weights the ensemble members by how
// well each predicts held-out folds of its own training rows (members whose
// view of the table suits the model count more) or averages them equally,
// as the reference does. Weighting runs each member 3 times over the
// training rows (about 3x the work of predicting as many rows); tables with
// fewer than 30 context rows per member, and one-member ensembles, are
// always averaged equally. Without this option the members are weighted in
// every context, except within the local contexts (WithLocalContext) of
// tables with more than 512 training rows, where each group of query rows
// would pay the 3x again: there Fit scores the members once on 4 probe
// contexts (the 256 training rows nearest to a training row) and every
// group uses those weights, a fixed cost of about twelve groups' work per
// Fit (it doubled the time of fitting 800 rows and predicting 200, 42 s
// against 20 s for WithMemberWeights(false); docs/model.md), worth +0.0006
// mean R² on the benchmark tables. WithMemberWeights(true) weights each
// group's members on its own context instead (3-4x the prediction's work).
func WithMemberWeights(on bool) Option {
	return func(s *settings) error {
		s.weights = weightsOff
		if on {
			s.weights = weightsOn
		}
		return nil
	}
}

// DefaultLocalContextRows and DefaultLocalGroupRows are the defaults of
// WithLocalContext.
const (
	DefaultLocalContextRows = 256
	DefaultLocalGroupRows   = 25
)

// minLocalContextRows is the smallest local context WithLocalContext accepts.
const minLocalContextRows = 32

// WithLocalContext sets how tables larger than rows training rows are
// predicted: the query rows are grouped by proximity (about groupRows per
// group) and each group is predicted from its own context, the rows
// training rows nearest to any of its members, with its own preprocessing
// (and member weights: WithMemberWeights). Proximity is Euclidean distance
// after mapping every feature to its rank among the training values
// (scale-free), each feature weighted as WithLocalMetric says. The default
// (256 rows, groups of 25) scores much better than one context of every
// row on the tables the pretrained model was measured on, because the
// model predicts best from a few hundred rows near the query (see
// docs/model.md); it makes a row's prediction depend on the query rows it
// is grouped with, and each group costs a Fit.
// WithLocalContext(0, 0) gives every query row one context of all the
// training rows (subsampled to the budget). rows must be 0 or at least 32,
// groupRows at least 1.
func WithLocalContext(rows, groupRows int) Option {
	return func(s *settings) error {
		switch {
		case rows == 0:
			s.localRows, s.localGroup = 0, 0
			return nil
		case rows < minLocalContextRows:
			return fmt.Errorf("%w: WithLocalContext: %d context rows; need 0 (off) or at least %d", ErrBadOption, rows, minLocalContextRows)
		case groupRows < 1:
			return fmt.Errorf("%w: WithLocalContext: %d query rows per group; need at least 1", ErrBadOption, groupRows)
		}
		s.localRows, s.localGroup = rows, groupRows
		return nil
	}
}

// WithLocalMetric sets whether the distance that picks a local context's
// rows (WithLocalContext) weights the features by how much each helps a
// nearest-neighbour prediction of the target on the training rows (the
// default: a coordinate search over the weights 0, 0.1, 0.3, 1, 3 per
// feature, kept only if it also predicts held-out training rows better), or
// weights every feature the same. On the 25 benchmark tables it raised the
// mean R² by 0.010 (bike_sharing +0.097, kin8nm +0.034; ames -0.012,
// airfoil -0.009; docs/model.md). The search costs Fit about 0.5 s on a
// 5,000-row table of 20 features.
func WithLocalMetric(on bool) Option {
	return func(s *settings) error {
		s.localMetric = on
		return nil
	}
}

// withQuantileModel plugs in any quantileModel (tests).
func withQuantileModel(qm quantileModel, name string) Option {
	return func(s *settings) error {
		s.load = func(tensor.Device) (quantileModel, error) { return qm, nil }
		s.source = name
		return nil
	}
}

// WithTargetPower sets whether every odd-indexed ensemble member predicts
// the Yeo-Johnson transform of the standardised target (λ fitted by maximum
// likelihood on the training target) and maps its quantiles back, while the
// even members predict the target as it is (default: off). A skewed target
// (prices, wages) spreads out under the transform into the range the
// network resolves best, and member weighting then favours whichever view
// predicts the training rows better. On split 0 of the benchmark tables (4
// members) it was neutral on average: +0.0005 R² over the 13 with the most
// skewed targets (house_16H +0.007, ames +0.004; cps88wages -0.005),
// -0.0012 over the 12 others (docs/model.md), so it is off by default.
func WithTargetPower(on bool) Option {
	return func(s *settings) error {
		s.targetPower = on
		return nil
	}
}

// WithTargetOrderedCodes sets how the ensemble members after the first code
// each categorical column (default: on). On, a member numbers the categories
// in the order of their mean training target (shrunk toward the overall mean
// by one row's weight), so the column is nearly monotone in the target; off,
// each member maps them through its own random permutation, as the
// reference does. The first member keeps the categories' natural order in
// both cases. On the benchmark tables with categorical columns it raised R²
// most where the categories carry an order their labels hide (diamonds,
// ames_housing, servo; docs/model.md); tables without categorical columns
// are unchanged.
func WithTargetOrderedCodes(on bool) Option {
	return func(s *settings) error {
		s.targetCodes = on
		return nil
	}
}

// WithLocalSizeChoice sets whether Fit chooses the size of the local
// contexts (WithLocalContext) per table (default: off): it holds out 100
// training rows, predicts them from contexts of half, once and twice the
// configured size, and keeps the configured size unless another predicts
// them better by 2%. It found the better size on some benchmark tables and
// a worse one on others: 100 rows are too few to judge small differences
// (local_size.go, docs/model.md).
func WithLocalSizeChoice(on bool) Option {
	return func(s *settings) error {
		s.localSize = on
		return nil
	}
}
