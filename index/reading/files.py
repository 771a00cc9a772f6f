"""Find the issue files in a source folder."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

# .md, .Md, .markdown, and the odd ".md.md" or "name.md .md" that real archives contain.
_MARKDOWN_NAME = re.compile(r"(?i)\.(md|markdown|mdown|mkd)\s*$")


def is_markdown(name: str) -> bool:
    return bool(_MARKDOWN_NAME.search(name))


def excluded(rel_path: str, patterns: tuple[str, ...]) -> bool:
    name = rel_path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel_path, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def bad_name(rel_path: str) -> tuple[str, str] | None:
    """``(printable path, reason)`` when a found path is not valid UTF-8, else None.

    ``os.walk`` keeps such bytes as lone surrogates ("\\udce9"), which nothing downstream can encode (the
    catalog, chunk ids, URLs): the file is reported under its path with those bytes escaped ("\\xe9").
    """
    if _utf8(rel_path):
        return None
    folder, _, name = rel_path.rpartition("/")
    if not _utf8(name):
        return _shown(rel_path), "its file name is not valid UTF-8; rename it"
    return _shown(rel_path), f"the name of its folder {_shown(folder)} is not valid UTF-8; rename it"


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(text: str) -> str:
    """``text`` as the bytes the file system holds, those that are not UTF-8 written as ``\\xNN``."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def is_section_page(name: str) -> bool:
    """Hugo's ``_index.md`` (and Zola's) lists a section's pages: it is not an issue."""
    return bool(re.match(r"(?i)^_index\.", name))


def find_issue_files(folder: Path, exclude: tuple[str, ...] = (), *, section_pages: bool = False) -> list[str]:
    """Relative POSIX paths of the Markdown files under ``folder``, sorted; hidden folders skipped.

    Section pages (``_index.md``) are left out unless ``section_pages``.
    """
    found: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) or d == "_posts")
        rel_root = Path(root).relative_to(folder).as_posix()
        for name in files:
            if name.startswith(".") or not is_markdown(name) or (is_section_page(name) and not section_pages):
                continue
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            if not excluded(rel, exclude):
                found.append(rel)
    return sorted(found)
