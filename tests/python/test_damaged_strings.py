"""A store whose string column refers to a string its file does not hold: what a writer killed
between writing a job's row and flushing the global heap collection of its strings can leave
(seen in the kill-and-resume soak). HDF5 1.10 reads such a reference past its buffers and
crashes; llcbench must instead report the store damaged in one line and rebuild it from its
journal. A finished store is made, one reference of /jobs/host is pointed at an object index its
collection lacks (with h5py, for the offset of the column's raw data), and then:
status says damaged (exit 3), query fails in one line (exit 2), neither crashes; repair, and
on a copy a resume, rebuild the store from its journal with the same results; and a repair
keeps the rows of the old file that still verify (a job the journal lacks), but not the damaged
one, which runs again.

Files no writer makes are read safely too: references to forged heap collections that each claim
megabytes of the file are a one-line error, with the memory of a clean read (each collection is
read once, and collections that overlap are not sound); a string column that is an external
link into another file is read from that file.

Usage: test_damaged_strings.py LLCBENCH_BINARY
"""
import os
import shutil
import struct
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
steps = 300
batch_size = 50
[sgld]
step_sizes = 1e-7, 1e-6
"""
MANY = CONFIG.replace("count = 2", "count = 10").replace("steps = 300", "steps = 20").replace(
    "step_sizes = 1e-7, 1e-6", "step_sizes = " + ", ".join(f"{k}e-8" for k in range(1, 101)))  # 1,000 jobs




def results(path):
    with h5py.File(path, "r") as f:
        return f["jobs"]["lambda_hat"][:], f["traces"]["loss"][:]


def damage(path, row):
    """Points row `row`'s reference in /jobs/host (4 bytes of length, 8 of collection address, 4 of
    object index) at an object index its collection lacks."""
    with h5py.File(path, "r") as f:
        offset = f["jobs"]["host"].id.get_offset()
    with open(path, "r+b") as raw:
        raw.seek(offset + 16 * row + 12)
        raw.write(struct.pack("<I", 0xFFFF))


def drop_last_job(journal):
    """Cuts the journal (8 bytes of magic, then records of u32 magic, u8 type, u64 length, payload,
    u64 checksum; type 3 a job) before its last job record, as if that job had reached only the
    HDF5 file."""
    data = open(journal, "rb").read()
    p, last = 8, None
    while p < len(data):
        _, kind, length = struct.unpack("<IBQ", data[p:p + 13])
        if kind == 3:
            last = p
        p += 13 + length + 8
    with open(journal, "r+b") as f:
        f.truncate(last)


def peak_kib(*command, cwd):
    """The command's exit code and peak resident memory (KiB), measured in a child Python."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = run(sys.executable, "-c", probe, *command, cwd=cwd).stdout.split()
    return int(out[0]), int(out[1])


def forge_collections(path, rows, padding):
    """Points the first `rows` references of /jobs/host at forged collections: a "GCOL" header
    appended for each, claiming every byte from itself to the end of the file, which `padding`
    zero bytes after the headers make megabytes long."""
    with h5py.File(path, "r") as f:
        offset = f["jobs"]["host"].id.get_offset()
    end = os.path.getsize(path)
    total = end + 16 * rows + padding
    with open(path, "r+b") as raw:
        raw.seek(end)
        for j in range(rows):
            raw.write(b"GCOL\x01\x00\x00\x00" + struct.pack("<Q", total - (end + 16 * j)))
        raw.write(bytes(padding))
        for j in range(rows):
            raw.seek(offset + 16 * j)
            raw.write(struct.pack("<IQI", 4, end + 16 * j, 1))


def files_no_writer_makes(binary, tmp):
    with open(os.path.join(tmp, "many.ini"), "w") as f:
        f.write(MANY)
    made = run(binary, "sweep", "many.ini", "--store", "many.h5", "--log-level", "warn", cwd=tmp)
    check(made.returncode == 0, "a store of 1,000 jobs is made: " + made.stderr.strip()[-300:])
    clean_exit, clean_kib = peak_kib(binary, "query", "many.h5", "jobs", cwd=tmp)
    shutil.copy(os.path.join(tmp, "many.h5"), os.path.join(tmp, "forged.h5"))
    # 200 collections of 2 MiB each: 400 MiB to a reader that held every collection it was shown.
    forge_collections(os.path.join(tmp, "forged.h5"), 200, 2 << 20)
    query = run(binary, "query", "forged.h5", "jobs", cwd=tmp)
    check(query.returncode == 2 and "jobs/host is damaged" in query.stderr and query.stderr.count("\n") == 1,
          f"forged collections: query fails in one line (exit {query.returncode}): " + query.stderr.strip())
    forged_exit, forged_kib = peak_kib(binary, "query", "forged.h5", "jobs", cwd=tmp)
    # The sound collections of the column are at most the file (3 MiB) together; 100 MiB of
    # slack covers allocator noise and still fails a reader that holds even a quarter of them.
    check(clean_exit == 0 and forged_exit == 2 and forged_kib < clean_kib + 100 * 1024,
          f"with about the memory of a clean read ({forged_kib} against {clean_kib} KiB)")

    linked = os.path.join(tmp, "linked.h5")
    shutil.copy(os.path.join(tmp, "clean.h5"), linked)
    with h5py.File(os.path.join(tmp, "other.h5"), "w") as f:
        f.create_dataset("host", data=[f"elsewhere-{i}" for i in range(4)], dtype=h5py.string_dtype())
    with h5py.File(linked, "r+") as f:
        del f["jobs"]["host"]
        f["jobs"]["host"] = h5py.ExternalLink("other.h5", "/host")
    query = run(binary, "query", "linked.h5", "jobs", "--format", "csv", "--columns", "host", cwd=tmp)
    check(query.returncode == 0 and query.stdout.split() == ["host"] + [f"elsewhere-{i}" for i in range(4)],
          "a column linked from another file is read from it: " + (query.stdout + query.stderr).strip())


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
        shutil.copy(path, os.path.join(tmp, "clean.h5"))
        shutil.copy(path + ".journal", os.path.join(tmp, "clean.h5.journal"))
        for store in ("s.h5", "r.h5"):
            damage(os.path.join(tmp, store), 1)

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
        # A repair keeps the old file's rows that still verify (a salvaging read of the table):
        # with the journal's last job cut off, that job comes from the old file, unless its own
        # row is the damaged one, which then runs again on resume.
        for damaged_row, kept in ((1, "4 of 4 jobs kept (3 from the journal, 1 from the store)"),
                                  (3, "3 of 4 jobs kept (3 from the journal, 0 from the store), 1 to run")):
            name = f"j{damaged_row}.h5"
            shutil.copy(os.path.join(tmp, "clean.h5"), os.path.join(tmp, name))
            shutil.copy(os.path.join(tmp, "clean.h5.journal"), os.path.join(tmp, name + ".journal"))
            damage(os.path.join(tmp, name), damaged_row)
            drop_last_job(os.path.join(tmp, name + ".journal"))
            repaired = run(binary, "repair", name, cwd=tmp)
            check(repaired.returncode == 0 and kept in repaired.stdout + repaired.stderr,
                  f"repair with row {damaged_row} damaged and the last job only in the file: " +
                  (repaired.stdout + repaired.stderr).strip()[-300:])
            resumed = run(binary, "sweep", "c.ini", "--store", name, "--resume", "--log-level", "warn", cwd=tmp)
            estimates, traces = results(os.path.join(tmp, name))
            check(resumed.returncode == 0 and np.array_equal(estimates, want_estimates, equal_nan=True) and
                  np.array_equal(traces, want_traces, equal_nan=True),
                  "and after a resume the same estimates and traces: " + resumed.stderr.strip()[-200:])
        files_no_writer_makes(binary, tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
