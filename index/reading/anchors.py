"""Heading anchors and issue URLs, made the way each static site generator makes them."""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from typing import Any

GENERATORS = ("hugo", "jekyll", "zola", "pelican")


def anchor_hugo(text: str) -> str:
    """Goldmark's default ("github") heading IDs, as Hugo publishes them."""
    out = []
    for ch in text.lower():
        if ch.isalnum() or ch in "_-":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def anchor_jekyll(text: str) -> str:
    """kramdown's GFM parser IDs, Jekyll's default."""
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchor_zola(text: str) -> str:
    """Zola's default slugified IDs (ASCII, dashes)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def anchor_pelican(text: str) -> str:
    """Python-Markdown's ``toc`` slugify, which Pelican sites use for heading IDs."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"[^\w\s-]", "", ascii_text).strip().lower()
    return re.sub(r"[-\s]+", "-", ascii_text)


_ANCHORS: dict[str, Callable[[str], str]] = {
    "hugo": anchor_hugo,
    "jekyll": anchor_jekyll,
    "zola": anchor_zola,
    "pelican": anchor_pelican,
}
_EMPTY_ANCHOR = {"hugo": "heading", "jekyll": "section", "zola": "", "pelican": "_"}
_REPEAT_SEP = {"hugo": "-", "jekyll": "-", "zola": "-", "pelican": "_"}


class AnchorMaker:
    """Makes a page's heading anchors in order, numbering repeats as the generator does."""

    def __init__(self, generator: str) -> None:
        self._slug = _ANCHORS[generator]
        self._empty = _EMPTY_ANCHOR[generator]
        self._sep = _REPEAT_SEP[generator]
        self._seen: set[str] = set()
        self._next: dict[str, int] = {}  # the first repeat number not yet tried for a base

    def make(self, text: str, explicit: str | None = None) -> str:
        if explicit:
            self._seen.add(explicit)
            return explicit
        base = self._slug(text) or self._empty
        anchor = base
        n = self._next.get(base, 1) - 1  # numbers below were taken already: anchors are never freed
        while anchor in self._seen:
            n += 1
            anchor = f"{base}{self._sep}{n}"
        self._next[base] = n + 1
        self._seen.add(anchor)
        return anchor


def guess_generator(front_matter_format: str, rel_path: str, meta: dict[str, Any]) -> str:
    """Which generator publishes this file, from the front matter's form and the file's name."""
    if front_matter_format == "pelican":
        return "pelican"
    if front_matter_format == "toml":
        return "zola" if "extra" in meta or rel_path.endswith("index.md") else "hugo"
    name = rel_path.rsplit("/", 1)[-1]
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}-", name) and ("layout" in meta or "permalink" in meta or "categories" in meta):
        return "jekyll"
    if "layout" in meta or "permalink" in meta:
        return "jekyll"
    return "hugo"


def _join(base_url: str, path: str) -> str:
    if not base_url:
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe="/:%#?=&@!$'()*+,;~-._")


def issue_url(
    *,
    meta: dict[str, Any],
    rel_path: str,
    base_url: str,
    generator: str,
    title: str,
    date_parts: tuple[int, int, int] | None,
    pattern: str = "",
) -> str:
    """The issue's public address: an explicit URL in the metadata, else the generator's default."""
    lowered = {str(k).lower(): v for k, v in meta.items()}
    for key in ("canonicalurl", "canonical_url", "canonical", "url", "permalink"):
        value = lowered.get(key)
        if isinstance(value, str) and value.strip():
            value = value.strip()
            if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
                return value
            return _join(base_url, _quote_path(value))
    stem_path = re.sub(r"(?i)\.(md|markdown|mdown|mkd)(\s*\.(md|markdown))?\s*$", "", rel_path).strip()
    folder, _, stem = stem_path.rpartition("/")
    slug_value = lowered.get("slug")
    slug = str(slug_value).strip() if isinstance(slug_value, str) and slug_value.strip() else None
    year, month, day = (f"{date_parts[0]:04d}", f"{date_parts[1]:02d}", f"{date_parts[2]:02d}") if date_parts else ("", "", "")
    if pattern:
        fields = {
            "path": stem_path, "dir": folder, "stem": stem, "slug": slug or anchor_pelican(title) or stem,
            "year": year, "month": month, "day": day,
        }
        return _join(base_url, _quote_path(pattern.format(**fields)))
    if generator == "jekyll":
        name = re.sub(r"^\d{4}-\d{1,2}-\d{1,2}-", "", stem)
        cats = lowered.get("categories")
        cat_list = cats if isinstance(cats, list) else (str(cats).split() if cats else [])
        prefix = "/".join(str(c) for c in cat_list)
        parts = [p for p in (prefix, year, month, day, (slug or name) + ".html") if p]
        return _join(base_url, _quote_path("/".join(parts)))
    if generator == "pelican":
        return _join(base_url, _quote_path((slug or anchor_pelican(title) or stem) + ".html"))
    # Hugo and Zola: a page bundle (index.md) is its folder; otherwise folder/stem/
    if stem in ("index", "_index"):
        page = folder
    else:
        page = f"{folder}/{slug or stem}" if folder else (slug or stem)
    if generator == "zola":
        page = "/".join(anchor_zola(p) or p for p in page.split("/"))
    return _join(base_url, _quote_path(page + "/" if page else ""))
