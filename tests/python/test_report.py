#!/usr/bin/python3
"""`llcbench report` as a user meets it (docs/report.md).

    test_report.py LLCBENCH WORK_DIR [MPIEXEC]

A small sweep (tiny class, all five samplers, a failed job injected) makes a store; its report
must have every figure as PNG and SVG with its CSV, a self-contained index.html (the figures
inline, no network), a summary.csv equal to `query summary`'s, and figure CSVs with the summary's
numbers. A store interrupted by SIGTERM (pending jobs) reports them as pending, not as zeros. A
file that is not a store is a one-line error, exit 2, and nothing is written. A sweep under
`mpirun -np 3` with chain groups of 1 and 2 ranks draws each G apart and says it ran on 3 ranks
(skipped, and said so, in a build without MPI: no MPIEXEC given).
"""
import csv
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import checks
from checks import check, done

FIGURES = ["rel_error_vs_step", "mean_vs_std", "order_preservation", "divergence", "lambda_vs_truth", "traces",
           "throughput"]


def run(*args, **kw):
    return checks.run(LLCBENCH, *args, **kw)


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def number(v):
    return float("nan") if v in ("", "nan") else float(v)


def same_number(a, b):
    a, b = number(a), number(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def report_of(store, name):
    out = os.path.join(WORK, name)
    r = run("report", store, "--out", out)
    check(r.returncode == 0, f"report of {name} exits 0 ({r.returncode}: {r.stderr.strip()})")
    return out


def check_files(out, name):
    for f in FIGURES:
        for ext in ("png", "svg", "csv"):
            p = os.path.join(out, f"{f}.{ext}")
            check(os.path.isfile(p) and os.path.getsize(p) > 0, f"{name}: {f}.{ext} written")
    page = open(os.path.join(out, "index.html")).read()
    check(page.count("data:image/png;base64,") == len(FIGURES), f"{name}: index.html holds every figure inline")
    check("http://" not in page and "https://" not in page, f"{name}: index.html needs no network")
    check("<h2>Config</h2>" in page and "[sweep]" in page, f"{name}: index.html shows the config")
    return page


def figure_matches_summary(out, summary, name):
    """The mean relative error, pending count and divergence of every drawn point are the summary's."""
    def key(r):
        return r["class"], r["truth_status"], r["sampler"], r["ranks_per_chain"], r["step_size"]
    by_key = {key(r): r for r in summary}
    drawn = rows(open(os.path.join(out, "rel_error_vs_step.csv")).read())
    ok = len(drawn) == len(summary) and len(by_key) == len(summary) and all(
        same_number(d[c], by_key[key(d)][c])
        for d in drawn for c in ("mean_rel_error", "std_rel_error", "pending", "divergence_fraction"))
    check(ok, f"{name}: rel_error_vs_step.csv has the summary's numbers at every point ({len(drawn)} points)")


def chain_groups(cfg):
    groups = os.path.join(WORK, "groups.h5")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_pml="ob1", OMPI_MCA_btl="self,vader",
               OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([MPIEXEC, "-np", "3", LLCBENCH, "sweep", cfg, "--store", groups, "--log-level", "warn",
                        "--set", "sweep.samplers=sgld", "--set", "sgld.step_sizes=1e-7,1e-6",
                        "--set", "chain.ranks_per_chain=1,2"], capture_output=True, text=True, env=env, timeout=240)
    check(r.returncode == 0, f"the chain-group sweep under mpirun -np 3 exits 0 ({r.returncode}: {r.stderr[-300:]})")
    out = report_of(groups, "groups")
    page = check_files(out, "groups")
    summary = rows(run("query", groups, "summary", "--format", "csv").stdout)
    figure_matches_summary(out, summary, "groups")
    for f in ("rel_error_vs_step", "divergence", "lambda_vs_truth", "traces", "throughput"):
        gs = {d["ranks_per_chain"] for d in rows(open(os.path.join(out, f + ".csv")).read())}
        check(gs == {"1", "2"}, f"groups: {f}.csv draws G = 1 and G = 2 apart ({sorted(gs)})")
    check("ranks (MPI world size)</th><td>3 (1 sweep session)" in page, "groups: the page says it ran on 3 ranks")
    check("ranks per chain (G)</th><td>1, 2" in page, "groups: the page lists both chain group sizes")


def main():
    os.makedirs(WORK, exist_ok=True)
    cfg = os.path.join(WORK, "report.ini")
    with open(cfg, "w") as f:
        f.write("[sweep]\nsamplers = sgld, rmsprop_sgld, adam_sgld, sghmc, sgnht\nthreads = 1\n"
                "[problems]\nclass = tiny\ncount = 3\n[chain]\nsteps = 3000\nbatch_size = 50\ntrace_every = 10\n"
                "[sgld]\nstep_sizes = 1e-7, 1e-6, 1e-3\n[rmsprop_sgld]\nstep_sizes = 1e-9, 1e-8\n"
                "[adam_sgld]\nstep_sizes = 1e-9, 1e-8\n[sghmc]\nstep_sizes = 1e-9, 1e-8\n"
                "[sgnht]\nstep_sizes = 1e-9, 1e-8\n")

    # A finished store with one failed job (test.fail_job: grid index 4).
    full = os.path.join(WORK, "full.h5")
    r = run("sweep", cfg, "--store", full, "--log-level", "warn", "--set", "test.fail_job=4")
    check(r.returncode == 1, f"the sweep with an injected failure exits 1 ({r.returncode})")
    out = report_of(full, "full")
    check_files(out, "full")
    summary_text = run("query", full, "summary", "--format", "csv").stdout
    check(open(os.path.join(out, "summary.csv")).read() == summary_text, "full: summary.csv is query summary's, byte for byte")
    # A Python that cannot draw (here one that fails silently): llcbench says so in its own line.
    r = run("report", full, "--out", os.path.join(WORK, "no_python"), env={**os.environ, "LLCB_PYTHON": "/bin/false"})
    last = (r.stderr.strip().splitlines() or [""])[-1]
    check(r.returncode == 1 and last.startswith("llcbench report: error: drawing the report into"),
          f"a Python that fails gives exit 1 and llcbench's line ({r.returncode}: {r.stderr.strip()})")
    summary = rows(summary_text)
    check(any(int(s["failed"]) > 0 for s in summary), "full: the summary counts the failed job")
    figure_matches_summary(out, summary, "full")
    page = open(os.path.join(out, "index.html")).read()
    check("ranks (MPI world size)</th><td>1 (1 sweep session)" in page,
          "full: the page says one sweep session ran on one rank")
    drawn = [d for d in rows(open(os.path.join(out, "rel_error_vs_step.csv")).read()) if d["truth_status"] == "all"]
    check(sum(int(d["failed"]) for d in drawn) == 1 and all(int(d["not_run_yet"]) == 0 for d in drawn),
          "full: the failed job is drawn as failed, nothing as not run yet")

    # An interrupted store: SIGTERM once a few jobs are done.
    part = os.path.join(WORK, "partial.h5")
    p = subprocess.Popen([LLCBENCH, "sweep", cfg, "--store", part, "--log-level", "warn", "--set", "chain.steps=30000"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        st = run("status", part, "--json")
        if st.stdout.startswith("{") and json.loads(st.stdout)["done"] >= 3:
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=120) == 3, "the interrupted sweep exits 3")
    out = report_of(part, "partial")
    page = check_files(out, "partial")
    summary = rows(run("query", part, "summary", "--format", "csv").stdout)
    check(any(int(s["pending"]) > 0 for s in summary), "partial: the summary has pending jobs")
    figure_matches_summary(out, summary, "partial")
    drawn = rows(open(os.path.join(out, "rel_error_vs_step.csv")).read())
    nothing_done = [d for d in drawn if int(d["count"]) == 0]  # count: done jobs
    check(nothing_done and all(d["mean_rel_error"] in ("", "nan") for d in nothing_done),
          f"partial: points with nothing done have no value, never 0 ({len(nothing_done)} such points)")
    check("state</th><td>interrupted" in page, "partial: the page says the store is interrupted")

    # Chain groups: mpirun -np 3 (rank 0 schedules, two workers), G = 1 and G = 2 in one store.
    if MPIEXEC:
        chain_groups(cfg)
    else:
        print("skip chain groups: a build without MPI (no MPIEXEC given)")

    # A sweep with a calibrated sampler: its slots drawn and labelled, its best slot's jobs found.
    calibrated = os.path.join(WORK, "calibrated.h5")
    r = run("sweep", cfg, "--store", calibrated, "--log-level", "warn", "--set", "sweep.samplers=sgld,sghmc",
            "--set", "sgld.step_sizes=calibrate", "--set", "calibrate.grid=1e-8:1e-4:1",
            "--set", "calibrate.steps=2000", "--set", "calibrate.chains=2")
    check(r.returncode == 0, f"the calibrated sweep exits 0 ({r.returncode}: {r.stderr.strip()[-300:]})")
    out = report_of(calibrated, "calibrated")
    check_files(out, "calibrated")
    summary = rows(run("query", calibrated, "summary", "--format", "csv").stdout)
    figure_matches_summary(out, summary, "calibrated")
    drawn = rows(open(os.path.join(out, "rel_error_vs_step.csv")).read())
    slots = {d["slot"] for d in drawn if d["sampler"] == "sgld"}
    check(slots == {"calibrated-1", "calibrated", "calibrated+1"}, f"calibrated: SGLD drawn by slot ({sorted(slots)})")
    check(all(d["slot"] == "" for d in drawn if d["sampler"] == "sghmc"), "calibrated: SGHMC keeps its step sizes")
    best = [d for d in rows(open(os.path.join(out, "lambda_vs_truth.csv")).read()) if d["sampler"] == "sgld"]
    check(len(best) == 3, f"calibrated: lambda_vs_truth finds SGLD's jobs at its best slot ({len(best)} of 3 problems)")

    # calibrate --plot: the calibration drawn, with its data beside it, also when it recommends nothing.
    png = os.path.join(WORK, "cal.png")
    r = run("calibrate", "--class", "tiny", "--seed", "2", "--sampler", "sgld", "--steps", "2000", "--chains", "2",
            "--threads", "1", "--grid", "1e-8:1e-4:1", "--show-truth", "--plot", png)
    check(r.returncode == 0 and "recommended:" in r.stdout, f"calibrate --plot exits 0 ({r.returncode}: {r.stderr.strip()})")
    for f in (png, os.path.join(WORK, "cal.svg"), png + ".json"):
        check(os.path.isfile(f) and os.path.getsize(f) > 0, f"calibrate --plot wrote {os.path.basename(f)}")
    check('"lambda_true":9' in open(png + ".json").read(), "calibrate --plot keeps the truth it was asked to show")
    flat = os.path.join(WORK, "none.csv")
    with open(flat, "w") as f:
        f.write("step_size,chain,lambda_hat,diverged,nonstationary,drift_noise,estimate_se,nbeta_drift\n"
                "1e-9,1,1,false,false,0,0.1,0\n1e-8,1,2,false,false,0,0.1,0\n1e-7,1,4,false,false,0,0.1,0\n")
    png = os.path.join(WORK, "none.png")
    r = run("calibrate", "--replay", flat, "--plot", png)
    check(r.returncode == 1 and "no plateau" in r.stderr and os.path.isfile(png),
          f"a calibration without a pick exits 1 and is still drawn ({r.returncode}: {r.stderr.strip()})")

    # Not a store: one line, exit 2, nothing written.
    text = os.path.join(WORK, "notes.h5")
    with open(text, "w") as f:
        f.write("not a store\n")
    bad_out = os.path.join(WORK, "bad")
    r = run("report", text, "--out", bad_out)
    check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, f"not a store: one line, exit 2 ({r.stderr!r})")
    check(not os.path.exists(bad_out), "not a store: nothing written")
    r = run("report", "/nonexistent/s.h5", "--out", bad_out)
    check(r.returncode == 2 and "does not exist" in r.stderr, "a missing store: exit 2")
    r = run("report", full)
    check(r.returncode == 2 and "--out is required" in r.stderr, "--out is required")
    return done()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    LLCBENCH, WORK = sys.argv[1], sys.argv[2]
    MPIEXEC = sys.argv[3] if len(sys.argv) == 4 else ""
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(main())
