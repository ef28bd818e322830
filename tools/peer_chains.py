#!/usr/bin/env python3
"""The llcbench SGLD chain of one problem in the peers a user would compare it with: devinterp
(its SGLD with localisation, on a PyTorch model of the DLN, data held in memory) and JAX (the
whole chain jitted as one lax.scan). tools/torch_chain.py is the same chain in plain PyTorch.

Same architecture (read from `llcbench problem --json`), same batch size, same fp32 work per
step: inputs U[-10, 10], targets from the teacher product, forward, backward, SGLD update with
fresh Gaussian noise, localised at the teacher (gamma 1) with nbeta = n / ln n:

    python tools/peer_chains.py devinterp --class 100K --seed 1 --steps 200 --threads 1
    python tools/peer_chains.py jax --class 100K --seed 1 --steps 200 --threads 2

It needs torch and devinterp, or jax, in the Python that runs it (docs/performance.md says which
versions were measured and how to install them). Prints one JSON object: steps_per_second (median
of --repeats timed chains; warm-up and compilation excluded), the framework's version and the
lambda-hat of the last chain's second half, as a sanity check that the chain did real work.

Threads: --threads T sets PyTorch's pools (torch.set_num_threads, and OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS, read when the libraries load). For JAX it adds the customary XLA_FLAGS
(--xla_cpu_multi_thread_eigen=false on one thread, intra_op_parallelism_threads=T), which are
not documented to bound all of XLA's CPU threads. To give a run one core, pin it (taskset -c 0
python ...), as the comparison in docs/performance.md does.

devinterp draws minibatches from a DataLoader over a dataset of n samples made up front (what a
user of devinterp does with real data): unlike llcbench and the JAX chain, which draw fresh
inputs every step, it generates none in the step, but it indexes and collates each batch
instead; neither cost is timed apart. The
chain is devinterp's SGLD optimiser stepped by a plain loop, not devinterp's sampling loop
(estimate_learning_coeff), which wraps the same step in callbacks and bookkeeping.
"""
import argparse
import importlib.metadata
import json
import math
import os
import statistics
import subprocess
import sys
import time


def problem_of(args):
    out = subprocess.check_output([args.llcbench, "problem", "--class", args.cls, "--seed", args.seed, "--json"])
    p = json.loads(out)
    return p["widths"], p["n"]


def set_threads(threads):
    if threads > 0:  # read when the BLAS and OpenMP runtimes load
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


def timed(chain, args):
    """Median and best steps/s of --repeats chains after one warm-up chain, and the last losses."""
    chain(args.warmup)
    rates, losses = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        losses = chain(args.steps)
        rates.append(args.steps / (time.perf_counter() - start))
    return statistics.median(rates), max(rates), losses


def run_devinterp(args, widths, n, nbeta):
    set_threads(args.threads)
    import torch
    import devinterp
    from devinterp.optim.sgld import SGLD

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(int(args.seed))
    teacher = [torch.randn(widths[s + 1], widths[s], generator=gen) * math.sqrt(2.0 / (widths[s] + widths[s + 1]))
               for s in range(len(widths) - 1)]
    product = teacher[0]
    for w in teacher[1:]:
        product = w @ product
    # The data, in memory: n inputs U[-10, 10] and their targets.
    x_all = torch.rand(n, widths[0], generator=gen) * 20 - 10
    y_all = x_all @ product.t()
    dataset = torch.utils.data.TensorDataset(x_all, y_all)

    model = torch.nn.Sequential(*[torch.nn.Linear(widths[s], widths[s + 1], bias=False)
                                  for s in range(len(widths) - 1)])

    def chain(steps):
        with torch.no_grad():
            for layer, w in zip(model, teacher):
                layer.weight.copy_(w)
        loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, generator=gen,
                                             drop_last=True)
        # devinterp's SGLD: w <- w - eps/2 (nbeta grad L + localization (w - w0)) + sqrt(eps) N(0, 1)
        opt = SGLD(model.parameters(), lr=args.step_size, localization=1.0, nbeta=nbeta)
        losses = []
        batches = iter(loader)
        for _ in range(steps):
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y = next(batches)
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    median, best, losses = timed(chain, args)
    framework = f"devinterp {importlib.metadata.version('devinterp')}, torch {torch.__version__}"
    return framework, median, best, losses


def run_jax(args, widths, n, nbeta):
    if args.threads > 0:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   f" --xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'}"
                                   f" intra_op_parallelism_threads={args.threads}")
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(int(args.seed))
    keys = jax.random.split(key, len(widths))
    teacher = [jax.random.normal(keys[s], (widths[s + 1], widths[s]), jnp.float32) *
               math.sqrt(2.0 / (widths[s] + widths[s + 1])) for s in range(len(widths) - 1)]
    product = teacher[0]
    for w in teacher[1:]:
        product = w @ product
    product_t = product.T
    eps = args.step_size

    def loss_fn(params, x, y):
        out = x
        for w in params:
            out = out @ w.T
        return jnp.mean((out - y) ** 2)

    grad_fn = jax.value_and_grad(loss_fn)

    def step(carry, _):
        params, k = carry
        k, kx, kn = jax.random.split(k, 3)
        x = jax.random.uniform(kx, (args.batch_size, widths[0]), jnp.float32, -10.0, 10.0)
        y = x @ product_t
        loss, grads = grad_fn(params, x, y)
        noise = jax.random.split(kn, len(params))
        params = [w - (eps / 2) * (nbeta * g + (w - w0)) + math.sqrt(eps) * jax.random.normal(nk, w.shape)
                  for w, g, w0, nk in zip(params, grads, teacher, noise)]
        return (params, k), loss

    compiled = {}

    def chain(steps):
        if steps not in compiled:
            compiled[steps] = jax.jit(lambda p, k: jax.lax.scan(step, (p, k), None, length=steps))
        (_, _), losses = compiled[steps](list(teacher), key)
        return [float(v) for v in jax.block_until_ready(losses)]

    chain(args.steps)  # compiles the timed length (the warm-up below compiles its own)
    median, best, losses = timed(chain, args)
    return f"jax {jax.__version__}", median, best, losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("framework", choices=["devinterp", "jax"])
    ap.add_argument("--class", dest="cls", default="100K")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--llcbench", default="build/bin/llcbench")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--step-size", type=float, default=1e-9)
    args = ap.parse_args()
    widths, n = problem_of(args)
    nbeta = n / math.log(n)
    run = run_devinterp if args.framework == "devinterp" else run_jax
    framework, median, best, losses = run(args, widths, n, nbeta)
    kept = losses[len(losses) // 2:]
    print(json.dumps({
        "framework": framework, "threads": args.threads or "all", "widths": widths,
        "batch_size": args.batch_size, "steps": args.steps, "steps_per_second": median,
        "steps_per_second_best": best, "lambda_hat_short_chain": nbeta * sum(kept) / len(kept)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
