"""Clone and fetch time and peak memory: the git command line against dulwich (when installed).

Makes a repository of a few thousand issue files in a temporary folder, serves it by file URL,
and times a shallow clone and a fetch of one new commit with each tool, each in a child process.

    python benchmarks/bench_git.py [--files 3000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CHILD_GIT = """
import subprocess, sys
url, dest, step = sys.argv[1:4]
if step == "clone":
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--single-branch", url, dest], check=True)
else:
    subprocess.run(["git", "-C", dest, "fetch", "--quiet", "--depth", "1", "origin"], check=True)
    subprocess.run(["git", "-C", dest, "reset", "--quiet", "--hard", "FETCH_HEAD"], check=True)
"""

CHILD_DULWICH = """
import sys
from dulwich import porcelain
url, dest, step = sys.argv[1:4]
if step == "clone":
    porcelain.clone(url, dest, depth=1, errstream=open("/dev/null", "wb"))
else:
    porcelain.pull(dest, url, errstream=open("/dev/null", "wb"))
"""


def run(code: str, *args: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return time.perf_counter() - t0, max(after, before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    work = tmp / "site"
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(work)], check=True)
    content = work / "content"
    content.mkdir()
    for n in range(args.files):
        (content / f"issue_{n:05d}.md").write_text(textwrap.dedent(f"""\
            ---
            title: Issue {n}
            date: 2024-01-01
            ---
            ## Story {n}
            """) + ("Some prose about models and data. " * 100) + "\n")
    git = ["git", "-C", str(work), "-c", "user.name=b", "-c", "user.email=b@example.org"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "issues"], check=True)
    bare = tmp / "site.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(bare)], check=True)
    url = f"file://{bare}"
    tools = [("git command line", CHILD_GIT)]
    try:
        import dulwich  # noqa: F401

        tools.append(("dulwich", CHILD_DULWICH))
    except ImportError:
        print("dulwich is not installed: only the git command line is measured")
    for name, code in tools:
        dest = tmp / f"clone-{name.split()[0]}"
        clone_s, clone_mb = run(code, url, str(dest), "clone")
        (content / "new.md").write_text(f"---\ntitle: New {name}\n---\n## New\nText.\n")
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "--quiet", "-m", f"new for {name}"], check=True)
        subprocess.run(["git", "-C", str(work), "push", "--quiet", str(bare), "main"], check=True)
        fetch_s, fetch_mb = run(code, url, str(dest), "fetch")
        print(f"{name}: clone {clone_s:.2f} s (peak {clone_mb:.0f} MB), fetch {fetch_s:.2f} s (peak {fetch_mb:.0f} MB)")


if __name__ == "__main__":
    main()
