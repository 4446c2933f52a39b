#!/usr/bin/env python3
"""Fits a training config's step count to a wall-clock budget on a GPU lease.

  fitcfg.py probe CONFIG K          one-stage config of stage K (0-based), for a speed probe
  fitcfg.py fit CONFIG SECONDS S0 S1 S2
                                    CONFIG with total_steps, stage ends, warmup and
                                    decay start scaled so that the curriculum's
                                    stages (at S0, S1, S2 steps/s measured by the
                                    probes) take SECONDS in all

The stage fractions of the steps are kept from CONFIG (its stage ends over
its total_steps); the decay starts at the same fraction as in CONFIG. Both
write the config as JSON to standard output.
"""
import json
import sys


def main():
    mode, path = sys.argv[1], sys.argv[2]
    c = json.load(open(path))
    cur = c["curriculum"]
    total = c["total_steps"]
    if mode == "probe":
        k = int(sys.argv[3])
        st = dict(cur[k])
        st.pop("until", None)
        c["curriculum"] = [st]
        c["warmup_steps"] = 5
        c.pop("decay_start", None)
        c["total_steps"] = 1000
        print(json.dumps(c, indent=2))
        return
    seconds = float(sys.argv[3])
    rates = [float(v) for v in sys.argv[4:]]
    assert len(rates) == len(cur), "one rate per stage"
    ends = [s.get("until", total) for s in cur[:-1]] + [total]
    fracs, prev = [], 0
    for e in ends:
        fracs.append((e - prev) / total)
        prev = e
    sec_per_step = sum(f / r for f, r in zip(fracs, rates))
    n = int(seconds / sec_per_step)
    acc = 0.0
    for k, s in enumerate(cur[:-1]):
        acc += fracs[k]
        s["until"] = max(1, int(round(acc * n)))
    if "decay_start" in c:
        c["decay_start"] = int(round(c["decay_start"] / total * n))
    c["warmup_steps"] = min(c.get("warmup_steps", 0), max(1, n // 20))
    c["total_steps"] = n
    print(json.dumps(c, indent=2))


if __name__ == "__main__":
    main()
