#!/usr/bin/python3
"""How good is `llcbench calibrate`'s choice? Measured with the truth it never sees.

    tools/calibration_study.py run OUT [--class tiny] [--seeds 1-16] [--jobs 2] [--llcbench build/bin/llcbench]
    tools/calibration_study.py tune OUT --seeds 1-8        (rule settings, on the tuning seeds)
    tools/calibration_study.py report OUT --seeds 9-16 [--tolerance X --pick P --max-drifting F]

`run` calibrates every (seed of the class, default tiny; teacher paper and minimal; sampler) with
`llcbench calibrate --json --show-truth --chains-csv` (3 chains of 10,000 steps, burn-in half, at
1e-10..1e-4, 2 a decade) into OUT/<teacher>-<sampler>-<seed>.json and .csv. `tune` re-applies
the rule with each candidate setting to the saved chains (`llcbench calibrate --replay`, the same
C++ rule, no chain run) and prints, per setting, the median |relative error| at the recommended
step size over the problems whose truth is exact, and how often no step size was recommended.
`report` prints, for the chosen setting, per sampler and truth status: the error at the
recommended step size, at the best grid step size in hindsight (smallest |median relative
error| among the step sizes whose chains all finished), and at a fixed step size (SGLD 1e-7, the
published value; the others the grid point nearest the middle of the working ranges benchmark.md
reports), and the failure cases. Relative errors are of the median lambda_hat of the chains at
that step size against Aoyagi's value (lambda_true); for truth status `global` and `above` that
value is a lower bound of the local truth (docs/truth.md), so those rows are shown apart.
"""
import argparse
import concurrent.futures
import json
import math
import os
import statistics
import subprocess
import sys

SAMPLERS = ["sgld", "rmsprop_sgld", "adam_sgld", "sghmc", "sgnht"]
TEACHERS = ["paper", "minimal"]
FIXED = {"sgld": 1e-7, "rmsprop_sgld": 3.16e-8, "adam_sgld": 3.16e-9, "sghmc": 1e-8, "sgnht": 1e-8}
SETTINGS = [(tol, pick, drift) for tol in (0.05, 0.1, 0.15, 0.2, 0.3) for pick in ("middle", "upper")
            for drift in (0.5, 1.0)]


def seeds(text):
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def stem(out, teacher, sampler, seed):
    return os.path.join(out, f"{teacher}-{sampler}-{seed}")


def calibrate(llcbench, out, cls, teacher, sampler, seed):
    base = stem(out, teacher, sampler, seed)
    if os.path.exists(base + ".json"):
        return base
    cmd = [llcbench, "calibrate", "--class", cls, "--seed", str(seed), "--teacher", teacher, "--sampler", sampler,
           "--chains", "3", "--threads", "1", "--json", "--show-truth", "--chains-csv", base + ".csv"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.startswith("{"):
        raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
    with open(base + ".json", "w") as f:
        f.write(r.stdout)
    return base


def load(base):
    with open(base + ".json") as f:
        return json.load(f)


def replay(llcbench, base, tol, pick, drift):
    r = subprocess.run([llcbench, "calibrate", "--replay", base + ".csv", "--tolerance", str(tol), "--pick", pick,
                        "--max-drifting", str(drift), "--json"], capture_output=True, text=True)
    return json.loads(r.stdout)["recommended"] if r.stdout.startswith("{") else None


def error_at(run, step):
    for p in run["grid"]:
        if step is not None and math.isclose(p["step_size"], step, rel_tol=1e-6):
            return p["rel_error"] if p["run"] and p["diverged"] == 0 and p["rel_error"] is not None else math.nan
    return math.nan


def best_in_hindsight(run):
    ok = [p for p in run["grid"] if p["run"] and p["diverged"] == 0 and p["rel_error"] is not None]
    return min((abs(p["rel_error"]) for p in ok), default=math.nan)


def fixed_step(run, sampler):
    return min((p["step_size"] for p in run["grid"]), key=lambda s: abs(math.log(s / FIXED[sampler])))


def median_abs(values):
    finite = [abs(v) for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def cmd_run(a):
    os.makedirs(a.out, exist_ok=True)
    todo = [(t, s, seed) for seed in seeds(a.seeds) for t in TEACHERS for s in SAMPLERS]
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for n, base in enumerate(pool.map(lambda x: calibrate(a.llcbench, a.out, a.cls, *x), todo), 1):
            print(f"{n}/{len(todo)} {os.path.basename(base)}", flush=True)


def cmd_tune(a):
    runs = [(stem(a.out, t, s, seed), s) for seed in seeds(a.seeds) for t in TEACHERS for s in SAMPLERS]
    exact = [(b, s) for b, s in runs if load(b).get("truth_status") == "exact"]
    print(f"tuning on {len(exact)} calibrations of problems with an exact truth (seeds {a.seeds})")
    print("tolerance pick    max_drifting  median|err|  within15%  no pick")
    for tol, pick, drift in SETTINGS:
        errs, none = [], 0
        for base, sampler in exact:
            step = replay(a.llcbench, base, tol, pick, drift)
            none += step is None
            errs.append(error_at(load(base), step))
        finite = [abs(e) for e in errs if not math.isnan(e)]
        within = sum(e <= 0.15 for e in finite) / len(exact)
        print(f"{tol:<9} {pick:<7} {drift:<13} {median_abs(errs):<12.3f} {within:<10.2f} {none}")


def cmd_report(a):
    print(f"rule: tolerance {a.tolerance}, pick {a.pick}, max drifting {a.max_drifting}; seeds {a.seeds}")
    print("| sampler | truth | problems | no pick | median abs error: recommended | best in hindsight | fixed step |"
          " within 15%: recommended | fixed step |")
    print("|---|---|---|---|---|---|---|---|---|")
    failures = []
    for s in SAMPLERS:
        for status_group in (("exact",), ("above", "global")):
            rows = []
            for seed in seeds(a.seeds):
                for t in TEACHERS:
                    base = stem(a.out, t, s, seed)
                    run = load(base)
                    if run.get("truth_status") not in status_group:
                        continue
                    step = replay(a.llcbench, base, a.tolerance, a.pick, a.max_drifting)
                    rec = error_at(run, step)
                    rows.append((rec, best_in_hindsight(run), error_at(run, fixed_step(run, s)), step))
                    if step is None or math.isnan(rec) or abs(rec) > 0.3:
                        failures.append(f"{s} seed {seed} {t} teacher ({run['truth_status']}): "
                                        + ("no pick" if step is None else f"eps {step:.3g}, error {rec:+.0%}"))
            if not rows:
                continue
            within = sum(1 for r in rows if not math.isnan(r[0]) and abs(r[0]) <= 0.15)
            fixed_within = sum(1 for r in rows if not math.isnan(r[2]) and abs(r[2]) <= 0.15)
            print(f"| {s} | {'/'.join(status_group)} | {len(rows)} | {sum(r[3] is None for r in rows)} | "
                  f"{median_abs([r[0] for r in rows]):.1%} | {median_abs([r[1] for r in rows]):.1%} | "
                  f"{median_abs([r[2] for r in rows]):.1%} | {within}/{len(rows)} | {fixed_within}/{len(rows)} |")
    print("\nfailure cases (no pick, or |error| above 30% at the pick):")
    for f in failures:
        print("  " + f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["run", "tune", "report"])
    p.add_argument("out")
    p.add_argument("--class", dest="cls", default="tiny", help="model class of the problems (run)")
    p.add_argument("--seeds", default="1-16")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--llcbench", default="build/bin/llcbench")
    # The rule's defaults (lib/estimator/calibration.hpp), which `tune` chose.
    p.add_argument("--tolerance", type=float, default=0.3)
    p.add_argument("--pick", default="middle")
    p.add_argument("--max-drifting", type=float, default=1.0)
    a = p.parse_args()
    {"run": cmd_run, "tune": cmd_tune, "report": cmd_report}[a.what](a)


if __name__ == "__main__":
    main()
