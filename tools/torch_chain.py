#!/usr/bin/python3
"""The llcbench SGLD chain of one problem, written in PyTorch, for a speed comparison.

Same architecture (read from `llcbench problem --json`), same batch size, same fp32 work per step:
fresh inputs U[-10, 10], targets from the teacher product, forward, backward, SGLD update with
fresh Gaussian noise. Run it with a Python that has torch (Debian's python3-torch, or the
environment of docs/performance.md, "Against devinterp, JAX and PyTorch"):

    out/peers/bin/python tools/torch_chain.py --class 100K --seed 1 --steps 200 --threads 2

Prints one JSON object with steps_per_second (median of --repeats timed chains, warm-up excluded)
and the lambda-hat of the last chain, as a sanity check that the chain did real work.

--threads T caps both of PyTorch's thread pools: its own (torch.set_num_threads) and that of
Debian's OpenBLAS build, which PyTorch's matrix products run on and which otherwise takes every
core whatever set_num_threads says (so a "1-thread" run would use them all). --blas-threads
sets the second one apart, to measure PyTorch's best configuration.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--class", dest="cls", default="100K")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--llcbench", default="build/bin/llcbench")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--blas-threads", type=int, default=0, help="default: --threads")
    ap.add_argument("--step-size", type=float, default=1e-9)
    args = ap.parse_args()
    blas_threads = args.blas_threads or args.threads
    if blas_threads > 0:  # read by OpenBLAS when it loads, i.e. when torch is imported
        os.environ["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    import torch
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    problem = json.loads(subprocess.check_output(
        [args.llcbench, "problem", "--class", args.cls, "--seed", args.seed, "--json"]))
    widths, n = problem["widths"], problem["n"]
    nbeta = n / math.log(n)
    gen = torch.Generator().manual_seed(int(args.seed))
    teacher = [torch.randn(widths[s + 1], widths[s], generator=gen) *
               math.sqrt(2.0 / (widths[s] + widths[s + 1])) for s in range(len(widths) - 1)]
    product = teacher[0]
    for w in teacher[1:]:
        product = w @ product
    product_t = product.t().contiguous()

    def chain(steps):
        params = [w.clone().requires_grad_(True) for w in teacher]
        eps = args.step_size
        losses = []
        for _ in range(steps):
            x = torch.rand(args.batch_size, widths[0], generator=gen) * 20 - 10
            y = x @ product_t
            out = x
            for w in params:
                out = out @ w.t()
            loss = ((out - y) ** 2).mean()
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for w, w0, g in zip(params, teacher, grads):
                    w.add_(-(eps / 2) * (nbeta * g + (w - w0)) +
                           math.sqrt(eps) * torch.randn(w.shape, generator=gen))
            losses.append(loss.item())
        return losses

    chain(args.warmup)
    rates, losses = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        losses = chain(args.steps)
        rates.append(args.steps / (time.perf_counter() - start))
    kept = losses[len(losses) // 2:]
    print(json.dumps({
        "framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "all cores"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "detected"),
        "widths": widths, "batch_size": args.batch_size, "steps": args.steps,
        "steps_per_second": statistics.median(rates), "steps_per_second_best": max(rates),
        "lambda_hat_short_chain": nbeta * sum(kept) / len(kept)}))


if __name__ == "__main__":
    main()
