#!/usr/bin/python3
"""The two measured tables of docs/samplers.md ("Accuracy and the step-size ranges found"), as
`llcbench run` gives them on this machine:

    tools/accuracy_tables.py [LLCBENCH]        (default build/bin/llcbench)

Each cell is the relative error of the mean lambda_hat of chain seeds 1-3 (n = 1e5, batch 500,
T = 20,000, burn-in 10,000), "div K" when K of the three chains diverged (the mean is then over
the others). The digits depend on the OpenBLAS kernel set (the GEMMs' summation order), which
the first line prints: the docs say which set produced the figures they quote.
"""
import json
import subprocess
import sys

LLCBENCH = sys.argv[1] if len(sys.argv) > 1 else "build/bin/llcbench"
SAMPLERS = [("sgld", "SGLD"), ("rmsprop_sgld", "RMSPropSGLD"), ("adam_sgld", "AdamSGLD"), ("sghmc", "SGHMC"),
            ("sgnht", "SGNHT")]
ACCURACY_STEPS = {"sgld": 4.6e-7, "rmsprop_sgld": 2.2e-8, "adam_sgld": 4.6e-9, "sghmc": 1e-8, "sgnht": 1e-8}
NETWORKS = [("5,8,6,7", 3, "5,8,6,7 r3"), ("8,5,7,6", 3, "8,5,7,6 r3"), ("6,9,5,8", 3, "6,9,5,8 r3"),
            ("5,4", 4, "5,4 r4, one layer")]
SCAN = [1e-9, 1e-8, 1e-7, 1e-6, 3e-6, 1e-5]


def cell(widths, rank, sampler, eps):
    runs = []
    for seed in (1, 2, 3):
        r = subprocess.run([LLCBENCH, "run", "--widths", widths, "--rank", str(rank), "--sampler", sampler,
                            "--step-size", repr(eps), "--steps", "20000", "--burn-in", "10000",
                            "--chain-seed", str(seed), "--json"], capture_output=True, text=True, check=True)
        runs.append(json.loads(r.stdout))
    ok = [r for r in runs if not r["diverged"]]
    div = len(runs) - len(ok)
    if not ok:
        return "div 3", runs[0]["lambda_true"]
    truth = ok[0]["lambda_true"]
    err = (sum(r["lambda_hat"] for r in ok) / len(ok) - truth) / truth
    text = f"{100 * err:+.1f}%" if abs(err) < 1 else f"{100 * err:+.0f}%"
    return text + (f" ({div} div)" if div else ""), truth


def main():
    probe = subprocess.run([LLCBENCH, "bench", "--class", "tiny", "--seed", "1", "--steps", "10", "--gemm-size", "0",
                            "--copy-mib", "0", "--json"], capture_output=True, text=True, check=True)
    print("kernels:", json.loads(probe.stdout)["hardware"], flush=True)
    print("\n| widths, rank (lambda) | " + " | ".join(f"{n} {ACCURACY_STEPS[s]:g}" for s, n in SAMPLERS) + " |")
    print("|---" * (len(SAMPLERS) + 1) + "|")
    for widths, rank, label in NETWORKS:
        cells = [cell(widths, rank, s, ACCURACY_STEPS[s]) for s, _ in SAMPLERS]
        print(f"| {label} ({cells[0][1]:g}) | " + " | ".join(c for c, _ in cells) + " |", flush=True)
    print("\n| eps | " + " | ".join(f"{e:g}" for e in SCAN) + " |")
    print("|---" * (len(SCAN) + 1) + "|")
    for s, n in SAMPLERS:
        print(f"| {n} | " + " | ".join(cell("5,8,6,7", 3, s, e)[0] for e in SCAN) + " |", flush=True)


if __name__ == "__main__":
    main()
