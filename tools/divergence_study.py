"""Divergence-rule study: which estimate bound separates failed chains from good ones.

A chain is declared diverged ("estimate_above_bound") when its estimate exceeds
estimate_bound_factor * d/2. No LLC exceeds d/2, and a regular model (a one-layer network of full
rank) has LLC exactly d/2, so half of all good estimates of a regular model land above d/2 and
the old rule (factor 1) flagged them. This script measured the candidate rules (RULES: factors,
and factors plus a margin of m batch-means standard errors of the estimate) that chose the
default factor 2 (docs/samplers.md, "Divergence"), with the estimate bound switched off
(--estimate-bound-factor 1e6; the loss bound, --divergence-factor 100, stays on):

  A  false positives: regular models (5,4 r4; 10,8 r8; 3,12 r3; 20,20 r20), all five samplers at
     step sizes inside their accurate ranges, T = 20000, burn-in 10000, --seeds chain seeds each;
     plus short chains (T = 10000, burn-in 5000, as in configs/demo.ini) on 5,4 r4, 10 seeds, each
     sampler at its middle step size.
  B  true positives: step sizes past the accurate ranges on 5,8,6,7 r3 (LLC 16.5) and 5,4 r4,
     5 seeds, T = 20000, burn-in 10000; and RMSPropSGLD/AdamSGLD on --class 1K --seed 8 and 25,
     3 seeds, same chain length.

For each (sampler, step size) it prints (markdown) the quantiles of raw_estimate/(d/2) and of
z = (raw_estimate - d/2)/estimate_se, the share flagged by each candidate rule (RULES), the
overall false-positive count with a one-sided 95% upper bound, the ratio of the across-seed
standard deviation of raw_estimate to the median estimate_se, and for part B the divergence
reasons and where the finished failures land relative to d/2 and to lambda_true.

Run (1636 chains, about 4400 CPU-seconds: about 40 minutes on 2 cores with --jobs 2):
    /usr/bin/python3 tools/divergence_study.py build/bin/llcbench out.csv
Rows are appended to the CSV as chains finish; rerunning with the same CSV runs only the chains
it lacks. --summary-only prints the tables of an existing CSV without running anything.
Needs numpy and pandas.
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

SAMPLERS = ["sgld", "rmsprop_sgld", "adam_sgld", "sghmc", "sgnht"]

MODELS = {
    "5,4 r4": ["--widths", "5,4", "--rank", "4"],
    "10,8 r8": ["--widths", "10,8", "--rank", "8"],
    "3,12 r3": ["--widths", "3,12", "--rank", "3"],
    "20,20 r20": ["--widths", "20,20", "--rank", "20"],
    "5,8,6,7 r3": ["--widths", "5,8,6,7", "--rank", "3"],
    "1K seed 8": ["--class", "1K", "--seed", "8"],
    "1K seed 25": ["--class", "1K", "--seed", "25"],
}
REGULAR_MODELS = ["5,4 r4", "10,8 r8", "3,12 r3", "20,20 r20"]

# Step sizes inside each sampler's accurate range (part A); the middle one is used for the
# short chains.
ACCURATE_STEPS = {
    "sgld": ["1e-8", "1e-7", "4.6e-7", "1e-6"],
    "rmsprop_sgld": ["1e-9", "1e-8", "2.2e-8", "5e-8"],
    "adam_sgld": ["1e-9", "4.6e-9", "1e-8"],
    "sghmc": ["1e-9", "1e-8", "1e-7"],
    "sgnht": ["1e-9", "1e-8", "1e-7"],
}
MIDDLE_STEP = {"sgld": "1e-7", "rmsprop_sgld": "1e-8", "adam_sgld": "4.6e-9",
               "sghmc": "1e-8", "sgnht": "1e-8"}

# Step sizes past the accurate ranges (part B).
FAILING_STEPS = {
    "sgld": ["1e-5", "3e-5", "1e-4"],
    "rmsprop_sgld": ["1e-7", "3e-7", "1e-6", "3e-6", "1e-5"],
    "adam_sgld": ["1e-7", "3e-7", "1e-6", "3e-6", "1e-5"],
    "sghmc": ["1e-5", "3e-5", "1e-4"],
    "sgnht": ["1e-5", "3e-5", "1e-4"],
}
FAILING_STEPS_1K = ["1e-7", "1e-6", "1e-5"]

# Candidate rules: flagged when raw_estimate > factor * d/2 + sigmas * estimate_se.
RULES = [(1, 0), (1, 3), (1, 5), (1.25, 0), (1.5, 0), (2, 0), (1.25, 3), (2, 3)]

LOSS_REASONS = {"non_finite_loss", "loss_above_bound", "non_finite_parameter"}


@dataclass(frozen=True)
class Job:
    part: str  # "A" (regular, T=20000), "A-short" (regular, T=10000) or "B" (failures)
    model: str
    sampler: str
    step_size: str
    steps: int
    burn_in: int
    chain_seed: int


RESULT_FIELDS = ["d", "lambda_true", "raw_estimate", "estimate_se", "diverged",
                 "divergence_reason", "steps_run", "seconds"]
CSV_FIELDS = list(Job.__dataclass_fields__) + RESULT_FIELDS


def grid(seeds):
    jobs = []
    for model in REGULAR_MODELS:
        for sampler in SAMPLERS:
            for step in ACCURATE_STEPS[sampler]:
                jobs += [Job("A", model, sampler, step, 20000, 10000, s)
                         for s in range(1, seeds + 1)]
    for sampler in SAMPLERS:
        jobs += [Job("A-short", "5,4 r4", sampler, MIDDLE_STEP[sampler], 10000, 5000, s)
                 for s in range(1, 11)]
    for model in ["5,8,6,7 r3", "5,4 r4"]:
        for sampler in SAMPLERS:
            for step in FAILING_STEPS[sampler]:
                jobs += [Job("B", model, sampler, step, 20000, 10000, s) for s in range(1, 6)]
    for model in ["1K seed 8", "1K seed 25"]:
        for sampler in ["rmsprop_sgld", "adam_sgld"]:
            for step in FAILING_STEPS_1K:
                jobs += [Job("B", model, sampler, step, 20000, 10000, s) for s in range(1, 4)]
    return jobs


def command(binary, job):
    return [binary, "run", *MODELS[job.model], "--sampler", job.sampler,
            "--step-size", job.step_size, "--steps", str(job.steps),
            "--burn-in", str(job.burn_in), "--chain-seed", str(job.chain_seed),
            "--threads", "1", "--json", "--estimate-bound-factor", "1e6"]


def run_job(binary, job):
    out = subprocess.run(command(binary, job), capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    return {**asdict(job), **{k: result[k] for k in RESULT_FIELDS}}


def run_grid(binary, path, jobs, workers):
    done = set()
    if os.path.exists(path):
        old = pd.read_csv(path, dtype={"step_size": str})
        done = {Job(*row) for row in old[list(Job.__dataclass_fields__)].itertuples(index=False)}
    todo = [job for job in jobs if job not in done]
    print(f"{len(jobs)} chains in the grid, {len(todo)} to run", file=sys.stderr)
    new_file = not os.path.exists(path)
    start = time.time()
    with open(path, "a", newline="") as f, ThreadPoolExecutor(workers) as pool:
        writer = csv.DictWriter(f, CSV_FIELDS)
        if new_file:
            writer.writeheader()
        futures = [pool.submit(run_job, binary, job) for job in todo]
        for i, future in enumerate(as_completed(futures), 1):
            writer.writerow(future.result())
            f.flush()
            if i % 100 == 0 or i == len(todo):
                print(f"  {i}/{len(todo)} chains, {time.time() - start:.0f} s", file=sys.stderr)
    print(f"wall time {time.time() - start:.0f} s", file=sys.stderr)


# ---- summary ---------------------------------------------------------------------------------

def rule_name(factor, sigmas):
    return f"{factor:g}" + (f" + {sigmas:g} se" if sigmas else "")


def finished(df):
    """Chains that ran to the end. Those stopped by the loss bound may carry a partial
    raw_estimate (when they stopped after burn-in) but no estimate_se."""
    return df[~df.divergence_reason.isin(LOSS_REASONS)]


def flagged(df, factor, sigmas):
    """Whether each finished chain exceeds the rule's bound."""
    return df.raw_estimate > factor * df.d / 2 + sigmas * df.estimate_se


def upper_bound_95(k, n):
    """One-sided 95% Clopper-Pearson upper bound of a binomial rate, k events in n trials."""
    if k == n:
        return 1.0

    def cdf(p):  # P(X <= k) for X ~ Binomial(n, p)
        return sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                            + i * math.log(p) + (n - i) * math.log1p(-p)) for i in range(k + 1))

    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > 0.05 else (lo, mid)
    return hi


def markdown(df):
    cells = [[str(c) for c in df.columns]] + [[str(v) for v in row] for row in df.values]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in df.columns) + "|")
    return "\n".join(lines)


def quantiles(x, fmt, probs=(0, 0.5, 0.9, 1)):
    """The given quantiles of x (NaN dropped) as "a / b / ...", or "-" when x is empty."""
    x = x.dropna()
    if x.empty:
        return "-"
    return " / ".join(fmt.format(v) for v in np.quantile(x, probs))


def step_order(df):
    """Rows in sampler order, then by increasing step size."""
    key = df.sampler.map(SAMPLERS.index) * 100 + np.log10(df.step_size.astype(float))
    return df.assign(_key=key).sort_values("_key").drop(columns="_key")


def table_quantiles(df):
    rows = []
    for (sampler, step), g in step_order(df).groupby(["sampler", "step_size"], sort=False):
        fin = finished(g)
        row = {"sampler": sampler, "step": step, "chains": len(g),
               "loss-div": len(g) - len(fin),
               "est/(d/2) min / med / p90 / max": quantiles(fin.raw_estimate / (fin.d / 2),
                                                            "{:.3f}"),
               "z min / med / p90 / max": quantiles((fin.raw_estimate - fin.d / 2)
                                                    / fin.estimate_se, "{:.1f}")}
        for factor, sigmas in RULES:
            row[rule_name(factor, sigmas)] = f"{flagged(fin, factor, sigmas).mean():.0%}"
        rows.append(row)
    return pd.DataFrame(rows)


def table_false_positives(parts):
    """Flagged chains per rule, per model and in all, with the one-sided 95% upper bound."""
    rows = []
    for factor, sigmas in RULES:
        row = {"rule": rule_name(factor, sigmas)}
        for name, g in parts.items():
            row[name] = f"{int(flagged(finished(g), factor, sigmas).sum())}/{len(finished(g))}"
        everything = finished(pd.concat(parts.values()))
        k, n = int(flagged(everything, factor, sigmas).sum()), len(everything)
        row["all"] = f"{k}/{n} = {k / n:.2%}"
        row["95% upper"] = f"{upper_bound_95(k, n):.2%}"
        rows.append(row)
    return pd.DataFrame(rows)


def table_se_honesty(parts):
    """sd of raw_estimate across seeds over the median estimate_se, one column a part."""
    rows = []
    everything = step_order(pd.concat(parts.values()))
    for (sampler, step), _ in everything.groupby(["sampler", "step_size"], sort=False):
        row = {"sampler": sampler, "step": step}
        for name, g in parts.items():
            m = finished(g[(g.sampler == sampler) & (g.step_size == step)])
            row[name] = f"{m.raw_estimate.std() / m.estimate_se.median():.2f}" if len(m) else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def table_failures(df):
    rows = []
    df = step_order(df).sort_values("model", key=lambda m: m.map(list(MODELS).index),
                                    kind="stable")
    for (model, sampler, step), g in df.groupby(["model", "sampler", "step_size"], sort=False):
        fin = finished(g)
        reasons = g.divergence_reason.value_counts()
        row = {"model": model, "d/2": g.d.iloc[0] / 2, "LLC": g.lambda_true.iloc[0],
               "sampler": sampler, "step": step,
               "reasons": ", ".join(f"{r} {c}" for r, c in reasons.items()),
               "est/(d/2) min / med / max": quantiles(fin.raw_estimate / (fin.d / 2), "{:.2f}",
                                                      (0, 0.5, 1)),
               "est/LLC med / max": quantiles(fin.raw_estimate / fin.lambda_true, "{:.2f}",
                                              (0.5, 1)),
               "z med": quantiles((fin.raw_estimate - fin.d / 2) / fin.estimate_se, "{:.0f}",
                                  (0.5,))}
        for factor, sigmas in RULES:
            row[rule_name(factor, sigmas)] = f"{int(flagged(fin, factor, sigmas).sum())}/{len(fin)}"
        rows.append(row)
    return pd.DataFrame(rows)


def table_detection(df, thresholds=(1.5, 2, 5, 10)):
    """Per rule: finished chains flagged among those at least t x LLC, among those above d/2,
    and in all; last column: chains stopped by the loss bound or flagged, of all chains."""
    fin = finished(df)
    loss = len(df) - len(fin)
    rows = []
    for factor, sigmas in RULES:
        hit = flagged(fin, factor, sigmas)
        row = {"rule": rule_name(factor, sigmas)}
        for t in thresholds:
            bad = fin.raw_estimate >= t * fin.lambda_true
            row[f"est >= {t} LLC"] = f"{int((hit & bad).sum())}/{int(bad.sum())}"
        row["est > d/2"] = f"{int((hit & (fin.raw_estimate > fin.d / 2)).sum())}" \
                           f"/{int((fin.raw_estimate > fin.d / 2).sum())}"
        row["all finished"] = f"{int(hit.sum())}/{len(fin)}"
        row["all chains (loss bound or rule)"] = f"{loss + int(hit.sum())}/{len(df)}"
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(path):
    df = pd.read_csv(path, dtype={"step_size": str})
    a, short, b = (df[df.part == p] for p in ("A", "A-short", "B"))
    print("## A. False positives on regular models (T=20000, burn-in 10000)\n")
    print(f"{len(a)} chains, {a.chain_seed.nunique()} seeds, models pooled: "
          + ", ".join(REGULAR_MODELS) + ". Columns after z: share flagged by each rule "
          "(factor [+ sigmas se]).\n")
    print(markdown(table_quantiles(a)) + "\n")
    print("### Short chains (T=10000, burn-in 5000), 5,4 r4\n")
    print(markdown(table_quantiles(short)) + "\n")
    print("### Flagged good chains per rule (one-sided 95% upper bound of the rate)\n")
    parts = {m: a[a.model == m] for m in REGULAR_MODELS}
    parts["5,4 r4 short"] = short
    print(markdown(table_false_positives(parts)) + "\n")
    print("### Honesty of estimate_se: sd(raw_estimate across seeds) / median(estimate_se)\n")
    print(markdown(table_se_honesty(parts)) + "\n")
    print("## B. Failures (T=20000, burn-in 10000)\n")
    print("Rule columns: finished chains flagged / finished chains.\n")
    print(markdown(table_failures(b)) + "\n")
    fin = finished(b)
    bad = fin[fin.raw_estimate >= 2 * fin.lambda_true]
    print("### Detection per rule over all part-B chains\n")
    print(f"{len(b)} chains: {len(b) - len(fin)} stopped by the loss bound, {len(fin)} finished; "
          f"{len(bad)} finished at >= 2 x LLC, {int((bad.raw_estimate <= bad.d / 2).sum())} "
          "of them at or below d/2, where no rule on d/2 can flag them.\n")
    print(markdown(table_detection(b)) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("llcbench", help="the llcbench binary")
    parser.add_argument("csv", help="output CSV (appended to; chains already in it are skipped)")
    parser.add_argument("--jobs", type=int, default=2, help="chains run at once (default 2)")
    parser.add_argument("--seeds", type=int, default=20,
                        help="chain seeds per part-A setting (default 20)")
    parser.add_argument("--summary-only", action="store_true",
                        help="print the tables of an existing CSV without running chains")
    args = parser.parse_args()
    if not args.summary_only:
        run_grid(args.llcbench, args.csv, grid(args.seeds), args.jobs)
    summarise(args.csv)


if __name__ == "__main__":
    main()
