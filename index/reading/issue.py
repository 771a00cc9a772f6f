"""Read one issue file: decode it, split its metadata, decide publication, title and URL, cut sections."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from index.errors import BadIssue
from index.reading.anchors import GENERATORS, guess_generator, issue_url
from index.reading.budget import ParseTimeout, parse_budget
from index.reading.entries import EntryError, parse_entry
from index.reading.files import bad_name
from index.reading.frontmatter import FrontMatterError, normalise_newlines, split_front_matter
from index.reading.htmlclean import clean_markdown
from index.reading.publication import DateError, Publication, publication
from index.reading.sections import Section, first_h1, parse_markdown, split_sections

log = logging.getLogger(__name__)

# Bump when parsing or chunking changes what is stored: every issue is then re-read.
PARSER_VERSION = "3"
# Beyond this a file is reported and skipped. Measured by benchmarks/bench_hostile.py on a loaded 2-core
# machine: the slowest of 1,064 real issues reads in 0.06-0.11 s, the hostile files of issue 18 in at most
# 1 s (2.6 s at twice their size), an ordinary 4.9 MB file (the size limit is 5 MB) in 7-9 s.
PARSE_SECONDS = 30.0


class IssueReadError(BadIssue):
    """The file cannot be read at all; the message says why."""


@dataclass(frozen=True)
class SourceSpec:
    """Where a newsletter's issues live and how its site publishes them."""

    name: str
    path: Path
    base_url: str = ""
    exclude: tuple[str, ...] = ()
    generator: str = "auto"  # "auto" or one of index.reading.anchors.GENERATORS
    permalink: str = ""  # optional pattern such as "/blog/{year}/{month}/{slug}/"
    max_file_bytes: int = 5_000_000
    parse_seconds: float = PARSE_SECONDS  # a file that takes longer to read is reported and skipped
    section_pages: bool = False  # index Hugo/Zola _index.md section pages too
    kind: str = "files"  # "files": Markdown issue files; "feed": entries stored by index.reading.feeds
    fetched_from: str = ""  # a folder this tool fills from elsewhere ("git": a checkout): missing means not fetched yet

    def fingerprint(self) -> str:
        """What, besides the file's bytes, changes how its issues are stored."""
        return "\0".join([self.base_url, self.generator, self.permalink] + ([self.kind] if self.kind != "files" else []))


@dataclass
class Issue:
    source: str
    path: str  # relative to the source folder, POSIX
    title: str
    url: str
    date: dt.datetime | None
    publication: Publication
    sections: list[Section]
    description: str = ""
    image: str = ""  # cover image, absolute when base_url allows
    generator: str = "hugo"
    warnings: list[str] = field(default_factory=list)
    access: str = ""  # index.reading.paywall: "" public, "preview" (cut at a paywall), "paid" (members only)


def decode(raw: bytes, label: str) -> tuple[str, list[str]]:
    """Text of a file: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 with a warning."""
    warnings: list[str] = []
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), warnings
        except UnicodeDecodeError as exc:
            raise IssueReadError(f"not valid UTF-16 despite its byte-order mark ({exc.reason})") from exc
    if b"\x00" in raw[:8192]:
        raise IssueReadError("binary file (contains NUL bytes), not Markdown")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(f"not UTF-8 (byte {exc.start}: {exc.reason}); read as Windows-1252")
        text = raw.decode("cp1252", errors="replace")
        _reject_junk(text, fallback=True)
        return text, warnings
    _reject_junk(text, fallback=False)
    return text, warnings


# Control characters other than tab, newline, carriage return and form feed; C1 controls; U+FFFD.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_JUNK_SHARE = 0.02  # random bytes read as Windows-1252 give ~13 %; real issues have none to a handful
_NON_ASCII_SHARE = 0.30  # of a file that is not UTF-8: Windows-1252 prose is mostly ASCII (a few accents)


def _reject_junk(text: str, *, fallback: bool) -> None:
    """Raise IssueReadError when decoded ``text`` is not text (binary data without NUL bytes)."""
    sample = text[:65536]
    if not sample:
        return
    junk = len(_JUNK.findall(sample))
    if junk >= 8 and junk / len(sample) > _JUNK_SHARE:
        raise IssueReadError(f"binary file, not Markdown ({junk / len(sample):.0%} of its characters are control codes)")
    if fallback and len(sample) >= 64:
        non_ascii = sum(1 for c in sample if ord(c) > 127)
        if non_ascii / len(sample) > _NON_ASCII_SHARE:
            raise IssueReadError(
                f"not UTF-8, and not Windows-1252 text either ({non_ascii / len(sample):.0%} of its bytes are"
                " outside ASCII): binary data, or text in another encoding; save it as UTF-8"
            )


def content_hash(raw: bytes, spec: SourceSpec) -> str:
    h = hashlib.sha256()
    h.update(PARSER_VERSION.encode())
    h.update(b"\0")
    h.update(spec.fingerprint().encode())
    h.update(b"\0")
    h.update(raw)
    return h.hexdigest()


def _meta_title(meta: dict[str, object]) -> str:
    for key in ("title", "Title"):
        value = meta.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            return str(value).strip()
    return ""


def _title(meta: dict[str, object], body: str, rel_path: str, tokens: list[Token] | None) -> str:
    title = _meta_title(meta)
    if title:
        return title
    h1 = first_h1(body, tokens)
    if h1:
        return h1
    name = rel_path.rsplit("/", 1)[-1]
    stem = re.sub(r"(?i)(\s*\.(md|markdown|mdown|mkd))+\s*$", "", name)
    if stem in ("index", "_index") and "/" in rel_path:
        stem = rel_path.rsplit("/", 2)[-2]
    return stem.replace("_", " ").replace("-", " ").strip() or name


def cover_image(meta: dict[str, object], base_url: str) -> str:
    """The issue's cover image (Hugo ``cover.image``, Jekyll ``image.feature``, ``image``, ``images[0]``)."""
    candidates: list[object] = []
    for key in ("cover", "image", "images", "featured_image", "thumbnail"):
        value = meta.get(key)
        if isinstance(value, dict):
            candidates += [value.get("image"), value.get("feature"), value.get("url"), value.get("src")]
        elif isinstance(value, list) and value:
            candidates.append(value[0])
        else:
            candidates.append(value)
    for c in candidates:
        if not isinstance(c, str) or not c.strip() or "<" in c:  # "<image path/url>": a template left in
            continue
        c = c.strip()
        if re.match(r"^https?://", c):
            return c
        if not re.search(r"\.(png|jpe?g|gif|webp|avif|svg)(\?.*)?$", c, re.IGNORECASE):
            continue  # a folder, not a file
        if base_url:
            root = re.match(r"^https?://[^/]+", base_url)
            return (root.group(0) if c.startswith("/") and root else base_url.rstrip("/")) + "/" + c.lstrip("/")
    return ""


def parse_issue(raw: bytes, rel_path: str, spec: SourceSpec, now: dt.datetime) -> Issue:
    """Parse an issue's bytes. Raises IssueReadError, with a plain reason, when it cannot be read.

    Whatever the file holds, only IssueReadError comes out: a date that names no real day, front matter
    nested too deeply, a parse over ``spec.parse_seconds``, or an error of a parser itself.
    """
    bad = bad_name(rel_path)
    if bad is not None:
        raise IssueReadError(bad[1])
    if len(raw) > spec.max_file_bytes:
        raise IssueReadError(f"too large ({len(raw):,} bytes; the limit is {spec.max_file_bytes:,})")
    try:
        with parse_budget(spec.parse_seconds):
            return _parse_entry(raw, rel_path, spec, now) if spec.kind == "feed" else _parse(raw, rel_path, spec, now)
    except (DateError, FrontMatterError, EntryError) as exc:
        raise IssueReadError(str(exc)) from exc
    except ParseTimeout:
        raise IssueReadError(f"took over {spec.parse_seconds:g} s to read; skipped") from None
    except RecursionError:
        raise IssueReadError("nested too deeply to read") from None
    except IssueReadError:
        raise
    except Exception as exc:  # a parser's own failure on odd input must not stop the run
        log.warning("%s: reading failed", rel_path, exc_info=True)
        raise IssueReadError(f"could not be read ({type(exc).__name__}: {_short(str(exc))})") from exc


def _short(s: str, n: int = 120) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _encodable(value: Any) -> Any:
    """Front matter with its lone surrogates (JSON's or YAML's "\\ud800") replaced: UTF-8 cannot store them."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    return value


def _parse(raw: bytes, rel_path: str, spec: SourceSpec, now: dt.datetime) -> Issue:
    text, warnings = decode(raw, rel_path)
    split = split_front_matter(normalise_newlines(text))
    warnings.extend(split.warnings)
    meta = _encodable(split.meta)
    name = rel_path.rsplit("/", 1)[-1]
    pub = publication(meta, name, now)
    generator = spec.generator if spec.generator in GENERATORS else guess_generator(split.format, rel_path, meta)
    body = clean_markdown(split.body)
    # parsed once, for the sections and (when the front matter has none) the title
    tokens = parse_markdown(body, warnings) if pub.published else None
    title = _title(meta, body, rel_path, tokens)
    date_parts = (pub.date.year, pub.date.month, pub.date.day) if pub.date else None
    url = issue_url(
        meta=meta, rel_path=rel_path, base_url=spec.base_url, generator=generator,
        title=title, date_parts=date_parts, pattern=spec.permalink,
    )
    description = ""
    for key in ("description", "excerpt", "summary"):
        value = meta.get(key) or meta.get(key.capitalize())
        if isinstance(value, str) and value.strip():
            description = value.strip()
            break
    sections = split_sections(body, generator, warnings, tokens) if tokens is not None else []
    if pub.published and not sections:
        pub = Publication(pub.date, False, _nothing_to_index(text, split.format, split.body), None)
    image = cover_image(meta, spec.base_url)
    return Issue(
        source=spec.name, path=rel_path, title=title, url=url, date=pub.date, publication=pub,
        sections=sections, description=description, image=image, generator=generator, warnings=warnings,
    )


def _parse_entry(raw: bytes, rel_path: str, spec: SourceSpec, now: dt.datetime) -> Issue:
    """A feed entry: published by being in the feed; an export's post as the export says (a draft, scheduled);
    held back too when it shows no text."""
    e = parse_entry(raw, rel_path)
    if e.held and not (e.publish_at is not None and e.publish_at <= now):
        pub = Publication(e.date, False, e.held, e.publish_at)
    elif not e.sections:
        pub = Publication(e.date, False, "the entry has no text to index", None)
    else:
        pub = Publication(e.date, True, "", None)
    return Issue(source=spec.name, path=rel_path, title=e.title, url=e.url, date=e.date, publication=pub,
                 sections=e.sections, description=e.description, image=e.image, generator="feed", warnings=e.warnings,
                 access=e.access)


def _nothing_to_index(text: str, fmt: str, body: str) -> str:
    """Why a published issue has no text to index: it is held back with this reason."""
    if not text.strip():
        return "empty file: nothing to index"
    if not body.strip():
        return "only front matter, no text to index" if fmt != "none" else "empty file: nothing to index"
    return "no text a reader would see (only HTML comments, markup or empty headings)"


def read_issue(folder: Path, rel_path: str, spec: SourceSpec, now: dt.datetime) -> Issue:
    try:
        raw = (folder / rel_path).read_bytes()
    except OSError as exc:
        raise IssueReadError(f"cannot read the file ({exc.strerror or exc})") from exc
    return parse_issue(raw, rel_path, spec, now)
