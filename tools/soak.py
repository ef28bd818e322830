#!/usr/bin/python3
"""Kill-and-resume soak of a sweep's store: SIGKILL at random moments, resume until done, and
compare job by job with an uninterrupted run.

It runs CONFIG once without interruption (the reference), then again into a second store: each
round starts the sweep (the first creates the store, the others resume it), waits a random time,
and kills it with SIGKILL; under --mpi NP the victim is a random rank (rank 0, which writes the
store, or a worker; mpirun then brings the rest down). When the sweep finishes between two kills,
or after the last kill (it then resumes until the sweep finishes), the store is compared with the
reference: every job's status, estimate, raw estimate, standard error and trace must be
identical, bit for bit. Until --kills kills have landed, the next generation starts a new store.

A completed job is lost when it has to run again: its id then appears twice among the job
records of the store's journal (FILE.journal, docs/store.md), which gets one record per job that
finishes. Calibrations (sweeps with calibrated samplers) count the same way, as jobs: each is
compared with the reference (choice, detail and traces) and must be journaled once. Between rounds the soak also reads the killed store as it was left (before any resume
has checked it) and counts the finished jobs whose rows there differ from when they were first
seen: damage that the next resume finds and writes again from the journal. Every resume must
proceed (a resume may exit 0, 3 or be killed; any other exit code is a failure).

`--write-pause S` sets the test-only key test.write_pause: the store pauses S seconds inside each
job's write, so kills land in the middle of writes far more often.

Prints a report (rounds, kills, checks and repairs the resumes made, jobs lost, wall time) and
exits 0 when the final store equals the reference and nothing was lost, 1 otherwise.

    /usr/bin/python3 tools/soak.py build/bin/llcbench configs/demo.ini --dir /tmp/soak \\
        --kills 100 --mpi 3 --set chain.steps=40000
Needs h5py and numpy (tools/install-deps.sh installs them).
"""
import argparse
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

import h5py
import numpy as np

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "OMPI_MCA_pml": "ob1",
           "OMPI_MCA_btl": "self,vader", "OPENBLAS_NUM_THREADS": "1"}
COLUMNS = ["status", "step_size", "lambda_hat", "raw_estimate", "estimate_se", "diverged", "divergence_reason"]
CALIBRATION_COLUMNS = ["status", "found", "step_size", "accepted_low", "accepted_high", "why", "detail"]


def sweep_command(args, store, resume):
    cmd = [args.binary, "sweep", args.config, "--store", store, "--log-level", "warn"]
    for s in args.set:
        cmd += ["--set", s]
    if args.write_pause > 0:
        cmd += ["--set", f"test.write_pause={args.write_pause}"]
    if resume:
        cmd.append("--resume")
    if args.mpi > 1:
        cmd = ["mpirun", "-np", str(args.mpi)] + cmd
    return cmd


def read_done(group, id_column, columns, traces):
    """{id: (column values..., trace)} of the rows of GROUP whose status is done."""
    ids = group[id_column].asstr()[:]
    cols = {c: (group[c].asstr()[:] if group[c].dtype.kind == "O" else group[c][:]) for c in columns}
    return {key: tuple(cols[c][i] for c in columns) + (traces[i],)
            for i, key in enumerate(ids) if cols["status"][i] == "done"}


def read_jobs(store):
    """{job_id: (column values..., trace)} of the done jobs, and {"calibration:" + id: (...)} of
    the done calibrations (sweeps with calibrated samplers), or None when the file cannot be read."""
    try:
        with h5py.File(store, "r") as f:
            out = read_done(f["jobs"], "job_id", COLUMNS, f["traces"]["loss"])
            if "calibrations" in f:
                done = read_done(f["calibrations"], "calibration_id", CALIBRATION_COLUMNS,
                                 f["calibration_traces"]["loss"])
                out.update({"calibration:" + key: values for key, values in done.items()})
            return out
    except (OSError, KeyError, ValueError):
        return None


def journal_job_ids(store):
    """The job id of every job record of STORE.journal, and "calibration:" + id of every
    calibration record (record layout: lib/store/journal.hpp)."""
    ids = []
    with open(store + ".journal", "rb") as f:
        data = f.read()
    offset = 8
    while offset + 13 <= len(data):
        magic, kind, length = struct.unpack_from("<IBQ", data, offset)
        end = offset + 13 + length + 8
        if magic != 0x4A52434C or end > len(data):
            break
        if kind in (3, 5):  # a job or a calibration: its row, then its id
            (id_length,) = struct.unpack_from("<Q", data, offset + 13 + 8)
            ids.append(("calibration:" if kind == 5 else "") +
                       data[offset + 13 + 16:offset + 13 + 16 + id_length].decode())
        offset = end
    return ids


def same(a, b):
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            if x.shape != y.shape or x.tobytes() != y.tobytes():
                return False
        elif isinstance(x, float) and np.isnan(x):
            if not (isinstance(y, float) and np.isnan(y)):
                return False
        elif x != y:
            return False
    return True


def descendants(pid):
    """The llcbench processes under pid (mpirun's ranks), from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append((int(entry), name))
    found, stack = [], [pid]
    while stack:
        for child, name in children.get(stack.pop(), []):
            stack.append(child)
            if name == "llcbench":
                found.append(child)
    return found


def alive(pid):
    """Whether pid is a running process (not gone, not a zombie nobody reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def run_round(args, store, resume, rng, log):
    """Starts the sweep and SIGKILLs it (under mpirun: one of its ranks) after a random delay.
    Returns (exit code, whether a kill landed); returns once every process of the round is gone."""
    proc = subprocess.Popen(sweep_command(args, store, resume), stdout=subprocess.DEVNULL, stderr=log,
                            env={**os.environ, **MPI_ENV})
    deadline = time.monotonic() + rng.uniform(args.min_delay, args.max_delay)
    victims = []
    while proc.poll() is None and (time.monotonic() < deadline or not victims):
        time.sleep(0.02)
        # Under mpirun the ranks appear a moment after the launcher: the kill waits for them.
        victims = [p for p in descendants(proc.pid) if alive(p)] if args.mpi > 1 else [proc.pid]
        if time.monotonic() > deadline + 30:
            raise RuntimeError("mpirun started no llcbench ranks within 30 s")
    if proc.poll() is not None:
        return proc.returncode, False
    os.kill(rng.choice(victims), signal.SIGKILL)
    proc.wait()
    # mpirun may return before the ranks it killed are gone; the next round must not race them.
    while any(alive(p) for p in victims):
        time.sleep(0.05)
    return proc.returncode, True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("config")
    ap.add_argument("--dir", required=True, help="working folder (emptied first)")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--mpi", type=int, default=1, help="ranks under mpirun (1: a single process)")
    ap.add_argument("--set", action="append", default=[], help="config override, as for sweep")
    ap.add_argument("--write-pause", type=float, default=0.0)
    ap.add_argument("--min-delay", type=float, default=1.0, help="seconds before a kill, at least")
    ap.add_argument("--max-delay", type=float, default=4.0, help="seconds before a kill, at most")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)
    args.config = os.path.abspath(args.config)
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)
    rng = random.Random(args.seed)
    start = time.monotonic()
    reference_args = argparse.Namespace(**{**vars(args), "mpi": 1, "write_pause": 0.0})
    ref_store = os.path.join(args.dir, "reference.h5")
    subprocess.run(sweep_command(reference_args, ref_store, False), check=True, stdout=subprocess.DEVNULL)
    reference = read_jobs(ref_store)

    log_path = os.path.join(args.dir, "soak.log")
    kills = rounds = lost = damaged = bad_exits = generations = 0
    differ_total, final = 0, 0
    with open(log_path, "w") as log:
        while kills < args.kills or generations == 0:
            generations += 1
            store = os.path.join(args.dir, f"soak-{generations}.h5")
            seen = {}  # job id -> its values when first seen done
            while kills < args.kills:
                code, killed = run_round(args, store, os.path.exists(store), rng, log)
                rounds += 1
                kills += killed
                if not killed and code == 0:
                    break
                if not killed and code not in (0, 3):
                    bad_exits += 1
                now = read_jobs(store)
                if now is not None:
                    damaged += sum(1 for job, values in seen.items() if job not in now or not same(now[job], values))
                    for job, values in now.items():
                        seen.setdefault(job, values)
            for _ in range(5):
                final = subprocess.run(sweep_command(args, store, True), stdout=subprocess.DEVNULL, stderr=log,
                                       env={**os.environ, **MPI_ENV}).returncode
                if final == 0:
                    break
            if final != 0:
                break
            result = read_jobs(store) or {}
            differ_total += sum(1 for job, values in reference.items()
                                if job not in result or not same(result[job], values))
            ids = journal_job_ids(store)
            lost += len(ids) - len(set(ids))
    text = open(log_path).read()
    ok = final == 0 and differ_total == 0 and lost == 0 and bad_exits == 0
    print(f"soak: {kills} kills in {rounds} rounds over {generations} stores of {len(reference)} jobs "
          f"({'mpirun -np ' + str(args.mpi) if args.mpi > 1 else 'one process'}), wall time {time.monotonic() - start:.0f} s")
    print(f"  resumes that checked the store against its journal: {text.count('checking it against its journal')}, "
          f"that rebuilt it: {text.count('rebuilding it from its config and journal')}")
    print(f"  completed jobs lost (run twice): {lost}; resumes that failed: {bad_exits}; "
          f"final resume exit code {final}")
    print(f"  finished jobs whose rows a kill had damaged, written again from the journal by the next resume: {damaged}")
    print(f"  jobs of the finished stores that differ from the uninterrupted run: {differ_total} "
          f"(of {generations * len(reference)})")
    print("soak: PASS" if ok else "soak: FAIL (log: " + log_path + ")")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
