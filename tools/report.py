#!/usr/bin/python3
"""The report of a sweep's store: figures (PNG and SVG), the CSV behind each, and index.html.

    report.py LLCBENCH STORE OUT
    report.py --calibration CALIBRATION.json OUT.png

`llcbench report STORE --out OUT` runs the first form (docs/report.md; LLCBENCH is that binary),
`llcbench calibrate --plot OUT.png` the second (docs/calibration.md). The tables
come from `llcbench query` (so the summary is exactly the one `query STORE summary` prints,
computed from the jobs as they are: a store still being written, or interrupted, shows its
pending jobs as pending), the traces and the store's attributes from h5py. Needs matplotlib,
pandas and h5py (tools/install-deps.sh installs them). Exits 0, or 1 with a one-line error.
"""
import base64
import datetime
import html
import io
import json
import os
import subprocess
import sys

try:
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
except ImportError as missing:
    print(f"llcbench report: error: {sys.executable} lacks {missing.name} (matplotlib, pandas and h5py are "
          "needed: tools/install-deps.sh installs them, or set LLCB_PYTHON)", file=sys.stderr)
    sys.exit(1)

# One colour and marker per sampler, the same in every figure.
SAMPLERS = ["sgld", "rmsprop_sgld", "adam_sgld", "sghmc", "sgnht"]
NAMES = {"sgld": "SGLD", "rmsprop_sgld": "RMSPropSGLD", "adam_sgld": "AdamSGLD", "sghmc": "SGHMC",
         "sgnht": "SGNHT"}
COLOURS = {"sgld": "#1f77b4", "rmsprop_sgld": "#ff7f0e", "adam_sgld": "#2ca02c", "sghmc": "#d62728",
           "sgnht": "#9467bd"}
MARKERS = {"sgld": "o", "rmsprop_sgld": "s", "adam_sgld": "D", "sghmc": "^", "sgnht": "v"}
STATUS_ORDER = ["all", "exact", "above", "global"]
STATUS_TITLE = {"all": "all problems, against Aoyagi's value", "exact": "exact truth (certified)",
                "above": "truth above Aoyagi's value (a lower bound)",
                "global": "Aoyagi's value (a lower bound of the local truth)"}
# Chain groups (chain.ranks_per_chain = G): one line style per G, solid for the smallest; a store
# with one G draws every line solid and says nothing of G.
G_STYLES = ["-", "--", ":", "-."]
GS = [1]
PENDING_GREY = "#9a9a9a"
FAILED_RED = "#c00000"
Y_CUT = 3.0  # relative error axes stop here


def fail(message):
    print(f"llcbench report: error: {message}", file=sys.stderr)
    sys.exit(1)


def query(llcbench, store, what):
    """`llcbench query STORE WHAT --format csv`: (its text, the table with every float as printed)."""
    r = subprocess.run([llcbench, "query", store, what, "--format", "csv"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"query {what} failed")
    return r.stdout, pd.read_csv(io.StringIO(r.stdout), keep_default_na=True, float_precision="round_trip")


def sampler_order(frame):
    present = list(frame["sampler"].unique())
    return [s for s in SAMPLERS if s in present] + sorted(s for s in present if s not in SAMPLERS)


def colour(s):
    return COLOURS.get(s, "#444444")


def name(s):
    return NAMES.get(s, s)


def panels(summary):
    """(class, truth_status) pairs to draw: a row per class, a column per truth status that has
    problems ('all' first)."""
    classes = list(dict.fromkeys(summary["class"]))
    statuses = [s for s in STATUS_ORDER if s in set(summary["truth_status"])]
    statuses += sorted(set(summary["truth_status"]) - set(statuses))
    return classes, statuses


def grid(classes, statuses, height=3.4, width=4.6):
    fig, axes = plt.subplots(len(classes), len(statuses), figsize=(width * len(statuses) + 2.2, height * len(classes)),
                             squeeze=False, sharex=True)
    return fig, axes


def panel_figure(summary):
    """A figure of a panel per (class, truth status): (fig, sampler order, [(ax, class, status,
    the summary rows of the panel)])."""
    classes, statuses = panels(summary)
    fig, axes = grid(classes, statuses)
    cells = [(axes[i][j], c, st, summary[(summary["class"] == c) & (summary["truth_status"] == st)])
             for i, c in enumerate(classes) for j, st in enumerate(statuses)]
    return fig, sampler_order(summary), cells


def by_sampler(part, order):
    """(sampler, G, its rows by step size) for each sampler of `order` and chain group size G
    that the rows have."""
    for s in order:
        for G in GS:
            g = part[(part["sampler"] == s) & (part["ranks_per_chain"] == G)].sort_values("step_size")
            if not g.empty:
                yield s, G, g


def g_style(G):
    return G_STYLES[GS.index(G) % len(G_STYLES)] if G in GS else "-"


def g_label(G):
    return f"G = {G} rank{'s' if G > 1 else ''} per chain"


def g_suffix(G):
    return f", G = {G}" if len(GS) > 1 else ""


def g_handles():
    """Legend entries for the line styles of chain group sizes (none when the store has one G)."""
    if len(GS) < 2:
        return []
    return [(plt.Line2D([], [], color="#555555", ls=g_style(G), lw=1.4), g_label(G)) for G in GS]


def legend_right(fig, handles, labels, extra=()):
    items = list(zip(handles, labels)) + list(extra)
    legend = fig.legend([h for h, _ in items], [l for _, l in items], loc="center right", frameon=False, fontsize=9)
    # The panels end where the legend starts: its width as drawn, so that it never covers data.
    width = legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    fig.tight_layout(rect=(0, 0, max(0.3, 1 - (width + 0.15) / fig.get_figwidth()), 1))


def sampler_handles(order):
    return ([plt.Line2D([], [], color=colour(s), marker=MARKERS.get(s, "o"), label=name(s)) for s in order],
            [name(s) for s in order])


def waiting(r):
    """Jobs of a summary row not run yet (the summary's `pending` counts failed jobs too)."""
    return r["pending"] - r["failed"]


def pending_marks(ax, rows, y_of):
    """Hollow grey markers where a point has jobs not run yet, red ones where some failed; a grey
    tick at the bottom where nothing of that point is done (a point of no data is never a zero)."""
    for _, r in rows.iterrows():  # count: the done jobs of the point
        y = y_of(r) if r["count"] > 0 else float("nan")
        if waiting(r) > 0 and np.isfinite(y):
            ax.plot(r["step_size"], y, marker="o", ms=11, mfc="none", mec=PENDING_GREY, ls="none", zorder=1)
        if r["failed"] > 0 and np.isfinite(y):
            ax.plot(r["step_size"], y, marker="s", ms=12, mfc="none", mec=FAILED_RED, ls="none", zorder=1)
        if r["count"] == 0 and r["pending"] > 0:
            ax.plot(r["step_size"], 0.02, marker="|", ms=12, color=FAILED_RED if waiting(r) == 0 else PENDING_GREY,
                    ls="none", transform=ax.get_xaxis_transform())


def fig_rel_error(summary, out):
    fig, order, cells = panel_figure(summary)
    rows = []
    for ax, c, st, part in cells:
        for s, G, g in by_sampler(part, order):
            x, m, sd = g["step_size"].values, g["mean_rel_error"].values, g["std_rel_error"].values
            ax.plot(x, m, color=colour(s), marker=MARKERS.get(s, "o"), ms=4, lw=1.4, ls=g_style(G))
            band = np.where(np.isfinite(sd), sd, 0.0)
            ax.fill_between(x, m - band, m + band, color=colour(s), alpha=0.15, lw=0)
            div = g[g["divergence_fraction"] > 0]
            for _, r in div.iterrows():
                y = r["mean_rel_error"] if np.isfinite(r["mean_rel_error"]) else None
                if y is None:  # every chain diverged: no mean to draw, marked at the top
                    ax.plot(r["step_size"], 0.97, marker="X", ms=8, color=colour(s), mec="black", mew=0.6,
                            transform=ax.get_xaxis_transform(), ls="none")
                else:
                    ax.plot(r["step_size"], y, marker="X", ms=9, color=colour(s), mec="black", mew=0.6, ls="none")
            pending_marks(ax, g, lambda r: r["mean_rel_error"])
            slot_marks(ax, g, "mean_rel_error")
            for _, r in g.iterrows():
                rows.append({"class": c, "truth_status": st, "sampler": s, "ranks_per_chain": G,
                             "step_size": r["step_size"], "slot": r["slot"],
                             "count": r["count"], "pending": r["pending"], "failed": r["failed"],
                             "not_run_yet": waiting(r),
                             "mean_rel_error": r["mean_rel_error"], "std_rel_error": r["std_rel_error"],
                             "divergence_fraction": r["divergence_fraction"]})
        ax.axhline(0, color="black", lw=0.6)
        # Far past its range a sampler's error grows to many times the truth; the axis stops at
        # +300 % so that the accurate range stays readable (the CSV has every value).
        finite = part["mean_rel_error"].replace([np.inf, -np.inf], np.nan).dropna()
        if not finite.empty and finite.max() > Y_CUT:
            ax.set_ylim(max(-1.05, finite.min() - 0.1), Y_CUT)
            ax.text(0.01, 0.98, f"axis cut at +{Y_CUT:.0%}", transform=ax.transAxes, fontsize=7, va="top",
                    color="#666666")
        ax.set_xscale("log")
        ax.set_title(f"{c}: {STATUS_TITLE.get(st, st)}", fontsize=9)
        ax.set_xlabel("step size epsilon")
        ax.set_ylabel("relative error of lambda_hat (1 = 100 %)")
        ax.grid(alpha=0.3)
    h, l = sampler_handles(order)
    extra = [(plt.Line2D([], [], marker="X", color="white", mfc="#777777", mec="black", ms=9), "jobs with a diverged chain"),
             (plt.Line2D([], [], marker="o", mfc="none", mec=PENDING_GREY, ls="none", ms=10), "jobs still pending"),
             (plt.Line2D([], [], marker="s", mfc="none", mec=FAILED_RED, ls="none", ms=10), "some jobs failed"),
             (plt.Line2D([], [], marker="|", color=PENDING_GREY, ls="none", ms=12), "nothing done yet")]
    legend_right(fig, h, l, g_handles() + extra)
    return save(fig, out, "rel_error_vs_step", pd.DataFrame(rows))


def fig_mean_std(summary, out):
    fig, order, cells = panel_figure(summary)
    rows = []
    for ax, c, st, part in cells:
        for s, G, g in by_sampler(part, order):
            g = g.dropna(subset=["mean_rel_error", "std_rel_error"])
            first = G == GS[0]  # the smallest G filled, every other hollow and labelled
            ax.scatter(g["mean_rel_error"], g["std_rel_error"], color=colour(s) if first else "none",
                       edgecolors=colour(s), marker=MARKERS.get(s, "o"), s=22)
            for _, r in g.iterrows():
                if not first:
                    ax.annotate(f"G{G}", (r["mean_rel_error"], r["std_rel_error"]), fontsize=6, color=colour(s),
                                xytext=(3, 3), textcoords="offset points")
                if r["slot"]:
                    ax.annotate(r["slot"].replace("calibrated", "cal"), (r["mean_rel_error"], r["std_rel_error"]),
                                fontsize=6, color="#333333", xytext=(3, -9), textcoords="offset points")
                rows.append({"class": c, "truth_status": st, "sampler": s, "ranks_per_chain": G,
                             "step_size": r["step_size"], "slot": r["slot"],
                             "count": r["count"], "not_run_yet": waiting(r),
                             "mean_rel_error": r["mean_rel_error"], "std_rel_error": r["std_rel_error"]})
        if not any(r["class"] == c and r["truth_status"] == st for r in rows):
            ax.text(0.5, 0.5, "no spread to show:\nfewer than two problems per point", ha="center",
                    va="center", transform=ax.transAxes, color="#666666")
        ax.axvline(0, color="black", lw=0.6)
        pts = pd.DataFrame([r for r in rows if r["class"] == c and r["truth_status"] == st])
        if not pts.empty and (pts["mean_rel_error"].max() > Y_CUT or pts["std_rel_error"].max() > Y_CUT):
            ax.set_xlim(max(-1.05, pts["mean_rel_error"].min() - 0.1), Y_CUT)
            ax.set_ylim(-0.02, Y_CUT)
            ax.text(0.99, 0.98, f"axes cut at {Y_CUT:.0%}", transform=ax.transAxes, fontsize=7, va="top",
                    ha="right", color="#666666")
        ax.set_title(f"{c}: {STATUS_TITLE.get(st, st)}", fontsize=9)
        ax.set_xlabel("mean relative error")
        ax.set_ylabel("std of the relative error")
        ax.grid(alpha=0.3)
        ax.tick_params(labelbottom=True)
    h, l = sampler_handles(order)
    extra = [(plt.Line2D([], [], marker="o", mfc="none", mec="#555555", ls="none"),
              f"hollow, labelled Gn: G = n > {GS[0]} ranks per chain")] if len(GS) > 1 else []
    legend_right(fig, h, l, extra)
    return save(fig, out, "mean_vs_std", pd.DataFrame(rows))


def fig_by_step(summary, out, column, stem, ylabel, ylim):
    fig, order, cells = panel_figure(summary)
    rows = []
    for ax, c, st, part in cells:
        for s, G, g in by_sampler(part, order):
            ax.plot(g["step_size"], g[column], color=colour(s), marker=MARKERS.get(s, "o"), ms=4, lw=1.4,
                    ls=g_style(G))
            pending_marks(ax, g, lambda r: r[column])
            for _, r in g.iterrows():
                rows.append({"class": c, "truth_status": st, "sampler": s, "ranks_per_chain": G,
                             "step_size": r["step_size"],
                             "count": r["count"], "pending": r["pending"], "failed": r["failed"],
                             "not_run_yet": waiting(r), column: r[column]})
        if not np.isfinite(part[column].astype(float)).any():
            ax.text(0.5, 0.5, "no value yet" if (part["count"] == 0).all() else
                    "no value: fewer than two problems per point", ha="center", va="center",
                    transform=ax.transAxes, color="#666666")
        ax.set_xscale("log")
        ax.set_ylim(*ylim)
        ax.set_title(f"{c}: {STATUS_TITLE.get(st, st)}", fontsize=9)
        ax.set_xlabel("step size epsilon")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    h, l = sampler_handles(order)
    legend_right(fig, h, l, g_handles() + [(plt.Line2D([], [], marker="o", mfc="none", mec=PENDING_GREY, ls="none", ms=10),
                              "jobs still pending"),
                             (plt.Line2D([], [], marker="s", mfc="none", mec=FAILED_RED, ls="none", ms=10),
                              "some jobs failed")])
    return save(fig, out, stem, pd.DataFrame(rows))


def best_steps(summary):
    """{(class, sampler, G): (step size, slot)}: the step size (or calibrated slot) of the smallest
    |mean relative error| (against Aoyagi's value, all problems) among those where no chain
    diverged."""
    best = {}
    part = summary[(summary["truth_status"] == "all") & (summary["divergence_fraction"] == 0)]
    part = part.dropna(subset=["mean_rel_error"])
    for (c, s, G), g in part.groupby(["class", "sampler", "ranks_per_chain"]):
        row = g.loc[g["mean_rel_error"].abs().idxmin()]
        best[(c, s, G)] = (row["step_size"], row["slot"])
    return best


def best_label(best, key):
    """'eps 1e-07', or for a calibrated slot 'calibrated (median eps 1e-07)'."""
    step, slot = best[key]
    return f"{slot} (median eps {step:.3g})" if slot else f"eps {step:.3g}"


def best_jobs(jobs, best, c, s, G):
    """The done jobs of sampler s with chain groups of G in class c at its best step size (or slot)."""
    step, slot = best[(c, s, G)]
    at = jobs["slot"] == slot if slot else (jobs["slot"] == "") & (jobs["step_size"] == step)
    return jobs[(jobs["class"] == c) & (jobs["sampler"] == s) & (jobs["ranks_per_chain"] == G) & at &
                (jobs["status"] == "done")]


def slot_marks(ax, g, y):
    """Labels a calibrated sampler's points with their slots ("cal", "cal-1", ...)."""
    for _, r in g.iterrows():
        if r["slot"] and np.isfinite(r[y]) and np.isfinite(r["step_size"]):
            ax.annotate(r["slot"].replace("calibrated", "cal"), (r["step_size"], r[y]), fontsize=6,
                        color="#333333", xytext=(3, -9), textcoords="offset points")


def fig_lambda_vs_truth(summary, jobs, out):
    best = best_steps(summary)
    classes = list(dict.fromkeys(summary["class"]))
    order = sampler_order(summary)
    # A panel per class and chain group size that the class ran with.
    cells = [(c, G) for c in classes for G in GS
             if ((summary["class"] == c) & (summary["ranks_per_chain"] == G)).any()]
    fig, axes = plt.subplots(1, len(cells), figsize=(5.2 * len(cells) + 2.6, 4.4), squeeze=False)
    rows = []
    for i, (c, G) in enumerate(cells):
        ax = axes[0][i]
        lo, hi = np.inf, -np.inf
        for s in order:
            if (c, s, G) not in best:
                continue
            g = best_jobs(jobs, best, c, s, G)
            exact = g["truth_status"] == "exact"
            for sel, filled in ((exact, True), (~exact, False)):
                h = g[sel]
                ax.scatter(h["lambda_lower"], h["lambda_hat"], s=26, marker=MARKERS.get(s, "o"),
                           color=colour(s) if filled else "none", edgecolors=colour(s), linewidths=1.2)
            for _, r in g.iterrows():
                rows.append({"class": c, "sampler": s, "ranks_per_chain": G, "step_size": r["step_size"],
                             "job_id": r["job_id"],
                             "truth_status": r["truth_status"], "lambda_lower": r["lambda_lower"],
                             "lambda_true": r["lambda_true"], "lambda_hat": r["lambda_hat"]})
            finite = pd.concat([g["lambda_lower"], g["lambda_hat"]]).replace([np.inf, -np.inf], np.nan).dropna()
            if not finite.empty:
                lo, hi = min(lo, finite.min()), max(hi, finite.max())
        if np.isfinite(lo):
            pad = 0.05 * (hi - lo + 1)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.8, ls="--")
        ax.set_title(f"{c}{g_suffix(G)}: each sampler at its best step size", fontsize=9)
        ax.set_xlabel("true LLC: exact (filled) or a lower bound (hollow)")
        ax.set_ylabel("lambda_hat")
        ax.grid(alpha=0.3)
    h, l = sampler_handles(order)
    extra = [(plt.Line2D([], [], marker="o", color="#555555", ls="none"), "exact truth"),
             (plt.Line2D([], [], marker="o", mfc="none", mec="#555555", ls="none"), "truth is at least x"),
             (plt.Line2D([], [], color="black", ls="--", lw=0.8), "lambda_hat = truth")]
    one = len(cells) == 1  # with several panels each panel's best step sizes are in the CSV
    c0, g0 = cells[0]
    legend_right(fig, h, [f"{name(s)} ({best_label(best, (c0, s, g0))})" if one and (c0, s, g0) in best else name(s)
                          for s in order], extra)
    return save(fig, out, "lambda_vs_truth", pd.DataFrame(rows))


def running_mean(values, window):
    if window <= 1 or len(values) < window:
        return values
    ok = np.isfinite(values)
    c = np.cumsum(np.insert(np.where(ok, values, 0.0), 0, 0.0))
    n = np.cumsum(np.insert(ok.astype(float), 0, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c[window:] - c[:-window]) / (n[window:] - n[:-window])  # over the finite values only
    return np.concatenate([np.full(window - 1, np.nan), mean])


def fig_traces(summary, jobs, store, out):
    """Best, median and worst job (|relative error|) of each sampler at its best step size."""
    best = best_steps(summary)
    # A panel per sampler and chain group size, each at the first class that has a best step size.
    order = [(s, G) for s in sampler_order(summary) for G in GS if any(k[1:] == (s, G) for k in best)]
    if not order:
        return None
    cols = min(3, len(order))
    nrows = (len(order) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5.0 * cols, 3.9 * nrows), squeeze=False)
    for ax in axes.flat[len(order):]:
        ax.set_visible(False)
    rows = []
    with h5py.File(store, "r", locking=False) as f:
        loss = f["traces"]["loss"]
        every = int(loss.attrs["trace_every"])
        for ax, (s, G) in zip(axes.flat, order):
            c = next(k[0] for k in best if k[1:] == (s, G))
            g = best_jobs(jobs, best, c, s, G).dropna(subset=["rel_error"])
            if g.empty:
                continue
            g = g.assign(abs_error=g["rel_error"].abs()).sort_values("abs_error")
            picks = {"best": g.iloc[0], "median": g.iloc[len(g) // 2], "worst": g.iloc[-1]}
            for (label, r), (style, alpha) in zip(picks.items(), (("-", 1.0), ("--", 0.7), (":", 0.5))):
                trace = loss[int(r["job_index"])]  # rows x chains
                mean = np.nanmean(trace, axis=1) if trace.ndim == 2 else trace
                smooth = running_mean(mean, max(1, len(mean) // 100))
                steps = np.arange(len(mean)) * every
                ok = np.isfinite(smooth)
                ax.plot(steps[ok], smooth[ok], color=colour(s), ls=style, lw=1.3, alpha=alpha,
                        label=f"{label}: problem seed {int(r['problem_seed'])}, error {r['rel_error']:+.0%} against "
                              + ("the exact truth" if r["truth_status"] == "exact" else "a lower bound"))
                stride = max(1, int(ok.sum()) // 150)
                rows.extend({"sampler": s, "ranks_per_chain": G, "pick": label, "job_id": r["job_id"], "truth_status": r["truth_status"],
                             "rel_error": r["rel_error"], "step": int(t), "chain_mean_loss": float(v),
                             "running_mean": float(m)}
                            for t, v, m in zip(steps[::stride], mean[::stride], smooth[::stride]))
            burn = int(g.iloc[0]["burn_in"])
            ax.axvline(burn, color="black", lw=0.8, ls="-.")
            ax.text(burn, 0.02, " burn-in ends", transform=ax.get_xaxis_transform(), fontsize=8, va="bottom")
            ax.set_title(f"{name(s)}, {c}{g_suffix(G)}, {best_label(best, (c, s, G))}", fontsize=9)
            ax.set_xlabel("step t")
            ax.set_ylabel("loss (running mean over 1 % of the trace)")
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, out, "traces", pd.DataFrame(rows), float_format="%.7g")


def fig_throughput(jobs, out):
    # Diverged chains stop early; their rates say nothing about a full chain.
    done = jobs[(jobs["status"] == "done") & (jobs["steps_per_second"] > 0) & (jobs["diverged"] == 0)]
    if done.empty:
        return None
    done = done.assign(chains_per_hour=3600.0 * done["steps_per_second"] / done["steps"])
    table = done.groupby(["backend", "class", "ranks_per_chain", "sampler"], as_index=False).agg(
        jobs=("job_id", "count"), steps_per_second=("steps_per_second", "mean"),
        chains_per_hour=("chains_per_hour", "mean"))
    groups = list(dict.fromkeys(zip(table["backend"], table["class"], table["ranks_per_chain"])))
    order = sampler_order(table)
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 2.2 * len(groups) * 2 + 2.6), 3.8))
    width = 0.8 / max(1, len(order))
    for ax, column, label in ((axes[0], "steps_per_second", "steps per second (one chain)"),
                              (axes[1], "chains_per_hour", "chains per hour (back to back)")):
        for k, s in enumerate(order):
            vals = [table[(table["backend"] == b) & (table["class"] == c) & (table["ranks_per_chain"] == G) &
                          (table["sampler"] == s)][column] for b, c, G in groups]
            ys = [v.iloc[0] if len(v) else np.nan for v in vals]  # no job: no bar, never a zero
            ax.bar(np.arange(len(groups)) + (k - (len(order) - 1) / 2) * width, ys, width, color=colour(s))
        ax.set_xticks(np.arange(len(groups)), [f"{c}\n{b}" + (f"\nG = {G}" if len(GS) > 1 else "")
                                               for b, c, G in groups])
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y")
    h, l = sampler_handles(order)
    legend_right(fig, [plt.Rectangle((0, 0), 1, 1, color=colour(s)) for s in order], l)
    return save(fig, out, "throughput", table)


def save(fig, out, stem, data, float_format=None):
    fig.savefig(os.path.join(out, stem + ".png"), dpi=110)
    fig.savefig(os.path.join(out, stem + ".svg"))
    plt.close(fig)
    data.to_csv(os.path.join(out, stem + ".csv"), index=False, float_format=float_format)
    return stem


CAPTIONS = {
    "rel_error_vs_step": "Mean relative error of lambda_hat against the step size, one line per sampler; the "
                         "band is one standard deviation over problems. Read it for the range of step sizes where a "
                         "sampler's line stays near 0. An X marks a step size where some jobs had a diverged chain "
                         "(the mean is over the jobs without one; an X at the top: every job diverged). Grey rings: "
                         "jobs not run yet; red squares: jobs that failed. In a panel of lower-bound truths, an "
                         "error above 0 may be right. The axis stops at +300 %; the CSV has every value. Where the store has "
                         "chain groups of several sizes (G ranks per chain), each G has its own line style.",
    "mean_vs_std": "Mean against standard deviation of the relative error over problems, one point per (sampler, "
                   "step size): the closer to (0, 0), the better the trade-off between bias and spread.",
    "order_preservation": "Order preservation: the fraction of problem pairs whose lambda_hat order matches the order "
                          "of their Aoyagi values, against the step size. 1 means the estimates rank the problems "
                          "as those values do; in the above and global panels those values are lower bounds of "
                          "the local truth, so the ranking they give is itself uncertain.",
    "divergence": "Fraction of finished jobs with a diverged chain, against the step size: where a sampler stops "
                  "being usable. Line styles, where there are several, are chain group sizes G.",
    "lambda_vs_truth": "lambda_hat against the true LLC of every problem, each sampler at its best step size (the "
                       "smallest |mean relative error| with no divergence, in the legend). Filled markers: the truth "
                       "is certified exact; hollow: it is a lower bound, so the truth lies at or right of the point.",
    "traces": "Loss traces of the best, median and worst job (by |relative error|) of each sampler at its best step "
              "size, as a running mean over 1 % of the trace (the CSV has the mean over chains beside it, thinned "
              "to about 150 points); the legend says whether each error is against the exact truth or a lower "
              "bound. lambda_hat averages the "
              "loss after the burn-in line. A trace still drifting after the burn-in means the chain had not "
              "settled.",
    "throughput": "Throughput of the jobs in the store: steps per second of one chain and chains per hour of one "
                  "chain run back to back at the store's chain length (3600 x steps per second / steps), by backend "
                  "and model class: means over the jobs that finished without diverging (the CSV has the counts).",
}


def image_tag(out, stem):
    with open(os.path.join(out, stem + ".png"), "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return (f'<figure><img alt="{stem}" src="data:image/png;base64,{data}">'
            f'<figcaption>{html.escape(CAPTIONS[stem])} Files: <a href="{stem}.png">{stem}.png</a>, '
            f'<a href="{stem}.svg">.svg</a>, <a href="{stem}.csv">.csv</a>.</figcaption></figure>')


def table_html(frame, float_digits=4):
    def cell(v):
        if isinstance(v, float):
            return "nan" if not np.isfinite(v) else f"{v:.{float_digits}g}"
        return html.escape(str(v))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def world_sizes(sessions):
    """The rank counts of the sweep sessions that wrote the store (its `sessions` attribute)."""
    ranks = [tok.split("=", 1)[1] for line in sessions if " sweep " in line
             for tok in line.split() if tok.startswith("ranks=")]
    if not ranks:
        return "not recorded (a store of an earlier version)"
    counts = {r: ranks.count(r) for r in dict.fromkeys(ranks)}
    return "; ".join(f"{r} ({n} sweep session{'s' if n > 1 else ''})" for r, n in counts.items())


def page(out, store, attrs, status, summary, jobs, figures):
    sessions = [line for line in attrs.get("sessions", "").splitlines() if line.strip()]
    finished = jobs["finished"].dropna()
    finished = finished[finished != ""]
    prov = [
        ("store", os.path.abspath(store)),
        ("state", f"{status.get('state', '?')}: {status.get('done', 0)} done, {status.get('failed', 0)} failed, "
                  f"{status.get('pending', 0)} pending of {status.get('jobs', 0)} jobs"),
        ("llcbench version", attrs.get("llcbench_version", "?") + (f" ({attrs['git_commit']})" if attrs.get("git_commit") else "")),
        ("store created", attrs.get("created", "?")),
        ("jobs finished", f"{finished.min()} to {finished.max()}" if len(finished) else "none yet"),
        ("backend, precision", ", ".join(sorted({f"{b}, {p}" for b, p in zip(jobs["backend"], jobs["precision"])
                                                 if isinstance(b, str) and b}) or ["none yet"])),
        ("hosts", ", ".join(sorted({h for h in jobs["host"] if isinstance(h, str) and h}) or ["none yet"])),
        ("ranks (MPI world size)", world_sizes(sessions)),
        ("ranks per chain (G)", ", ".join(str(v) for v in GS)),
        ("sessions", "\n".join(sessions) or "not recorded (a store of an earlier version)"),
        ("report written", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    shown = summary[[c for c in ("class", "sampler", "step_size", "truth_status", "count", "pending", "failed",
                                 "mean_rel_error", "std_rel_error", "mean_rel_error_lower", "divergence_fraction",
                                 "order_preservation") if c in summary.columns]]
    css = ("body{font-family:sans-serif;max-width:1400px;margin:1.5em auto;padding:0 1em;color:#222}"
           "figure{margin:1.5em 0}img{max-width:100%}figcaption{font-size:.9em;color:#444;max-width:70em}"
           "table{border-collapse:collapse;font-size:.8em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
           "th{background:#f2f2f2}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.85em}"
           ".prov td{text-align:left;white-space:pre-line}")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>llcbench report: {html.escape(os.path.basename(store))}"
             f"</title><style>{css}</style></head><body>",
             f"<h1>llcbench report: {html.escape(os.path.basename(store))}</h1>",
             "<table class='prov'>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                                              for k, v in prov) + "</table>",
             "<p>Truth statuses (docs/truth.md): <b>exact</b> problems have a certified LLC; for <b>above</b> and "
             "<b>global</b> problems the value graded against is a lower bound, so a positive error there may be "
             "right. The <b>all</b> rows grade every problem against Aoyagi's value.</p>"]
    parts += [image_tag(out, f) for f in figures if f]
    parts += ["<h2>Summary</h2><p>As <code>llcbench query STORE summary</code> prints it (every column: "
              "<a href='summary.csv'>summary.csv</a>); pending jobs are counted as pending, never as results.</p>",
              table_html(shown),
              "<h2>Config</h2><pre>" + html.escape(attrs.get("config_text", "")) + "</pre></body></html>"]
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write("\n".join(parts))


def calibration_plot(data_path, png):
    """`llcbench calibrate --plot PNG`: lambda_hat against the step size, each chain a dot, the
    median a line, the accepted range shaded, the pick marked, the truth only where the
    calibration was asked to show it."""
    with open(data_path) as f:
        cal = json.load(f)
    s = cal.get("sampler", "")
    fig, ax = plt.subplots(figsize=(8.6, 4.6))
    grid = cal["grid"]
    ran = [p for p in grid if p["run"]]
    xs = [p["step_size"] for p in ran]
    med = [p["median"] if p["median"] is not None else np.nan for p in ran]
    lo = [p["low"] if p["low"] is not None else np.nan for p in ran]
    hi = [p["high"] if p["high"] is not None else np.nan for p in ran]
    if cal.get("found"):
        ax.axvspan(cal["accepted_low"] / 1.25, cal["accepted_high"] * 1.25, color="#2ca02c", alpha=0.12, lw=0,
                   label="accepted range")
        ax.axvline(cal["recommended"], color="#2ca02c", lw=1.6, label=f"recommended: {cal['recommended']:.3g}")
    ax.fill_between(xs, lo, hi, color=colour(s), alpha=0.15, lw=0)
    ax.plot(xs, med, color=colour(s), marker=MARKERS.get(s, "o"), ms=5, lw=1.4, label=f"{name(s)}: median over chains")
    for p in ran:
        finite = [v for v in p["lambda_hat"] if v is not None]
        ax.scatter([p["step_size"]] * len(finite), finite, s=9, color=colour(s), alpha=0.6, zorder=3)
        if not p["sound"] and p["median"] is not None:
            ax.plot(p["step_size"], p["median"], marker="o", ms=11, mfc="none", mec=PENDING_GREY, ls="none")
        if p["diverged"] > 0:
            ax.plot(p["step_size"], 0.96, marker="X", ms=9, color=colour(s), mec="black", mew=0.6, ls="none",
                    transform=ax.get_xaxis_transform())
            ax.text(p["step_size"], 0.89, f"{p['diverged']}/{p['chains']}", transform=ax.get_xaxis_transform(),
                    ha="center", fontsize=7)
    for p in grid:
        if not p["run"]:
            ax.plot(p["step_size"], 0.02, marker="|", ms=12, color=PENDING_GREY, ls="none",
                    transform=ax.get_xaxis_transform())
    if "lambda_true" in cal:
        exact = cal.get("truth_status") == "exact"
        ax.axhline(cal["lambda_true"], color="black", ls="--", lw=0.9,
                   label=("exact LLC " if exact else "Aoyagi's value, a lower bound of the truth: ")
                   + f"{cal['lambda_true']:g} (not used by the rule)")
    finite = [v for v in hi if np.isfinite(v)]
    ref = [v for v in med if np.isfinite(v)]
    if finite and ref:  # far past the range estimates grow many-fold: keep the plateau readable
        top = 3.0 * max(cal.get("lambda_true", 0), np.median(ref))
        if max(finite) > top:
            ax.set_ylim(bottom=min(0, min(lo)), top=top)
            ax.text(0.01, 0.98, "axis cut (the JSON beside the plot has every value)", transform=ax.transAxes,
                    fontsize=7, va="top", color="#666666")
    ax.set_xscale("log")
    ax.set_xlabel("step size epsilon")
    ax.set_ylabel("lambda_hat of each chain")
    what = (f"{cal.get('class', '')} seed {cal.get('seed', '')}, {cal.get('teacher', '?')} teacher" if "class" in cal
            else "replayed chains")
    ax.set_title(f"calibration of {name(s) or 'a sampler'} on {what}: "
                 + ("recommended " + f"{cal['recommended']:.3g}" if cal.get("found") else "no recommendation"),
                 fontsize=9)
    ax.grid(alpha=0.3)
    extra = [(plt.Line2D([], [], marker="o", mfc="none", mec=PENDING_GREY, ls="none", ms=10), "not sound"),
             (plt.Line2D([], [], marker="X", color="white", mfc="#777777", mec="black", ms=9), "chains diverged (k/K)"),
             (plt.Line2D([], [], marker="|", color=PENDING_GREY, ls="none", ms=12), "not run")]
    h, l = ax.get_legend_handles_labels()
    legend_right(fig, h, l, extra)
    fig.savefig(png, dpi=110)
    fig.savefig(os.path.splitext(png)[0] + ".svg")
    plt.close(fig)
    print(f"calibration plot: {png}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--calibration":
        calibration_plot(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 4:
        fail("usage: report.py LLCBENCH STORE OUT, or report.py --calibration CALIBRATION.json OUT.png")
    llcbench, store, out = sys.argv[1:]
    summary_text, summary = query(llcbench, store, "summary")
    _, jobs = query(llcbench, store, "jobs")
    # Stores of earlier versions lack these columns: the reducer's defaults.
    for column, default in (("truth_status", ""), ("ranks_per_chain", 1), ("precision", ""), ("teacher", "")):
        if column not in jobs.columns:
            jobs[column] = default
    if "lambda_lower" not in jobs.columns:
        jobs["lambda_lower"] = jobs["lambda_true"]
    if "ranks_per_chain" not in summary.columns:
        summary["ranks_per_chain"] = 1
    # Calibrated samplers (docs/calibration.md "In a sweep"): "" for a fixed step size, else the
    # slot; a slot's summary row sits at the median step size its problems' calibrations chose.
    for frame in (summary, jobs):
        frame["slot"] = frame["slot"].fillna("").astype(str) if "slot" in frame.columns else ""
    GS[:] = sorted(int(g) for g in set(summary["ranks_per_chain"]) | set(jobs["ranks_per_chain"]))
    st = subprocess.run([llcbench, "status", store, "--json"], capture_output=True, text=True)
    status = json.loads(st.stdout) if st.stdout.strip().startswith("{") else {}
    with h5py.File(store, "r", locking=False) as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.csv"), "w") as f:
        f.write(summary_text)
    plt.rcParams.update({"font.size": 9})
    figures = [fig_rel_error(summary, out), fig_mean_std(summary, out),
               fig_by_step(summary, out, "order_preservation", "order_preservation", "order preservation (fraction)",
                           (-0.05, 1.05)),
               fig_by_step(summary, out, "divergence_fraction", "divergence", "jobs with a diverged chain (fraction)",
                           (-0.05, 1.05)),
               fig_lambda_vs_truth(summary, jobs, out), fig_traces(summary, jobs, store, out), fig_throughput(jobs, out)]
    page(out, store, attrs, status, summary, jobs, figures)
    print(f"report of {store}: {sum(1 for f in figures if f)} figures, {os.path.join(out, 'index.html')}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line, as every llcbench error
        fail(f"{type(e).__name__}: {e}")
