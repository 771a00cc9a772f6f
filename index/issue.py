"""Read one issue file: decode it, split its metadata, decide publication, title and URL, cut sections."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from index.htmlclean import clean_markdown
from index.metadata import normalise_newlines, split_front_matter
from index.publication import Publication, publication
from index.sections import Section, first_h1, split_sections
from index.urls import GENERATORS, guess_generator, issue_url

# Bump when parsing or chunking changes what is stored: every issue is then re-read.
PARSER_VERSION = "2"


class IssueReadError(Exception):
    """The file cannot be read at all; the message says why."""


@dataclass(frozen=True)
class SourceSpec:
    """Where a newsletter's issues live and how its site publishes them."""

    name: str
    path: Path
    base_url: str = ""
    exclude: tuple[str, ...] = ()
    generator: str = "auto"  # "auto" or one of index.urls.GENERATORS
    permalink: str = ""  # optional pattern such as "/blog/{year}/{month}/{slug}/"
    max_file_bytes: int = 5_000_000
    section_pages: bool = False  # index Hugo/Zola _index.md section pages too

    def fingerprint(self) -> str:
        """What, besides the file's bytes, changes how its issues are stored."""
        return "\0".join([self.base_url, self.generator, self.permalink])


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
        return raw.decode("utf-8-sig"), warnings
    except UnicodeDecodeError as exc:
        warnings.append(f"not UTF-8 (byte {exc.start}: {exc.reason}); read as Windows-1252")
        return raw.decode("cp1252", errors="replace"), warnings


def content_hash(raw: bytes, spec: SourceSpec) -> str:
    h = hashlib.sha256()
    h.update(PARSER_VERSION.encode())
    h.update(b"\0")
    h.update(spec.fingerprint().encode())
    h.update(b"\0")
    h.update(raw)
    return h.hexdigest()


def _title(meta: dict[str, object], body: str, rel_path: str) -> str:
    for key in ("title", "Title"):
        value = meta.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            return str(value).strip()
    h1 = first_h1(body)
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
    """Parse an issue's bytes. Raises IssueReadError when nothing can be read."""
    if len(raw) > spec.max_file_bytes:
        raise IssueReadError(f"too large ({len(raw):,} bytes; the limit is {spec.max_file_bytes:,})")
    text, warnings = decode(raw, rel_path)
    split = split_front_matter(normalise_newlines(text))
    warnings.extend(split.warnings)
    meta = split.meta
    name = rel_path.rsplit("/", 1)[-1]
    pub = publication(meta, name, now)
    generator = spec.generator if spec.generator in GENERATORS else guess_generator(split.format, rel_path, meta)
    body = clean_markdown(split.body)
    title = _title(meta, body, rel_path)
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
    sections = split_sections(body, generator) if pub.published else []
    image = cover_image(meta, spec.base_url)
    return Issue(
        source=spec.name, path=rel_path, title=title, url=url, date=pub.date, publication=pub,
        sections=sections, description=description, image=image, generator=generator, warnings=warnings,
    )


def read_issue(folder: Path, rel_path: str, spec: SourceSpec, now: dt.datetime) -> Issue:
    try:
        raw = (folder / rel_path).read_bytes()
    except OSError as exc:
        raise IssueReadError(f"cannot read the file ({exc.strerror or exc})") from exc
    return parse_issue(raw, rel_path, spec, now)
