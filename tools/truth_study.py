#!/usr/bin/python3
"""Where do SGMCMC estimates of the local LLC land between Aoyagi's value and lambda_smooth?

A chain started at the teacher w* measures the local LLC at w*, which is at least
max(Aoyagi, lambda_smooth) (lib/dln/local_llc.hpp). On a "minimal" teacher (every layer of rank
r) the local LLC is exactly Aoyagi's value (truth_status "exact"); on the default teachers
(first-layer for --widths, paper for --class) it is either provably above Aoyagi ("above":
lambda_smooth > Aoyagi) or only bounded below by Aoyagi ("global"). This script runs one chain
per point of the grid

    problem x teacher (default, minimal) x n (1e5, 1e6) x gamma (1, 10, 100)
            x sampler (sgld, rmsprop_sgld) x chain seed (1, 2, 3)

(20000 steps, burn-in 10000, batch 500, one thread each, `--jobs` chains at a time), plus a
step-size plateau check first: problem "10,8,10 r1", minimal teacher, gamma 1, both n and both
samplers, step sizes x0.3, x1 and x3 the grid's. The estimate bound is lifted
(--estimate-bound-factor 1000) so that no finite estimate is censored.

It writes one CSV row per chain (the chain's parameters and the fields of
`llcbench run --json`), then prints markdown tables: the plateau check, and, grouped by
(problem, teacher, n, gamma, sampler), Aoyagi, lambda_smooth, the status, mean and sd of
lambda_hat over the chain seeds, the mean ratios lambda_hat / Aoyagi and lambda_hat /
lambda_smooth, and the counts of diverged and nonstationary chains.

`--long` runs instead chains ten times as long (200,000 steps, burn-in 100,000; SGLD, n = 1e5,
gamma 1 and 100, chain seeds 1 and 2) on the three --widths problems, both teachers: whether the
estimates move once the chain has had time to wander along the flat directions of the true set,
with the final distance ||w - w*|| of each chain.

Run it with Debian's python3 (it needs pandas):

    /usr/bin/python3 tools/truth_study.py build/bin/llcbench out.csv              # the whole study
    /usr/bin/python3 tools/truth_study.py build/bin/llcbench out.csv --plateau-only
    /usr/bin/python3 tools/truth_study.py build/bin/llcbench long.csv --long
    /usr/bin/python3 tools/truth_study.py --summarize out.csv                     # tables only
"""
import argparse
import csv
import json
import math
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pandas as pd

# name -> (llcbench problem arguments, default teacher mode)
PROBLEMS = {
    "10,8,10 r1": (["--widths", "10,8,10", "--rank", "1"], "first-layer"),
    "9,6,4,6,9 r1": (["--widths", "9,6,4,6,9", "--rank", "1"], "first-layer"),
    "10,3,3 r0": (["--widths", "10,3,3", "--rank", "0"], "first-layer"),
    "5,8,6,7 r3": (["--widths", "5,8,6,7", "--rank", "3"], "first-layer"),
    "1K s8": (["--class", "1K", "--seed", "8"], "paper"),
    "1K s25": (["--class", "1K", "--seed", "25"], "paper"),
    "1K s15": (["--class", "1K", "--seed", "15"], "paper"),
    "tiny s6": (["--class", "tiny", "--seed", "6"], "paper"),
}
NS = (100_000, 1_000_000)
GAMMAS = (1, 10, 100)
SAMPLERS = ("sgld", "rmsprop_sgld")
CHAIN_SEEDS = (1, 2, 3)
# The drift scales with nbeta = n / ln n, so the step sizes shrink about tenfold from n = 1e5 to
# 1e6, except SGLD's at 1e6: the nbeta-scaled 5.5e-8 sat below the plateau (lambda_hat 31.1 against
# 34.2-34.9 for x3-x10, 6 seeds, on 10,8,10 r1 minimal), so it is x3; x6 diverged on tiny s6.
STEP_SIZES = {
    ("sgld", 100_000): 4.6e-7,
    ("sgld", 1_000_000): 1.65e-7,
    ("rmsprop_sgld", 100_000): 2.2e-8,
    ("rmsprop_sgld", 1_000_000): 2.7e-9,
}
STEPS, BURN_IN, BATCH_SIZE = 20_000, 10_000, 500
PLATEAU_PROBLEM, PLATEAU_TEACHER, PLATEAU_GAMMA = "10,8,10 r1", "minimal", 1
PLATEAU_FACTORS = (0.3, 1, 3)
LONG_PROBLEMS = ("10,8,10 r1", "9,6,4,6,9 r1", "10,3,3 r0")
LONG_STEPS, LONG_BURN_IN, LONG_GAMMAS, LONG_SEEDS = 200_000, 100_000, (1, 100), (1, 2)

JSON_FIELDS = [
    "lambda_hat", "raw_estimate", "estimate_se", "lambda_true", "lambda_smooth", "lambda_lower",
    "truth_status", "teacher", "layer_ranks", "widths", "d", "diverged", "divergence_reason",
    "nonstationary", "loss_slope", "mean_drift_noise_ratio", "final_distance", "steps_per_second",
    "seconds",
]
PARAM_FIELDS = ["stage", "problem", "teacher_mode", "n", "gamma", "sampler", "step_factor",
                "step_size", "chain_seed", "steps", "burn_in", "batch_size"]
CSV_FIELDS = PARAM_FIELDS + JSON_FIELDS + ["returncode", "error"]


def chain(stage, problem, teacher, n, gamma, sampler, seed, factor=1, steps=STEPS, burn_in=BURN_IN):
    return {"stage": stage, "problem": problem, "teacher_mode": teacher, "n": n,
            "gamma": gamma, "sampler": sampler, "step_factor": factor,
            "step_size": float(f"{STEP_SIZES[sampler, n] * factor:.3g}"), "chain_seed": seed,
            "steps": steps, "burn_in": burn_in, "batch_size": BATCH_SIZE}


def plateau_chains():
    return [chain("plateau", PLATEAU_PROBLEM, PLATEAU_TEACHER, n, PLATEAU_GAMMA, s, seed, f)
            for n in NS for s in SAMPLERS for f in PLATEAU_FACTORS for seed in CHAIN_SEEDS]


def grid_chains():
    """The grid, less the chains the plateau check already runs (its x1 step sizes)."""
    return [chain("grid", p, t, n, g, s, seed)
            for p, (_, default_teacher) in PROBLEMS.items()
            for t in (default_teacher, "minimal") for n in NS for g in GAMMAS
            for s in SAMPLERS for seed in CHAIN_SEEDS
            if (p, t, g) != (PLATEAU_PROBLEM, PLATEAU_TEACHER, PLATEAU_GAMMA)]


def long_chains():
    return [chain("long", p, t, 100_000, g, "sgld", seed, steps=LONG_STEPS, burn_in=LONG_BURN_IN)
            for p in LONG_PROBLEMS for t in (PROBLEMS[p][1], "minimal") for g in LONG_GAMMAS
            for seed in LONG_SEEDS]


def command(binary, c):
    return [binary, "run", *PROBLEMS[c["problem"]][0], "--teacher", c["teacher_mode"],
            "--n", str(c["n"]), "--gamma", str(c["gamma"]), "--sampler", c["sampler"],
            "--step-size", str(c["step_size"]), "--chain-seed", str(c["chain_seed"]),
            "--steps", str(c["steps"]), "--burn-in", str(c["burn_in"]),
            "--batch-size", str(c["batch_size"]), "--estimate-bound-factor", "1000",
            "--threads", "1", "--json"]


def run_chain(binary, c):
    cmd = command(binary, c)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    row = dict(c, returncode=proc.returncode, error="")
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        row["error"] = (proc.stderr.strip() or proc.stdout.strip())[-300:]
        return row
    for field in JSON_FIELDS:
        value = result.get(field)
        row[field] = json.dumps(value) if isinstance(value, list) else value
    return row


def run_all(binary, out_path, chains, jobs):
    start = time.monotonic()
    with open(out_path, "w", newline="") as f, ThreadPoolExecutor(jobs) as pool:
        writer = csv.DictWriter(f, CSV_FIELDS)
        writer.writeheader()
        futures = [pool.submit(run_chain, binary, c) for c in chains]
        for done, future in enumerate(as_completed(futures), 1):
            row = future.result()
            writer.writerow(row)
            f.flush()
            if row["error"]:
                print(f"chain failed: {' '.join(command(binary, row))}: {row['error']}", file=sys.stderr)
            if done % 20 == 0 or done == len(chains):
                print(f"{done}/{len(chains)} chains, {time.monotonic() - start:.0f} s",
                      file=sys.stderr)
    print(f"\n{len(chains)} chains, {jobs} at a time, wall time {time.monotonic() - start:.0f} s")


def fmt(value, digits=4):
    if isinstance(value, float):
        return "-" if math.isnan(value) or math.isinf(value) else f"{value:.{digits}g}"
    return str(value)


def markdown(df):
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)


def summarize(df, keys):
    """One row per group of `keys`: truth, mean and sd of lambda_hat, ratios and failure counts."""
    df = df.assign(ratio_aoyagi=df.lambda_hat / df.lambda_true,
                   ratio_smooth=df.lambda_hat / df.lambda_smooth.where(df.lambda_smooth > 0))
    g = df.groupby(keys, sort=False)
    return pd.DataFrame({
        "Aoyagi": g.lambda_true.first(),
        "smooth": g.lambda_smooth.first(),
        "status": g.truth_status.first(),
        "mean": g.lambda_hat.mean(),
        "sd": g.lambda_hat.std(),
        "mean SE": g.estimate_se.mean(),
        "/Aoyagi": g.ratio_aoyagi.mean(),
        "/smooth": g.ratio_smooth.mean(),
        "div": g.diverged.sum().astype(int).astype(str) + "/" + g.size().astype(str),
        "nonstat": g.nonstationary.sum().astype(int),
    }).reset_index()


def print_tables(df):
    df = df.assign(diverged=df.diverged.astype(bool),
                   nonstationary=df.nonstationary.fillna(False).astype(bool))
    if (df.stage == "long").all():
        table = summarize(df, ["problem", "teacher_mode", "gamma"])
        table["final distance"] = df.groupby(["problem", "teacher_mode", "gamma"],
                                             sort=False).final_distance.mean().values
        print(f"\n### Long chains: SGLD, n = 1e5, {LONG_STEPS} steps (burn-in {LONG_BURN_IN}), "
              f"chain seeds {LONG_SEEDS}\n")
        print(markdown(table))
        return
    plateau = df[(df.problem == PLATEAU_PROBLEM) & (df.teacher_mode == PLATEAU_TEACHER)
                 & (df.gamma == PLATEAU_GAMMA)]
    print(f"\n### Step-size plateau: {PLATEAU_PROBLEM}, {PLATEAU_TEACHER} teacher, "
          f"gamma {PLATEAU_GAMMA}, {len(CHAIN_SEEDS)} seeds\n")
    print(markdown(summarize(plateau.sort_values(["n", "sampler", "step_factor"]),
                             ["n", "sampler", "step_factor", "step_size"])))
    grid = df[df.step_factor == 1]
    problem_order = {p: i for i, p in enumerate(PROBLEMS)}
    grid = grid.sort_values(
        ["problem", "teacher_mode", "n", "gamma", "sampler"],
        key=lambda col: (col.map(problem_order) if col.name == "problem"
                         else col.eq("minimal") if col.name == "teacher_mode" else col))
    print(f"\n### Grid: lambda_hat over chain seeds {CHAIN_SEEDS}\n")
    print(markdown(summarize(grid, ["problem", "teacher_mode", "n", "gamma", "sampler"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", metavar="PATH",
                    help="BINARY OUT.csv (run and summarize) or, with --summarize, IN.csv")
    ap.add_argument("--jobs", type=int, default=2, help="chains run at a time (default 2)")
    ap.add_argument("--plateau-only", action="store_true", help="run only the plateau check")
    ap.add_argument("--long", action="store_true", help="run only the long chains")
    ap.add_argument("--summarize", action="store_true", help="only print the tables of IN.csv")
    args = ap.parse_args()
    if len(args.paths) != (1 if args.summarize else 2):
        ap.error("expected BINARY OUT.csv, or --summarize IN.csv")
    if not args.summarize:
        if args.long:
            chains = long_chains()
        else:
            chains = plateau_chains() + ([] if args.plateau_only else grid_chains())
        run_all(args.paths[0], args.paths[1], chains, args.jobs)
    print_tables(pd.read_csv(args.paths[-1]))


if __name__ == "__main__":
    main()
