#!/usr/bin/python3
"""The published claims about the samplers, measured on a study's summary (docs/results/README.md).

    study_claims.py SUMMARY.csv [--tolerance 0.1] [--status all]

SUMMARY.csv is `llcbench query STORE summary --format csv` (a report's summary.csv). Per sampler,
over the rows of one truth status (default `all`): the accurate step sizes (|mean relative
error| <= tolerance, no chain diverged) and their span in decades; the smallest step size where
chains diverge and how far (in decades) it lies above the largest accurate one; the best
mean-variance point (smallest root mean square of the relative error, sqrt(mean^2 + std^2));
the best order preservation; and how the sampler fails above its range: the number of grid
steps from its last accurate step size to the first with diverged chains, and the largest
|mean relative error| it reaches before diverging (gradual failure: a large error first; abrupt:
divergence right away). Prints a Markdown table.
"""
import argparse
import math

import pandas as pd

ORDER = ["sgld", "rmsprop_sgld", "adam_sgld", "sghmc", "sgnht"]
NAMES = {"sgld": "SGLD", "rmsprop_sgld": "RMSPropSGLD", "adam_sgld": "AdamSGLD", "sghmc": "SGHMC", "sgnht": "SGNHT"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("summary")
    ap.add_argument("--tolerance", type=float, default=0.1)
    ap.add_argument("--status", default="all")
    args = ap.parse_args()
    s = pd.read_csv(args.summary, float_precision="round_trip")
    s = s[s["truth_status"] == args.status]
    print(f"| sampler | accurate step sizes (abs. mean error <= {args.tolerance:g}) | span (decades) | "
          "first diverging step | decades above last accurate | best RMS error (at step) | "
          "best order preservation | grid steps from accurate to diverging | largest abs. mean error before diverging |")
    print("|---|---|---|---|---|---|---|---|---|")
    for sampler in [x for x in ORDER if x in set(s["sampler"])]:
        g = s[s["sampler"] == sampler].sort_values("step_size").reset_index(drop=True)
        ok = (g["mean_rel_error"].abs() <= args.tolerance) & (g["divergence_fraction"] == 0)
        accurate = g[ok]["step_size"].tolist()
        span = math.log10(max(accurate) / min(accurate)) if accurate else float("nan")
        div = g[g["divergence_fraction"] > 0]
        first_div = div["step_size"].min() if not div.empty else float("nan")
        gap = math.log10(first_div / max(accurate)) if accurate and not div.empty else float("nan")
        rms = (g["mean_rel_error"] ** 2 + g["std_rel_error"].fillna(0) ** 2) ** 0.5
        best = rms.idxmin() if rms.notna().any() else None
        last_ok = g.index[ok].max() if ok.any() else None
        first_div_i = div.index.min() if not div.empty else None
        steps_between = (first_div_i - last_ok) if last_ok is not None and first_div_i is not None else None
        before = g.loc[last_ok + 1:first_div_i - 1, "mean_rel_error"].abs() if steps_between else pd.Series(dtype=float)
        worst_before = before.max() if not before.empty else float("nan")
        print(f"| {NAMES.get(sampler, sampler)} | {', '.join(f'{x:g}' for x in accurate) or 'none'} | {span:.1f} | "
              f"{first_div:g} | {gap:.1f} | "
              + (f"{rms[best]:.3f} ({g.loc[best, 'step_size']:g})" if best is not None else "n/a") + " | "
              f"{g['order_preservation'].max():.2f} | {steps_between if steps_between is not None else 'n/a'} | "
              f"{worst_before:.2f} |")


if __name__ == "__main__":
    main()
