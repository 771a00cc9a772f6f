"""Small feeds written for the tests: RSS 2.0, Atom 1.0 and RSS 1.0 (RDF), with entries given as data."""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass
from xml.sax.saxutils import escape

SITE = "https://gardening.example.org"


@dataclass
class Entry:
    n: int
    title: str = ""
    html: str = ""
    guid: str | None = "auto"  # "auto": a GUID of its own; None: no GUID (identity by link)
    link: str = ""

    def __post_init__(self) -> None:
        self.title = self.title or f"Seedling notes {self.n}"
        self.link = self.link or f"{SITE}/notes/{self.n}/"
        if self.guid == "auto":
            self.guid = f"tag:gardening.example.org,2024:note-{self.n}"
        self.html = self.html or body(self.n)

    @property
    def date(self) -> dt.datetime:
        return dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.timezone.utc) + dt.timedelta(days=7 * self.n)


def body(n: int) -> str:
    """An issue as a platform renders it: an intro, headings with and without ids, and things a reader never sees."""
    return (
        f"<p>Welcome to note {n}. This week the <em>tomato</em> seedlings went into"
        f" <a href=\"../{n}/beds/\">the raised beds</a>.</p>"
        "<script>track('open')</script><img src=\"https://pixel.example.net/open.gif\" width=\"1\" height=\"1\">"
        f"<h2 id=\"watering-{n}\">Watering schedule</h2>"
        f"<p>Water the beds every second morning; in week {n} the soil dried out by noon, so mulch with straw.</p>"
        "<iframe src=\"https://video.example.net/embed/1\">a player</iframe>"
        "<h2>Pests</h2>"
        f"<p>Aphids on the broad beans in note {n}: spray with soapy water and plant nasturtiums nearby.</p>"
        "<svg><title>icon</title><path d=\"M0\"/></svg>"
    )


def rss2(entries: list[Entry], title: str = "Seedling Notes") -> str:
    items = []
    for e in entries:
        guid = f"<guid isPermaLink=\"false\">{escape(e.guid)}</guid>" if e.guid else ""
        items.append(
            f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>{guid}"
            f"<pubDate>{email.utils.format_datetime(e.date)}</pubDate>"
            f"<description>{escape('A short teaser of note ' + str(e.n))}</description>"
            f"<content:encoded><![CDATA[{e.html}]]></content:encoded></item>")
    return (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>"
        f"<title>{escape(title)}</title><link>{SITE}/</link><description>A gardening newsletter</description>"
        + "".join(items) + "</channel></rss>\n")


def atom(entries: list[Entry], title: str = "Seedling Notes") -> str:
    parts = []
    for e in entries:
        parts.append(
            f"<entry><title>{escape(e.title)}</title><link rel=\"alternate\" href=\"{escape(e.link)}\"/>"
            f"<id>{escape(e.guid or e.link)}</id><updated>{e.date.isoformat()}</updated>"
            f"<published>{e.date.isoformat()}</published><summary>Teaser {e.n}</summary>"
            f"<content type=\"html\">{escape(e.html)}</content></entry>")
    return (
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
        f"<title>{escape(title)}</title><id>{SITE}/atom</id><updated>2024-06-01T00:00:00Z</updated>"
        + "".join(parts) + "</feed>\n")


def rss1(entries: list[Entry], title: str = "Seedling Notes") -> str:
    seq = "".join(f"<rdf:li rdf:resource=\"{escape(e.link)}\"/>" for e in entries)
    items = "".join(
        f"<item rdf:about=\"{escape(e.link)}\"><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f"<dc:date>{e.date.isoformat()}</dc:date><content:encoded><![CDATA[{e.html}]]></content:encoded></item>"
        for e in entries)
    return (
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\""
        " xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\""
        " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
        f"<channel rdf:about=\"{SITE}/rss1\"><title>{escape(title)}</title><link>{SITE}/</link>"
        f"<description>A gardening newsletter</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
        + items + "</rdf:RDF>\n")
