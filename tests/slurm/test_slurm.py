#!/usr/bin/python3
"""The job scripts of tools/slurm/ submitted to a real single-node Slurm (tools/slurm/local-slurm.sh).

    test_slurm.py LLCBENCH SOURCE_DIR WORK_DIR

Installs Slurm from Debian packages, starts it under WORK_DIR/slurm, and checks:
  1. `srun -n 3 llcbench sweep ...` (no MPI) is refused with one line and exit 2, and writes nothing;
  2. tools/slurm/sweep-srun.sbatch and sweep-mpirun.sbatch complete a sweep equal to one process's;
  3. a two-minute time limit (signalled 30 s before) stops the srun job cleanly (exit 3), which requeues itself until the
     sweep is done, equal job by job (estimates and traces, bit for bit) to an uninterrupted run,
     no finished job run twice;
  4. `scancel --batch --signal=TERM` stops the mpirun job cleanly: exit 3, no requeue, /summary
     written, `status` says interrupted; resubmitted, a plain `scancel` ends it, its store
     interrupted; resubmitted with a two-minute limit it finishes through requeues,
     equal to the uninterrupted run.
Exits 0 when all pass, 1 on a failure, 77 (ctest: skipped) with the reason when Slurm cannot be
installed or started here (not root, no apt, no network namespace) or h5py is missing.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

SKIP = 77
DEADLINE = time.time() + 1500  # below ctest's TIMEOUT, so that the daemons are always stopped


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


if len(sys.argv) != 4:
    sys.exit(__doc__)
LLCBENCH, SOURCE, WORK = (os.path.abspath(a) for a in sys.argv[1:])
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "python"))
from checks import check, failures  # noqa: E402
try:
    import h5py
    import soak  # read_jobs, same, journal_job_ids: the soak's comparison of stores
except ImportError as e:
    skip(f"the comparison needs h5py and numpy ({e})")

LOCAL = os.path.join(SOURCE, "tools", "slurm", "local-slurm.sh")
SHORT = os.path.join(SOURCE, "tests", "data", "soak.ini")     # 15 jobs, a few seconds
LONG = os.path.join(SOURCE, "tests", "data", "slurm.ini")     # 24 jobs, about a minute
# A two-minute job signalled 30 s before its limit gets the signal 30 to 90 s after it starts
# (Slurm sends it up to 60 s early). Rank 0 pauses 2 s twice in each job's write (test.write_pause,
# not part of a job's identity), so the 24 jobs of LONG take at least 96 s however fast the
# machine: the limit always interrupts them, and every run makes progress.
PACED = ["--set", "test.write_pause=2"]
ENV = dict(os.environ, LLCB_SLURM_DIR=os.path.join(WORK, "slurm"), LLCBENCH=LLCBENCH, LLCBENCH_HOME=SOURCE)


def slurm(*args, timeout=120):
    return subprocess.run([LOCAL, "run", *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def job_field(job, field):
    out = slurm("scontrol", "show", "job", str(job)).stdout
    m = re.search(rf"\b{field}=(\S+)", out)
    return m.group(1) if m else None


# The job scripts signal 300 s before the limit: a shorter limit needs its own --signal.
def submit(script, config, store, sbatch=(), sweep=(), time_limit="10"):
    """Submits tools/slurm/SCRIPT CONFIG STORE [SWEEP OPTIONS] on 3 tasks of one core with extra
    sbatch options; returns the job id and its output file."""
    log = os.path.join(WORK, os.path.basename(store) + ".out")
    r = slurm("sbatch", "--parsable", "--ntasks=3", "--cpus-per-task=1", f"--time={time_limit}",
              f"--output={log}", *sbatch, os.path.join(SOURCE, "tools", "slurm", script), config, store, *sweep)
    if r.returncode != 0:
        raise RuntimeError(f"sbatch failed: {r.stderr.strip()}")
    return int(r.stdout.strip().split(";")[0]), log


def wait_job(job, timeout):
    """Waits until the job has ended for good (requeues included); returns (state, exit code)."""
    end = min(time.time() + timeout, DEADLINE)
    while time.time() < end:
        state = job_field(job, "JobState")
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            return state, job_field(job, "ExitCode")
        time.sleep(2)
    slurm("scancel", str(job))
    return "STILL RUNNING", None


def reference(config, name):
    """The uninterrupted run, outside Slurm: mpirun -np 3 (a sweep's results do not depend on its
    rank count, docs/cluster.md)."""
    store = os.path.join(WORK, name)
    subprocess.run(["mpirun", "-np", "3", LLCBENCH, "sweep", config, "--store", store, "--log-level", "warn"],
                   env=dict(os.environ, **soak.MPI_ENV), check=True, stdout=subprocess.DEVNULL, timeout=600)
    return soak.read_jobs(store)


def equal_to(store, ref, what):
    jobs = soak.read_jobs(store)
    ok = jobs is not None and set(jobs) == set(ref) and all(soak.same(jobs[j], ref[j]) for j in ref)
    check(ok, f"{what}: every job equals the uninterrupted run's, estimates and traces bit for bit")
    ids = soak.journal_job_ids(store)
    check(len(ids) == len(set(ids)), f"{what}: no finished job ran twice ({len(ids)} journal records)")


def test_plain_srun_is_refused():
    store = os.path.join(WORK, "plain.h5")
    r = slurm("srun", "-n", "3", LLCBENCH, "sweep", SHORT, "--store", store)
    lines = [l for l in r.stderr.splitlines() if l.startswith("llcbench")]
    check(r.returncode == 2, f"plain srun exits 2 (got {r.returncode})")
    check(len(lines) == 1 and "srun --mpi=pmix" in lines[0], f"plain srun says why once: {lines}")
    check(not os.path.exists(store) and not os.path.exists(store + ".journal"), "plain srun writes nothing")


def test_scripts_complete(ref):
    for script in ("sweep-srun.sbatch", "sweep-mpirun.sbatch"):
        store = os.path.join(WORK, script + ".h5")
        job, log = submit(script, SHORT, store)
        state, code = wait_job(job, 300)
        check(state == "COMPLETED" and code == "0:0", f"{script} completes ({state}, exit {code})")
        check("2 worker ranks" in open(log).read(), f"{script} runs one scheduler and two workers")
        equal_to(store, ref, script)


def test_time_limit_requeues_srun(ref):
    store = os.path.join(WORK, "limit-srun.h5")
    job, log = submit("sweep-srun.sbatch", LONG, store, ["--signal=B:USR1@30"], PACED, time_limit="2")
    state, code = wait_job(job, 900)
    text = open(log).read()
    runs = len(re.findall(r"sweep-job: job \d+, run \d+", text))
    check(state == "COMPLETED" and code == "0:0", f"the time-limited srun job ends done ({state}, exit {code})")
    check(runs >= 2 and "llcbench sweep exited 3" in text and "requeued job" in text,
          f"the time limit stopped it with exit 3 and it requeued itself ({runs} runs)")
    equal_to(store, ref, "time-limited srun job")


def status_json(store):
    """`llcbench status STORE --json` as a dict ({} while the store cannot be read yet)."""
    st = subprocess.run([LLCBENCH, "status", store, "--json"], capture_output=True, text=True)
    return json.loads(st.stdout) if st.stdout.startswith("{") else {}


def wait_done(store, n):
    """Waits until the store has at least n done jobs."""
    while time.time() < DEADLINE:
        if status_json(store).get("done", 0) >= n:
            return
        time.sleep(0.5)


def test_cancel_then_time_limit_mpirun(ref):
    store = os.path.join(WORK, "cancel-mpirun.h5")
    job, log = submit("sweep-mpirun.sbatch", LONG, store, sweep=PACED)
    wait_done(store, 2)
    slurm("scancel", "--batch", "--signal=TERM", str(job))
    state, code = wait_job(job, 120)
    check(state == "FAILED" and code == "3:0" and job_field(job, "Restarts") == "0",
          f"scancel --batch --signal=TERM ends the mpirun job with exit 3, not requeued ({state}, {code})")
    status = subprocess.run([LLCBENCH, "status", store], capture_output=True, text=True)
    check(status.returncode == 3 and "interrupted" in status.stdout, f"status says interrupted: {status.stdout!r}")
    with h5py.File(store, "r") as f:
        check("summary" in f, "rank 0 wrote /summary before the job ended")

    # A plain scancel signals every process of the job, mpirun included.
    done = status_json(store)["done"]
    job, log = submit("sweep-mpirun.sbatch", LONG, store, sweep=PACED)
    wait_done(store, done + 2)
    slurm("scancel", str(job))
    state, code = wait_job(job, 120)
    st = status_json(store)
    # mpirun kills its ranks 1 s after Slurm's SIGTERM, so the store may be left unclosed; the
    # next run checks it against its journal, and the end of this test compares it job by job.
    check(state == "CANCELLED" and st["state"] == "interrupted",
          f"a plain scancel ends the mpirun job, its store interrupted ({state}; store {st['state']}, "
          f"closed cleanly {st['closed_cleanly']})")

    job, log = submit("sweep-mpirun.sbatch", LONG, store, ["--signal=B:USR1@30"], PACED, time_limit="2")
    state, code = wait_job(job, 900)
    check(state == "COMPLETED" and code == "0:0", f"resubmitted with a time limit it ends done ({state}, {code})")
    equal_to(store, ref, "cancelled, then time-limited mpirun job")


def main():
    if os.geteuid() != 0:
        skip("the local Slurm's daemons run as root; run as root to test the job scripts")
    if subprocess.run([LOCAL, "install"], capture_output=True).returncode != 0:
        skip("Slurm could not be installed from Debian packages (tools/slurm/local-slurm.sh install)")
    subprocess.run([LOCAL, "stop"], env=ENV)  # whatever an earlier, killed run left behind
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    # ctest kills at its TIMEOUT (1800 s) with SIGKILL, which no cleanup survives: stop earlier.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    t0 = time.time()

    def timed(what, f, *args):
        t = time.time()
        out = f(*args)
        print(f"     ({what}: {time.time() - t:.0f} s)", flush=True)
        return out
    try:
        start = subprocess.run([LOCAL, "start"], env=ENV, capture_output=True, text=True)
        if start.returncode == SKIP:
            skip(start.stderr.strip())
        if start.returncode != 0:
            print(start.stdout, start.stderr)
            return 1
        timed("plain srun", test_plain_srun_is_refused)
        short = timed("reference", reference, SHORT, "reference-short.h5")
        timed("complete", test_scripts_complete, short)
        long = timed("reference", reference, LONG, "reference-long.h5")
        timed("time limit, srun", test_time_limit_requeues_srun, long)
        timed("cancel, then time limit, mpirun", test_cancel_then_time_limit_mpirun, long)
    finally:
        subprocess.run([LOCAL, "stop"], env=ENV)
    print(f"slurm tests: {len(failures)} failures, {time.time() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
