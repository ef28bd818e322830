"""A store whose string column refers to a string its file does not hold: what a writer killed
between writing a job's row and flushing the global heap collection of its strings can leave
(seen in the kill-and-resume soak). HDF5 1.10 reads such a reference past its buffers and
crashes; llcbench must instead report the store damaged in one line and rebuild it from its
journal. A finished store is made, one reference of /jobs/host is pointed at an object index its
collection lacks (with h5py, for the offset of the column's raw data), and then:
status says damaged (exit 3), query fails in one line (exit 2), neither crashes; repair, and
on a copy a resume, rebuild the store from its journal with the same results.

Usage: test_damaged_strings.py LLCBENCH_BINARY
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

CONFIG = """
[sweep]
samplers = sgld
threads = 1
[problems]
class = tiny
count = 2
[chain]
steps = 300
batch_size = 50
[sgld]
step_sizes = 1e-7, 1e-6
"""

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(binary, *args, cwd):
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True)


def results(path):
    with h5py.File(path, "r") as f:
        return f["jobs"]["lambda_hat"][:], f["traces"]["loss"][:]


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "c.ini"), "w") as f:
            f.write(CONFIG)
        made = run(binary, "sweep", "c.ini", "--store", "s.h5", "--log-level", "warn", cwd=tmp)
        check(made.returncode == 0, "a store is made: " + made.stderr.strip())
        path = os.path.join(tmp, "s.h5")
        want_estimates, want_traces = results(path)
        for name in ("r.h5", "r.h5.journal"):  # a copy for the resume
            shutil.copy(os.path.join(tmp, name.replace("r.h5", "s.h5")), os.path.join(tmp, name))
        for store in ("s.h5", "r.h5"):
            # Row 1's reference: 4 bytes of length, 8 of collection address, 4 of object index.
            with h5py.File(os.path.join(tmp, store), "r") as f:
                offset = f["jobs"]["host"].id.get_offset()
            with open(os.path.join(tmp, store), "r+b") as raw:
                raw.seek(offset + 16 + 12)
                raw.write(struct.pack("<I", 0xFFFF))

        status = run(binary, "status", "s.h5", cwd=tmp)
        check(status.returncode == 3 and "store column jobs/host is damaged" in status.stdout and
              "llcbench repair" in status.stdout, "status says the store is damaged and how to repair it: " +
              status.stdout.strip()[-300:] + status.stderr.strip())
        query = run(binary, "query", "s.h5", "jobs", cwd=tmp)
        check(query.returncode == 2 and "jobs/host is damaged" in query.stderr and query.stderr.count("\n") == 1,
              f"query fails in one line (exit {query.returncode}): " + query.stderr.strip())
        repaired = run(binary, "repair", "s.h5", cwd=tmp)
        check(repaired.returncode == 0, "repair rebuilds it from its journal: " + repaired.stderr.strip()[-300:])
        status = run(binary, "status", "s.h5", cwd=tmp)
        check(status.returncode == 0 and "finished" in status.stdout, "then status says finished: " + status.stdout.strip())
        estimates, traces = results(path)
        check(np.array_equal(estimates, want_estimates, equal_nan=True) and
              np.array_equal(traces, want_traces, equal_nan=True), "with the same estimates and traces")

        resumed = run(binary, "sweep", "c.ini", "--store", "r.h5", "--resume", "--log-level", "warn", cwd=tmp)
        check(resumed.returncode == 0 and "rebuilding it from its config and journal" in resumed.stderr,
              f"a resume rebuilds it too (exit {resumed.returncode}): " + resumed.stderr.strip()[-300:])
        estimates, traces = results(os.path.join(tmp, "r.h5"))
        check(np.array_equal(estimates, want_estimates, equal_nan=True) and
              np.array_equal(traces, want_traces, equal_nan=True), "with the same estimates and traces")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
