"""What the Python tests share (each runs as a script, so its own folder is on sys.path):

    check(ok, what)   prints "ok   what" or "FAIL what" and keeps the failures; returns ok
    run(*command, **kw)  subprocess.run with the output captured as text (kw: cwd, env, timeout)
    done()            prints how many checks failed; the script's exit code (0 when none)
"""
import subprocess

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(*command, **kw):
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, **kw)


def done():
    print(f"{len(failures)} failed")
    return 1 if failures else 0
