// Package prior generates the synthetic regression tables nori learns from.
//
// nori never trains on real data: its skill comes from the breadth and
// realism of these tables. A table is drawn in four stages, each a pure
// function of (seed, table index) so that a training batch does not depend on
// the number of workers:
//
//  1. a generator is chosen from the mixture (hierarchical structural causal
//     models, random-Fourier-feature GPs, tree ensembles, the regression
//     families, ...; see Config for the shares) and draws features and target;
//  2. the learnability filter (ExtraTrees, out-of-bag R²) rejects tables whose
//     target cannot be predicted from the features, and a new one is drawn
//     from the same generator;
//  3. realism augmentations are applied to the kept table (noise features,
//     correlated blocks, discretised and categorical columns, warps, heavy
//     tails, missingness, duplicates, target noise and outliers). Filtering
//     before augmenting keeps the augmentation rates among kept tables at
//     their configured values (FilterConfig.AfterAugment flips the order);
//  4. tables are grouped into same-shape batches for the trainer; a share of
//     them may be neighbourhoods (NeighbourhoodConfig): the rows of a larger
//     table nearest to one of its rows, as nori's local contexts see a large
//     table at inference.
package prior
