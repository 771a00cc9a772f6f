"""Split an issue file into its metadata and Markdown body, recovering damaged front matter.

Handles YAML (``---``), TOML (``+++``) and JSON (``{ … }``) front matter, Pelican
``Key: value`` header lines, and none. Recovers from the damage seen in real archives:
a code fence wrapped around the whole file, the closing ``---`` glued to the first
heading, and YAML that does not parse (read line by line as ``key: value``).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import yaml
from frontmatter.default_handlers import JSONHandler, SafeLoader

from index.errors import BadIssue
from index.reading.publication import InvalidDate


class FrontMatterError(BadIssue, ValueError):
    """The front matter cannot be read at all (nested too deeply); the message says why."""


_TOO_DEEP = "front matter nested too deeply to read"
_SELF_REFERENCE = "front matter refers to itself (a YAML alias inside its own anchor)"
# Values that YAML aliases may add to front matter beyond what is written. Real front matter reuses an
# anchor a few times (tens of values); a "billion laughs" file of 400 bytes expands to 490 million, which
# took 100 s and 10 GB to copy before this limit.
ALIAS_VALUES = 100_000


class _Loader(SafeLoader):  # type: ignore[misc, valid-type]
    """python-frontmatter's YAML loader, except that a date naming no real day is kept as its text."""


def _timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return InvalidDate(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


@dataclass
class Split:
    """Metadata and body of one file, with what was wrong with it."""

    meta: dict[str, Any]
    body: str
    format: str  # "yaml", "toml", "json", "pelican" or "none"
    warnings: list[str] = field(default_factory=list)


_WRAPPING_FENCE = re.compile(r"\A[ \t]*(`{3,}|~{3,})[ \t]*(?:markdown|md)?[ \t]*\n(?=\s*(?:---|\+\+\+)\s*\n)", re.IGNORECASE)
_PELICAN_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*)$")
_PELICAN_KEYS = {
    "title", "date", "modified", "category", "tags", "slug", "author", "authors", "summary",
    "lang", "translation", "status", "template", "save_as", "url", "number", "keywords",
}
_SIMPLE_YAML_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)$")


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> Split:
    """Split ``text`` (already decoded, newlines normalised) into metadata and body."""
    warnings: list[str] = []
    fence = _WRAPPING_FENCE.match(text)
    if fence:
        warnings.append(f"a {fence.group(1)} code fence wraps the file; read the issue inside it")
        text = text[fence.end() :]
        closing = re.compile(rf"\n[ \t]*{re.escape(fence.group(1))}[ \t]*\n?\Z")
        text = closing.sub("\n", text.rstrip(" \t") if text.endswith((" ", "\t")) else text)
    stripped = text.lstrip("\n")
    if stripped.startswith("---") and re.match(r"---[ \t]*\n", stripped):
        return _delimited(stripped, "---", "yaml", warnings)
    if stripped.startswith("+++") and re.match(r"\+\+\+[ \t]*\n", stripped):
        return _delimited(stripped, "+++", "toml", warnings)
    if stripped.startswith("{"):
        split = _json(stripped, warnings)
        if split is not None:
            return split
    pelican = _pelican(text, warnings)
    if pelican is not None:
        return pelican
    return Split({}, text, "none", warnings)


def _delimited(text: str, mark: str, fmt: str, warnings: list[str]) -> Split:
    lines = text.split("\n")
    end = None
    glued_rest = ""
    for i in range(1, len(lines)):
        line = lines[i]
        if line.rstrip() == mark:
            end = i
            break
        if line.startswith(mark) and line[len(mark) :].lstrip().startswith("#"):
            # closing delimiter glued to the first heading: "---### Top News"
            end = i
            glued_rest = line[len(mark) :].lstrip()
            warnings.append(f"the closing {mark} is glued to the next line ({_short(line)!r}); split them")
            break
    if end is None:
        warnings.append(f"front matter opened with {mark} is never closed; read the file as body only")
        return Split({}, text[len(mark) :].lstrip("\n"), "none", warnings)
    raw = "\n".join(lines[1:end])
    body_lines = ([glued_rest] if glued_rest else []) + lines[end + 1 :]
    body = "\n".join(body_lines)
    meta = _load_yaml(raw, warnings) if fmt == "yaml" else _load_toml(raw, warnings)
    return Split(meta, body, fmt, warnings)


def _load_yaml(raw: str, warnings: list[str]) -> dict[str, Any]:
    try:
        data = yaml.load(raw, Loader=_Loader)  # a safe loader
        _check_expansion(data)
    except RecursionError:
        raise FrontMatterError(_TOO_DEEP) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in problem:  # libyaml's own limit; pure-Python PyYAML hits RecursionError
            raise FrontMatterError(_TOO_DEEP) from None
        recovered = _loose_key_values(raw)
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 2}" if where is not None else ""
        warnings.append(
            f"front matter is not valid YAML{at} ({problem}); recovered {len(recovered)} keys line by line"
        )
        return recovered
    if data is None:
        return {}
    if not isinstance(data, dict):
        warnings.append(f"front matter is a YAML {type(data).__name__}, not a mapping; ignored")
        return {}
    return data


def _load_toml(raw: str, warnings: list[str]) -> dict[str, Any]:
    try:
        return tomllib.loads(raw)
    except RecursionError:
        raise FrontMatterError(_TOO_DEEP) from None
    except tomllib.TOMLDecodeError as exc:
        recovered = {k: v for k, v in _loose_key_values(raw.replace(" = ", ": ")).items()}
        warnings.append(f"front matter is not valid TOML ({exc}); recovered {len(recovered)} keys line by line")
        return recovered


def _loose_key_values(raw: str) -> dict[str, Any]:
    """Read top-level ``key: value`` lines of damaged front matter, one at a time."""
    out: dict[str, Any] = {}
    for line in raw.split("\n"):
        m = _SIMPLE_YAML_LINE.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if not value:
            continue
        try:
            parsed = yaml.load(f"v: {value}", Loader=_Loader)["v"]  # a safe loader
        except (yaml.YAMLError, RecursionError, TypeError):
            parsed = _unquote(value)
        out[key] = parsed
    _check_expansion(out)  # one line can hold anchors and aliases too
    return out


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _check_expansion(data: Any) -> None:
    """Raise FrontMatterError when YAML aliases make ``data`` far larger than it is written.

    PyYAML shares an aliased value instead of copying it, so loading stays cheap, but whatever walks the
    front matter (copying it, printing a value) walks every repeat. This walk visits each shared value
    once: its time is that of the text as written.
    """
    sizes: dict[int, int] = {}  # id of a container -> values in it, aliases expanded
    open_: set[int] = set()  # containers being counted: meeting one again is a cycle
    written = 0  # values as written: each container once, with its direct members

    def size(value: Any) -> int:
        nonlocal written
        if not isinstance(value, _CONTAINERS):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise FrontMatterError(_SELF_REFERENCE)
        open_.add(key)
        members = [*value.keys(), *value.values()] if isinstance(value, dict) else list(value)
        written += 1 + len(members)
        sizes[key] = 1 + sum(size(m) for m in members)
        open_.discard(key)
        return sizes[key]

    expanded = size(data)
    if expanded - written > ALIAS_VALUES:
        raise FrontMatterError(
            f"front matter expands too far (YAML aliases): its aliases repeat {expanded - written:,} values,"
            f" the limit is {ALIAS_VALUES:,}; write the values out or use fewer aliases"
        )


def _unquote(value: str) -> str:
    """A damaged value without its quotes: both when it has both, the opening one when it is never closed."""
    if value[:1] not in ("'", '"'):
        return value
    if len(value) >= 2 and value[-1] == value[0]:
        return value[1:-1]
    return value[1:]  # 'title: "Broken' is the title Broken: the quote was never closed


def _json(text: str, warnings: list[str]) -> Split | None:
    decoder = json.JSONDecoder()
    try:
        data, end = decoder.raw_decode(text)
    except RecursionError:
        raise FrontMatterError(_TOO_DEEP) from None
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    JSONHandler()  # the same reader python-frontmatter uses; raw_decode finds where it ends
    return Split(data, text[end:].lstrip("\n"), "json", warnings)


def _pelican(text: str, warnings: list[str]) -> Split | None:
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _PELICAN_LINE.match(line)
        if m and (m.group(1).lower() in _PELICAN_KEYS or meta):
            meta[m.group(1).lower()] = m.group(2).strip()
            i += 1
            continue
        if not line.strip() and meta:
            # a blank line inside the header: keep reading if a known key follows
            nxt = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
            if nxt is not None:
                m2 = _PELICAN_LINE.match(lines[nxt])
                if m2 and m2.group(1).lower() in _PELICAN_KEYS and m2.group(1).lower() not in meta:
                    warnings.append(f"a blank line splits the metadata header before {m2.group(1)!r}")
                    i = nxt
                    continue
        break
    if not meta or ("title" not in meta and "date" not in meta):
        return None
    return Split(meta, "\n".join(lines[i:]).lstrip("\n"), "pelican", warnings)


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
