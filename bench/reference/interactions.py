#!/usr/bin/python3
"""How much of each table's signal needs interactions between features?

For every CSV (target last) of the folders given, fits scikit-learn's
HistGradientBoostingRegressor twice on a 75/25 split (seed 0, at most 5000
rows): unconstrained, and with interaction_cst="no_interactions" (an additive
model of the features). The gain full R² - additive R² measures the share of
the signal that only interactions explain. Prints a summary line per folder
and, with --tables, one line per table.

  nori prior -n 60 -seed 7 -rows 1000 -features 4:16 -out /tmp/prior
  bench/reference/interactions.py /tmp/prior ../shared/datasets/regression --tables

Needs python3-sklearn (Debian's, 1.2). Text columns are coded as ordinals.
"""

import argparse
import csv
import glob
import os
import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split


def read_table(path):
    rows = list(csv.reader(open(path, newline="")))[1:]
    cols = []
    for c in zip(*rows):
        v = np.array([_num(x) for x in c])
        if np.isnan(v).all():
            codes = {k: i for i, k in enumerate(sorted(set(c)))}
            v = np.array([codes[x] for x in c], dtype=float)
        cols.append(v)
    m = np.array(cols).T
    y, x = m[:, -1], m[:, :-1]
    ok = ~np.isnan(y)
    return x[ok][:5000], y[ok][:5000]


def _num(s):
    try:
        return float(s)
    except ValueError:
        return np.nan


def r2(model, xtr, ytr, xte, yte):
    model.fit(xtr, ytr)
    p = model.predict(xte)
    return 1 - ((p - yte) ** 2).sum() / ((yte - yte.mean()) ** 2).sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--tables", action="store_true", help="one line per table")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    for folder in args.folders:
        res = []
        for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
            x, y = read_table(path)
            if len(y) < 20 or np.std(y) == 0:
                continue
            xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
            full = r2(HistGradientBoostingRegressor(max_iter=200, random_state=0), xtr, ytr, xte, yte)
            add = r2(HistGradientBoostingRegressor(max_iter=200, random_state=0, interaction_cst="no_interactions"),
                     xtr, ytr, xte, yte)
            res.append((os.path.basename(path), full, add))
            if args.tables:
                print(f"  {os.path.basename(path):36s} full {full:.3f} additive {add:.3f} gain {full - add:+.3f}")
        a = np.array([[f, d] for _, f, d in res])
        g = a[:, 0] - a[:, 1]
        print(f"{folder}: {len(res)} tables; full R2 {a[:, 0].mean():.3f}, additive {a[:, 1].mean():.3f}; "
              f"interaction gain mean {g.mean():.3f}, median {np.median(g):.3f}; gain > 0.05 on {(g > 0.05).sum()} tables")


if __name__ == "__main__":
    main()
