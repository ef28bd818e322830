#!/usr/bin/python3
"""Every documented command is a test (docs/design.md, "Habits": documented examples).

    test_docs.py LLCBENCH SOURCE_DIR WORK_DIR [--only FILE]

1. Examples. Every fenced ```console block of README.md, docs/*.md and configs/README.md runs:
   each `$ COMMAND` line in a shell (cwd: a scratch folder per document, with build/, configs/,
   tools/ and docs/ of the source tree linked in and `llcbench` on PATH, blocks of a document in
   order so that later ones see the stores earlier ones made), and the lines after it are its
   expected output (stdout and stderr together). Output lines must appear in order and one after
   another; a line `...` skips any number of lines, and `...` inside a line matches any text.
   The block's info string may say:
     skip="why"   not run here (a GPU, several nodes, Slurm, docker, an hours-long run): listed
                  with the reason;
     run="CMD"    run CMD instead of the shown command (a scaled-down variant, or the command
                  with a setting a test needs; the listing says so), and compare its output
                  with the lines shown;
     exit=N       the exit code of the block's last command (others must exit 0; default 0);
     rtol=X       numbers in the expected output match within a relative X (measured digits that
                  vary with the BLAS kernels);
     timeout=S    seconds per command (default 180);
     setup="CMD"  run first (it must exit 0), unshown: what the example assumes exists.
   A fenced block of any other language with file=NAME (```ini file=perf.ini) is written to
   NAME in the scratch folder, as shown, for the examples after it.
   An indented (not fenced) line starting with `$ ` is an error: an example must be runnable.
2. Options. Every option of every `llcbench COMMAND --help` appears in docs/cli.md's section of
   that command, and every `--option` that section names is one of the command's options (or of
   the global ones). Every model class is in every list of classes (the helps, cli.md, configs).
Prints one line per check; exits 1 if any failed.
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

failures = []
skipped = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else "\n" + detail), flush=True)
    if not ok:
        failures.append(what)


# ---------------------------------------------------------------- examples

def documents(src):
    docs = [os.path.join(src, "README.md"), os.path.join(src, "configs", "README.md")]
    docs += sorted(os.path.join(root, f) for root, _, files in os.walk(os.path.join(src, "docs")) for f in files
                   if f.endswith(".md"))
    return docs


def blocks(path):
    """(line number, attributes, lines) of each ```console block; the line numbers of indented
    `$ ` lines outside them."""
    out, stray = [], []
    lines = open(path).read().split("\n")
    i = 0
    in_other_fence = False
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip(" "))  # a fence may sit inside a list item
        if line.lstrip(" ").startswith("```") and not in_other_fence:
            info = line.strip()[3:].strip()
            if info.startswith("console"):
                attrs = dict(tok.split("=", 1) if "=" in tok else (tok, "") for tok in shlex.split(info[len("console"):]))
                start = i + 1
                i += 1
                while i < len(lines) and not lines[i].lstrip(" ").startswith("```"):
                    i += 1
                out.append((start, attrs, [l[indent:] for l in lines[start:i]]))
            elif "file=" in info:  # a file the examples after it use: written as shown
                attrs = dict(tok.split("=", 1) for tok in shlex.split(info) if "=" in tok)
                start = i + 1
                i += 1
                while i < len(lines) and not lines[i].lstrip(" ").startswith("```"):
                    i += 1
                out.append((start, attrs, [l[indent:] for l in lines[start:i]]))
            else:
                in_other_fence = True
        elif line.lstrip(" ").startswith("```") and in_other_fence:
            in_other_fence = False
        elif not in_other_fence and line.startswith("    $ "):
            stray.append(i + 1)
        i += 1
    return out, stray


def commands(lines):
    """[(command, expected output lines)] of a block."""
    out = []
    for line in lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def line_matches(expected, actual, rtol):
    expected, actual = expected.rstrip(), actual.rstrip()  # tables pad their last column
    if expected == actual:
        return True
    if "..." in expected:
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        if re.fullmatch(pattern, actual):
            return True
    if rtol is None:
        return False
    # Same words, numbers within rtol.
    e_parts, a_parts = NUMBER.split(expected), NUMBER.split(actual)
    e_nums, a_nums = NUMBER.findall(expected), NUMBER.findall(actual)
    if e_parts != a_parts or len(e_nums) != len(a_nums):
        return False
    return all(abs(float(a) - float(e)) <= rtol * max(abs(float(e)), abs(float(a))) for e, a in zip(e_nums, a_nums))


def output_matches(expected, actual, rtol):
    """Expected lines in order, one after another, `...` lines skipping any; the first expected
    line may match anywhere (logs may come first), the rest follow it."""
    expected = [e for e in expected if e.strip() != ""] or []
    actual = [a for a in actual if a.strip() != ""]

    def match(ei, ai, anchored):
        if ei == len(expected):
            return True
        if expected[ei].strip() == "...":
            return any(match(ei + 1, k, False) for k in range(ai, len(actual) + 1))
        starts = [ai] if anchored else range(ai, len(actual))
        for k in starts:
            if k < len(actual) and line_matches(expected[ei], actual[k], rtol) and match(ei + 1, k + 1, True):
                return True
        return False

    return match(0, 0, False)


def scratch(src, llcbench, work, name):
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, "build"), exist_ok=True)
    for sub in ("configs", "tools", "docs", "tests"):
        link = os.path.join(d, sub)
        if not os.path.lexists(link):
            os.symlink(os.path.join(src, sub), link)
    link = os.path.join(d, "build", "bin")
    if not os.path.lexists(link):
        os.symlink(os.path.dirname(os.path.abspath(llcbench)), link)
    return d


def run_examples(src, llcbench, work, only):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(llcbench)) + os.pathsep + env.get("PATH", "")
    # mpirun as root in containers (docs/cluster.md): harmless elsewhere.
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    env.setdefault("OMPI_MCA_btl", "self,vader")
    env.setdefault("OMPI_MCA_pml", "ob1")
    total = 0
    for doc in documents(src):
        rel = os.path.relpath(doc, src)
        if only and rel != only:
            continue
        found, stray = blocks(doc)
        check(not stray, f"{rel}: every `$ ` example is in a ```console block",
              f"indented `$ ` lines at {stray}")
        cwd = scratch(src, llcbench, work, rel.replace("/", "_").replace(".md", ""))
        for start, attrs, lines in found:
            where = f"{rel}:{start}"
            if "file" in attrs:
                with open(os.path.join(cwd, attrs["file"]), "w") as f:
                    f.write("\n".join(lines) + "\n")
                continue
            cmds = commands(lines)
            check(bool(cmds), f"{where}: the block has a `$ ` command")
            if "skip" not in attrs and not shutil.which("mpirun") and any("mpirun" in c for c, _ in cmds):
                attrs["skip"] = "no mpirun on this machine (a build without MPI)"
            if "skip" in attrs:
                skipped.append(f"{where}: {cmds[0][0] if cmds else ''}  ({attrs['skip']})")
                continue
            if "setup" in attrs:
                r = subprocess.run(["bash", "-c", attrs["setup"]], cwd=cwd, env=env, capture_output=True, text=True)
                check(r.returncode == 0, f"{where}: setup `{attrs['setup']}` exits 0", r.stdout[-1000:] + r.stderr[-1000:])
            rtol = float(attrs["rtol"]) if "rtol" in attrs else None
            timeout = float(attrs.get("timeout", "180"))
            for k, (cmd, expected) in enumerate(cmds):
                total += 1
                shown = cmd
                if "run" in attrs:
                    if len(cmds) != 1:
                        check(False, f"{where}: run= needs a block of one command")
                        break
                    cmd = attrs["run"]
                want = int(attrs.get("exit", "0")) if k == len(cmds) - 1 else 0
                # A session of its own, so that a timeout kills the command's children too (a
                # script's mpirun and ranks would otherwise hold the output pipe open).
                p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
                try:
                    text, _ = p.communicate(timeout=timeout)
                    code = p.returncode
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    text, _ = p.communicate()
                    code = f"timeout after {timeout:g} s"
                label = f"{where}: $ {shown}" + (f"  [scaled: $ {cmd}]" if cmd != shown else "")
                ok = code == want
                check(ok, f"{label}  exits {want}", f"exit {code}; output:\n{text[-2000:]}")
                if ok and any(e.strip() for e in expected):
                    check(output_matches(expected, text.split("\n"), rtol), f"{label}  prints what the docs show",
                          "expected:\n" + "\n".join(expected) + "\nactual:\n" + text[-3000:])
    return total


# ---------------------------------------------------------------- options

def help_options(llcbench, command):
    r = subprocess.run([llcbench, command, "--help"], capture_output=True, text=True)
    opts = set(re.findall(r"^\s+(?:-\w \[ )?(--[a-z][a-z0-9-]*)", r.stdout, re.M))
    return opts


def cli_sections(src):
    text = open(os.path.join(src, "docs", "cli.md")).read()
    sections = {}
    for m in re.finditer(r"^## (\S+)\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        sections[m.group(1)] = m.group(2)
    return text, sections


def check_options(src, llcbench):
    r = subprocess.run([llcbench, "--help"], capture_output=True, text=True)
    cmds = re.findall(r"^  ([a-z]+)\s{2,}", r.stdout, re.M)
    listed = r.stdout.split("commands:\n", 1)[-1].split("\n\n", 1)[0].splitlines()
    check(len(cmds) >= 5 and len(cmds) == len(listed), f"llcbench --help lists the commands ({cmds})",
          f"{len(listed)} lines under 'commands:', {len(cmds)} read as commands")
    text, sections = cli_sections(src)
    common = {"--help", "--log-level"}
    documented_common = all(o in text.split("\n## ")[0] for o in common) or "Common options" in text
    check(documented_common, "docs/cli.md documents --help and --log-level once for every command")
    for c in cmds:
        opts = help_options(llcbench, c)
        body = sections.get(c)
        check(body is not None, f"docs/cli.md has a section '## {c}'")
        if body is None:
            continue
        named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", body))
        missing = sorted(o for o in opts - common if o not in named)
        check(not missing, f"docs/cli.md '## {c}' names every option of `{c} --help`", f"missing: {missing}")
        unknown = sorted(o for o in named - opts - common - cross_references(c))
        check(not unknown, f"every option docs/cli.md '## {c}' names is one of `{c} --help`",
              f"not options of {c}: {unknown}")


def cross_references(command):
    """Options of other commands that a section may name when it says what to run next."""
    return {"status": {"--resume"}, "repair": {"--resume"},
            "run": {"--chains"},  # bench --chains, named where --lanes is explained
            "sweep": {"--mpi"},  # srun --mpi=pmix
            }.get(command, set())


def check_classes(src, llcbench):
    """Every model class the program knows is in every list of classes: each `--class` help, the
    config key's description, docs/cli.md and configs/README.md."""
    r = subprocess.run([llcbench, "problem", "--class", "nosuch", "--seed", "1"], capture_output=True, text=True)
    m = re.search(r"known: ([^)]*)\)", r.stderr)
    check(m is not None, "llcbench names its model classes when one is unknown", r.stderr)
    if not m:
        return
    known = [c.strip() for c in m.group(1).split(",") if not c.strip().startswith(("custom", "LMAX", "HMIN", "HMAX"))]
    for c in ("problem", "run", "bench"):
        text = " ".join(subprocess.run([llcbench, c, "--help"], capture_output=True, text=True).stdout.split())
        line = text[text.find("--class arg"):][:200]
        missing = [k for k in known if not re.search(rf"(?<![\w]){re.escape(k)}(?![\w])", line)]
        check(not missing, f"`{c} --help` lists every model class", f"missing {missing} in: {line}")
    for doc, marker in (("docs/cli.md", "- `--class`:"), ("configs/README.md", "| `class` |")):
        text = open(os.path.join(src, doc)).read()
        line = next((l for l in text.split("\n") if l.startswith(marker)), "")
        missing = [k for k in known if f"`{k}`" not in line]
        check(line and not missing, f"{doc} lists every model class", f"missing {missing} in: {line}")


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1]
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    llcbench, src, work = args
    shutil.rmtree(work, ignore_errors=True)  # stores of an earlier run would make sweeps refuse
    os.makedirs(work)
    check_options(src, llcbench)
    check_classes(src, llcbench)
    total = run_examples(src, llcbench, work, only)
    print(f"\n{total} commands run; {len(skipped)} examples not run here:")
    for s in skipped:
        print("  skip " + s)
    print(f"{len(failures)} failed" + ("".join("\n  " + f for f in failures) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
