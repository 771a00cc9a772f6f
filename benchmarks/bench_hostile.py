"""Parse time of hostile issue files, at n and 2n, against the per-file budget; and of the real archives.

Each hostile file (the sizes of issue 18: 16,000 and 200,000 HTML comments, 4,000 code-fence-plus-comment
pairs, 10,000 identical headings, deep nesting; also 40,000 tags that never close) is built at n and at
2n and read with ``index.reading.issue.parse_issue`` with no budget. The ratio t(2n)/t(n) is about 2 when reading
is linear and about 4 when it is quadratic; ``/byte`` is the same per byte of file, about 1 when the time
is linear in the size (a list's indentation grows with its depth). Times of a few milliseconds give noisy
ratios. A 5 MB file of ordinary prose is read for scale. Then every issue of the shared archives is read,
and the slowest are printed (skipped when the archives are not there).

    python benchmarks/bench_hostile.py [--repeat 3] [--no-corpora]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import CORPORA
from index.reading.issue import PARSE_SECONDS, IssueReadError, SourceSpec, parse_issue

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FRONT = "---\ntitle: A hostile issue\ndate: 2025-03-01\n---\n\n# A hostile issue\n\nSome opening words.\n\n"
PROSE = (
    "## A story about {n}\n\n"
    "The team measured how long it takes to read an issue of a newsletter, story {n}, and found that most of\n"
    "the time goes into [the parser](https://example.org/parser/{n}) rather than into `embedding`. *Short*\n"
    "paragraphs, **bold** words and a list:\n\n- one point\n- another point, with a [link](https://example.org)\n\n"
)


def comments(n: int) -> str:
    return FRONT + "<!-- -->\n" * n + "\nThe end.\n"


def fence_comment(n: int) -> str:
    return FRONT + "```\n<!-- in code\n```\n<!-- a comment -->\n" * n + "\nThe end.\n"


def unclosed_tags(n: int) -> str:
    return FRONT + "<script\n<iframe\n" * (n // 2)


def same_headings(n: int) -> str:
    return FRONT + "## Same\n\nword\n\n" * n


def nested_list(depth: int) -> str:
    return FRONT + "".join("  " * i + f"- level {i}\n" for i in range(depth)) + "\n## After\n\ntail\n"


def nested_quote(depth: int) -> str:
    return FRONT + ">" * depth + " deepest words\n\n## After\n\ntail\n"


def nested_front_matter(depth: int) -> str:
    return "---\ntitle: deep\nx: " + "[" * depth + "]" * depth + "\n---\n\nbody\n"


def prose(size: int) -> str:
    parts, total, n = [FRONT], len(FRONT), 0
    while total < size:
        parts.append(PROSE.format(n=n))
        total += len(parts[-1])
        n += 1
    return "".join(parts)


# (name, builder, n): each is also built at 2n
HOSTILE: list[tuple[str, Callable[[int], str], int]] = [
    ("html comments", comments, 16_000),
    ("html comments", comments, 200_000),
    ("fence+comment pairs", fence_comment, 4_000),
    ("unclosed script/iframe", unclosed_tags, 40_000),
    ("identical ## headings", same_headings, 10_000),
    ("list nesting depth", nested_list, 12),
    ("list nesting depth", nested_list, 400),
    ("blockquote depth", nested_quote, 25),
    ("blockquote depth", nested_quote, 100_000),
    ("front matter depth", nested_front_matter, 100_000),
    ("ordinary prose, bytes", prose, 2_450_000),
]


def timed(raw: bytes, spec: SourceSpec, repeat: int) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            issue = parse_issue(raw, "hostile.md", spec, NOW)
            outcome = f"{len(issue.sections)} sections" if issue.publication.published else issue.publication.reason
        except IssueReadError as exc:
            outcome = f"failed: {exc}"
        best = min(best, time.perf_counter() - t0)
    return best, outcome


def bench_hostile(repeat: int) -> float:
    spec = SourceSpec(name="bench", path=Path("."), parse_seconds=0)  # 0: no budget, to see the real time
    print(f"budget per file: {PARSE_SECONDS:g} s (index/reading/issue.py PARSE_SECONDS); best of {repeat}")
    print(f"{'file':<24}{'n':>10}{'size':>11}{'time':>9}{'2n':>10}{'size':>11}{'time':>9}{'ratio':>7}{'/byte':>7}"
          "  outcome at 2n")
    worst = 0.0
    for name, build, n in HOSTILE:
        a, b = build(n).encode(), build(2 * n).encode()
        ta, _ = timed(a, spec, repeat)
        tb, outcome = timed(b, spec, repeat)
        worst = max(worst, tb)
        per_byte = (tb / len(b)) / (ta / len(a))  # about 1 when the time grows with the size of the file
        print(f"{name:<24}{n:>10,}{len(a):>11,}{ta:>8.3f}s{2 * n:>10,}{len(b):>11,}{tb:>8.3f}s{tb / ta:>7.2f}"
              f"{per_byte:>7.2f}  {outcome[:60]}")
    print(f"slowest hostile file: {worst:.3f} s ({worst / PARSE_SECONDS:.1%} of the budget)")
    return worst


def bench_corpora() -> None:
    if not CORPORA.is_dir():
        print(f"real archives: skipped ({CORPORA} not found; set BACKISSUE_SHARED)")
        return
    times: list[tuple[float, int, str]] = []
    for folder in sorted(p for p in CORPORA.iterdir() if p.is_dir()):
        spec = SourceSpec(name=folder.name, path=folder, base_url="https://example.org/", parse_seconds=0)
        for f in sorted(folder.rglob("*.md")):
            if f.name in ("SOURCE.md", "README.md"):
                continue
            raw = f.read_bytes()
            t, _ = timed(raw, dataclasses.replace(spec), 1)
            times.append((t, len(raw), str(f.relative_to(CORPORA))))
    times.sort(reverse=True)
    total = sum(t for t, _, _ in times)
    print(f"real archives: {len(times)} issues read in {total:.2f} s; slowest:")
    for t, size, rel in times[:3]:
        print(f"  {t:.3f} s  {size:>9,} bytes  {rel}")
    print(f"slowest real issue: {times[0][0]:.3f} s ({times[0][0] / PARSE_SECONDS:.2%} of the budget)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-corpora", action="store_true", help="only the hostile files")
    args = ap.parse_args()
    bench_hostile(args.repeat)
    if not args.no_corpora:
        bench_corpora()


if __name__ == "__main__":
    main()
