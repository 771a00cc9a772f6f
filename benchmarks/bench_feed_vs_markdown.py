"""The same 75 issues from their Zola feed and from their Markdown: recall@3 and the links cited, in one run.

This Month in Rust OSDev's feed in ../shared/corpora/feeds/zola-rust-osdev-this-month was built from the
same commit as the Markdown archive in ../shared/corpora/rust-osdev-this-month. Both are indexed into one
data folder (the feed served over loopback HTTP and fetched as the bot fetches it), and each rust-osdev
question of ../shared/eval/dev.jsonl is asked of each source. A hit is the gold issue's page with the
gold heading. Printed: recall@1/3 per source, and for the questions both answer within 3, whether the
cited link (page and anchor) is the same; and for every citation, whether its text fragment matches exactly
once on the published page (the Markdown rendered to HTML; the feed entry's own HTML).

    python benchmarks/bench_feed_vs_markdown.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import CORPORA, SHARED, require_shared

SITE = "https://rust-osdev.com/this-month/"
FEED = CORPORA / "feeds" / "zola-rust-osdev-this-month" / "rss.xml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "backissue-feedbench" / "data")
    ap.add_argument("--questions", type=Path, default=SHARED / "eval" / "dev.jsonl")
    args = ap.parse_args()
    require_shared()
    import feedparser

    from bot.services import build_services
    from bot.settings import load_settings
    from bot.sources import SourceSync
    from index.search.fragments import matches
    from index.search.retriever import Filters
    from tests.feed_server import FeedServer
    from tests.published_page import html_page, markdown_page

    entry_html = {e.link: e.content[0].value for e in feedparser.parse(FEED.read_bytes()).entries if e.get("content")}

    server = FeedServer().start()
    server.put("/rss.xml", FEED.read_bytes())
    args.data_dir.parent.mkdir(parents=True, exist_ok=True)
    cfg = args.data_dir.parent / "feedbench.toml"
    cfg.write_text("\n".join([
        f'data_dir = "{args.data_dir}"', "",
        "[[sources]]", 'name = "markdown"', f'path = "{CORPORA / "rust-osdev-this-month"}"', f'base_url = "{SITE}"',
        'exclude = ["SOURCE.md", "README.md"]', "",
        "[[sources]]", 'name = "feed"', f'feed = "{server.url("/rss.xml")}"', "",
    ]), encoding="utf-8")
    settings = load_settings(cfg)
    services = build_services(settings, purpose="feedbench")
    started = time.monotonic()
    SourceSync(settings).sync()
    summary = services.indexer.reindex(settings.source_specs())
    print(f"index: {summary.sections} sections ({summary.new} new, {summary.unchanged} unchanged,"
          f" {len(summary.failed)} failed) in {time.monotonic() - started:.0f} s")
    for s in services.catalog.stats():
        print(f"  {s.name}: {s.issues} issues, {s.sections} sections")
    retriever = services.retriever()

    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    questions = [q for q in questions if q["corpus"] == "rust-osdev-this-month" and q["kind"] != "no-answer"]
    ranks: dict[str, list[int | None]] = {"markdown": [], "feed": []}
    same_link = both = 0
    fragments: dict[str, list[int]] = {"markdown": [], "feed": []}  # matches on the published page per citation
    for q in questions:
        page = SITE + q["file"].removesuffix("index.md")
        cited: dict[str, str] = {}
        for source in ranks:
            answer = retriever.search(q["question"], k=3, filters=Filters(source=source))
            rank = None
            for res in answer.results:
                directive = res.quote_url.partition(":~:")[2]
                if source == "markdown":
                    published = markdown_page(CORPORA / "rust-osdev-this-month" / res.path)
                else:
                    published = html_page(entry_html.get(res.url.split("#")[0], ""))
                fragments[source].append(matches(directive, published) if directive else -1)
            for r, res in enumerate(answer.results, start=1):
                if res.url.split("#")[0] == page and res.heading == q["heading"]:
                    rank = r
                    cited[source] = res.url
                    break
            ranks[source].append(rank)
        if len(cited) == 2:
            both += 1
            same_link += cited["markdown"] == cited["feed"]
            if cited["markdown"] != cited["feed"]:
                print(f"  {q['id']}: markdown cites {cited['markdown']}, feed cites {cited['feed']}")
        print(f"{q['id']} markdown={ranks['markdown'][-1]} feed={ranks['feed'][-1]} | {q['heading']}")
    n = len(questions) or 1
    print()
    for source, rs in ranks.items():
        r1 = sum(1 for r in rs if r == 1) / n
        r3 = sum(1 for r in rs if r is not None) / n
        print(f"{source:<9} n={len(rs)} recall@1={r1:.3f} recall@3={r3:.3f}")
    delta = (sum(1 for r in ranks["feed"] if r is not None) - sum(1 for r in ranks["markdown"] if r is not None)) / n
    print(f"feed - markdown recall@3 = {delta:+.3f}; same link (page and anchor) for {same_link} of the {both}"
          " questions both answer within 3")
    for source, found in fragments.items():
        c = Counter(found)
        print(f"{source:<9} text fragments: {len(found)} citations, {c[1]} found once on the published page"
              f" ({c[1] / (len(found) or 1):.1%}), {c[-1]} heading only, {c[0]} not found, "
              f"{sum(v for k, v in c.items() if k > 1)} more than once")
    services.close()
    server.stop()


if __name__ == "__main__":
    main()
