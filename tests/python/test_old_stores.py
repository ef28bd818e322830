"""Stores written by earlier versions of llcbench: a store is made with this binary, then turned
with h5py into what an earlier version wrote (its seed recipe, its config, the columns it lacked),
and the binary must read, reduce and resume it, running its pending jobs with the very chains it
would have run, or refuse it in one line where it cannot (a seed recipe whose chains differ).

Usage: test_old_stores.py LLCBENCH_BINARY
Prints what it checked; exits 0 when every check holds, 1 otherwise.
"""
import os
import shutil
import sys
import tempfile

import h5py
import numpy as np

from checks import check, done, run

CONFIG = """
[sweep]
samplers = sgld
threads = 1
[problems]
class = tiny
count = 2
[chain]
steps = 400
batch_size = 50
estimate_bound_factor = 1
[sgld]
step_sizes = 1e-7, 1e-6
"""
# The seed recipe that versions 0.1 (with chain groups) wrote into every store.
RECIPE_0_1 = ("chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
              "its ;ranks_per_chain=G part) + c); "
              "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
              "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
              "(EPOC, BTCH, LANG) as in docs/problems.md")
# The seed recipe of the version before chain.gradient (it had calibrations and chain.targets).
RECIPE_TARGETS = ("chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
                  "its ;ranks_per_chain=G and ;targets=factored parts and with estimate_bound_factor=1) + c); "
                  "chain seed of chain c of a calibration = splitmix64(sweep.seed XOR fnv1a64(its description) + c) "
                  "at every step size; "
                  "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
                  "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
                  "(EPOC, BTCH, LANG) as in docs/problems.md")
# The seed recipe of the version before chain.batch_sums (it had chain.gradient).
RECIPE_GRADIENT = ("chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
                   "its ;ranks_per_chain=G, ;targets=factored and ;gradient=narrowest parts and with "
                   "estimate_bound_factor=1) + c); "
                   "chain seed of chain c of a calibration = splitmix64(sweep.seed XOR fnv1a64(its description) + c) "
                   "at every step size; "
                   "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
                   "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
                   "(EPOC, BTCH, LANG) as in docs/problems.md")
# Columns that stores of version 0.1 did not have.
NEW_JOB_COLUMNS = ["teacher", "truth_status", "lambda_smooth", "lambda_lower", "rel_error_lower",
                   "raw_estimate", "estimate_se"]
NEW_PROBLEM_COLUMNS = ["teacher", "layer_ranks", "jacobian_rank", "lambda_smooth", "lambda_lower",
                       "truth_status"]




def make_old(path, recipe, bound):
    """Rewrites a store as version 0.1 wrote it, with job 1 left pending."""
    with h5py.File(path, "r+") as f:
        f.attrs["seed_recipe"] = recipe
        canonical = f.attrs["config_canonical"]
        canonical = canonical.decode() if isinstance(canonical, bytes) else canonical
        canonical = "\n".join(line for line in canonical.splitlines()
                              if not line.startswith(("problems.teacher=", "chain.targets=", "chain.gradient=",
                                                      "chain.batch_sums=")))
        f.attrs["config_canonical"] = canonical.replace("chain.estimate_bound_factor=1",
                                                        f"chain.estimate_bound_factor={bound}") + "\n"
        for group, columns in (("jobs", NEW_JOB_COLUMNS), ("problems", NEW_PROBLEM_COLUMNS)):
            for c in columns:
                del f[group][c]
            order = f[group].attrs["columns"]
            order = order.decode() if isinstance(order, bytes) else order
            f[group].attrs["columns"] = ",".join(c for c in order.split(",") if c not in columns)
        f["jobs"]["status"][1] = "pending"
        f["jobs"]["lambda_hat"][1] = np.nan
        del f["summary"]


def make_previous(path, recipe, keys):
    """Rewrites a store as an earlier version wrote it (its seed recipe, its config without the keys
    it lacked), with job 1 left pending."""
    with h5py.File(path, "r+") as f:
        f.attrs["seed_recipe"] = recipe
        canonical = f.attrs["config_canonical"]
        canonical = canonical.decode() if isinstance(canonical, bytes) else canonical
        f.attrs["config_canonical"] = "\n".join(line for line in canonical.splitlines()
                                                if not line.startswith(keys)) + "\n"
        f["jobs"]["status"][1] = "pending"
        f["jobs"]["lambda_hat"][1] = np.nan
        del f["summary"]


def resumes_as_before(binary, tmp, store, path_args, args, recipe, keys, override, what, other_path=None):
    """Makes `store` with path_args + args, rewrites it as an earlier version wrote it (make_previous
    with recipe and keys) and checks that a resume with args alone (the defaults of this version)
    continues it with `--set override`, its job ids and, for its pending job, the chain that version
    would have run. other_path: also make this store with args alone and check that its trace differs
    (so that the check could fail)."""
    made = run(binary, "sweep", "c.ini", "--store", store, "--log-level", "warn", *path_args, *args, cwd=tmp)
    check(made.returncode == 0, f"a store for '{what}' is made: " + made.stderr.strip())
    with h5py.File(os.path.join(tmp, store), "r") as f:
        ids = list(f["jobs"]["job_id"].asstr()[:])
        estimate = f["jobs"]["lambda_hat"][1]
        trace = f["traces"]["loss"][1]
    if other_path:
        other = run(binary, "sweep", "c.ini", "--store", other_path, "--log-level", "warn", *args, cwd=tmp)
        check(other.returncode == 0, "and one of this version's path: " + other.stderr.strip())
        with h5py.File(os.path.join(tmp, other_path), "r") as f:
            check(not np.array_equal(trace, f["traces"]["loss"][1]), "(whose traces differ in rounding)")
    make_previous(os.path.join(tmp, store), recipe, keys)
    resumed = run(binary, "sweep", "c.ini", "--store", store, "--resume", "--log-level", "info", *args, cwd=tmp)
    check(resumed.returncode == 0 and "--set " + override in resumed.stderr,
          f"a store of {what}: " + resumed.stderr.strip()[-300:])
    with h5py.File(os.path.join(tmp, store), "r") as f:
        check(list(f["jobs"]["job_id"].asstr()[:]) == ids, "with its job ids")
        check(f["jobs"]["status"].asstr()[1] == "done" and f["jobs"]["lambda_hat"][1] == estimate and
              np.array_equal(f["traces"]["loss"][1], trace, equal_nan=True),
              "and its pending job runs the chain that version would have run (same trace, same estimate)")


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "c.ini"), "w") as f:
            f.write(CONFIG)
        # Version 0.1 computed targets through the teacher product (chain.targets = product) and
        # the loss and gradient layer by layer (chain.gradient = layered).
        made = run(binary, "sweep", "c.ini", "--store", "new.h5", "--log-level", "warn",
                   "--set", "chain.targets=product", "--set", "chain.gradient=layered",
                   "--set", "chain.batch_sums=whole", cwd=tmp)
        check(made.returncode == 0, "a store is made: " + made.stderr.strip())
        with h5py.File(os.path.join(tmp, "new.h5"), "r") as f:
            want_estimate = f["jobs"]["lambda_hat"][1]
            want_trace = f["traces"]["loss"][1]

        shutil.copy(os.path.join(tmp, "new.h5"), os.path.join(tmp, "old.h5"))
        make_old(os.path.join(tmp, "old.h5"), RECIPE_0_1, 1)
        status = run(binary, "status", "old.h5", cwd=tmp)
        check(status.returncode == 3 and "pending 1" in status.stdout, "status reads the old store")
        query = run(binary, "query", "old.h5", "jobs", "--format", "csv", cwd=tmp)
        check(query.returncode == 0 and "truth_status" not in query.stdout, "query reads its jobs")
        resumed = run(binary, "sweep", "c.ini", "--store", "old.h5", "--resume", "--format", "csv",
                      "--log-level", "warn", cwd=tmp)
        check(resumed.returncode == 0, "it resumes: " + resumed.stderr.strip())
        rows = resumed.stdout.splitlines()
        check(rows[0].startswith("class,sampler,step_size,truth_status,") and
              all(",all," in r for r in rows[1:]), "its summary has the pooled rows only")
        with h5py.File(os.path.join(tmp, "old.h5"), "r") as f:
            check(f["jobs"]["status"].asstr()[1] == "done", "the pending job ran")
            check(f["jobs"]["lambda_hat"][1] == want_estimate and
                  np.array_equal(f["traces"]["loss"][1], want_trace, equal_nan=True),
                  "with the chain the old version would have run (same trace, same estimate)")

        # The version before chain.batch_sums went layer by layer or through the narrowest width,
        # with factored targets, and summed the batch whole.
        resumes_as_before(binary, tmp, "prev.h5", ["--set", "chain.gradient=layered", "--set", "chain.batch_sums=whole"],
                          [], RECIPE_TARGETS, ("chain.gradient=", "chain.batch_sums="), "chain.gradient=layered",
                          "the version before chain.gradient resumes layer by layer")
        # The version just before summed the batch whole (through the narrowest width). A batch of
        # 200 has two halves, so the halves give another trace (checked).
        resumes_as_before(binary, tmp, "whole.h5", ["--set", "chain.batch_sums=whole"], ["--set", "chain.batch_size=200"],
                          RECIPE_GRADIENT, ("chain.batch_sums=",), "chain.batch_sums=whole",
                          "the version before chain.batch_sums resumes summing whole", other_path="halves.h5")

        shutil.copy(os.path.join(tmp, "new.h5"), os.path.join(tmp, "bound2.h5"))
        make_old(os.path.join(tmp, "bound2.h5"), RECIPE_0_1, 2)
        refused = run(binary, "sweep", "c.ini", "--store", "bound2.h5", "--resume",
                      "--set", "chain.estimate_bound_factor=2", "--log-level", "warn", cwd=tmp)
        check(refused.returncode == 2 and "seeds chains differently" in refused.stderr and
              refused.stderr.count("\n") == 1,
              "a 0.1 store with a bound other than 1 is refused in one line: " + refused.stderr.strip())

        shutil.copy(os.path.join(tmp, "new.h5"), os.path.join(tmp, "other.h5"))
        make_old(os.path.join(tmp, "other.h5"), "some other recipe", 1)
        refused = run(binary, "sweep", "c.ini", "--store", "other.h5", "--resume", cwd=tmp)
        check(refused.returncode == 2 and "seeds chains differently" in refused.stderr,
              "an unknown seed recipe is refused")
        default = run(binary, "sweep", "c.ini", "--store", "old.h5", "--resume",
                      "--set", "chain.estimate_bound_factor=2", cwd=tmp)
        check(default.returncode == 2 and "--set chain.estimate_bound_factor=1 continues it" in default.stderr,
              "another bound than the store's names the --set that continues it")
    return done()


if __name__ == "__main__":
    sys.exit(main())
