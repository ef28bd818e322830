"""Runs the Python examples of docs/store.md against a real store, with Debian's h5py and pandas.

Usage: test_store_examples.py LLCBENCH_BINARY DOCS_STORE_MD
Prints 'N passed, 0 failed' and exits 0 when every example runs; exits 1 otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile

CONFIG = """
[sweep]
samplers = sgld, sghmc
threads = 1
[problems]
class = tiny
count = 2
[chain]
steps = 400
batch_size = 100
trace_every = 5
[sgld]
step_sizes = 1e-7, 1e-4
[sghmc]
step_sizes = 1e-8
"""


def main():
    binary, doc = sys.argv[1], sys.argv[2]
    blocks = re.findall(r"```python\n(.*?)```", open(doc).read(), re.S)
    if not blocks:
        print("no python examples found in", doc)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "demo.ini"), "w") as f:
            f.write(CONFIG)
        subprocess.run([binary, "sweep", "demo.ini", "--store", "demo.h5", "--log-level", "warn"],
                       cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        failed = 0
        for i, code in enumerate(blocks):
            result = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True)
            if result.returncode != 0:
                failed += 1
                print(f"example {i + 1} failed:\n{code}\n{result.stderr}")
            else:
                print(f"example {i + 1} output:\n{result.stdout}")
        print(f"{len(blocks) - failed} passed, {failed} failed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
