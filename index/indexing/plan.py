"""What a reindex must do for one source: which files are new, changed or unchanged, which are gone.

Reads each file's bytes once (the hash decides; nothing is parsed here). A file that is not a regular
file (a FIFO, a device behind a symlink), is over the size limit or whose name is not UTF-8 fails alone;
a file that failed before with the same bytes is reported again without being read again (``known_failed``).
"""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from index.indexing.summary import FileReport, ReindexSummary
from index.reading.feeds import feed_files
from index.reading.files import bad_name, find_issue_files
from index.reading.issue import IssueReadError, SourceSpec, content_hash
from index.store.catalog import IssueRow

Todo = tuple[SourceSpec, str, bytes, str, str]  # spec, path, bytes, hash, kind (new | changed | reembedded)


def _read(path: Path, spec: SourceSpec) -> bytes:
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise IssueReadError("not a regular file (a pipe, a device or a socket); skipped")
    if st.st_size > spec.max_file_bytes:
        raise IssueReadError(f"too large ({st.st_size:,} bytes; the limit is {spec.max_file_bytes:,})")
    with path.open("rb") as f:
        raw = f.read(spec.max_file_bytes + 1)  # a file that grows while it is read stays bounded
    if len(raw) > spec.max_file_bytes:
        raise IssueReadError(f"too large (over {spec.max_file_bytes:,} bytes)")
    return raw


def missing_folder(path: Path) -> str | None:
    """Why a folder source cannot be read at all (it is not there, or not a folder); None when it can."""
    if path.is_dir():
        return None
    return f"source folder {path} {'is not a folder' if path.exists() else 'does not exist'}"


def plan_source(spec: SourceSpec, rows: dict[str, IssueRow], now: dt.datetime, full: bool, summary: ReindexSummary,
                todo: list[Todo], removals: list[tuple[str, str]],
                known_failed: dict[tuple[str, str], tuple[str, str]]) -> None:
    if spec.kind == "feed":
        found, missing, problems = feed_files(spec.path)
        summary.failed.extend(FileReport(spec.name, "", p) for p in problems)
        if found is None:
            summary.missing.append(FileReport(spec.name, "", missing))
            return
        files = found
    else:
        missing = missing_folder(spec.path)
        if missing is not None:
            if spec.fetched_from and not spec.path.exists():
                missing = f"the {spec.fetched_from} repository has not been cloned yet (the fetch error is logged)"
            summary.missing.append(FileReport(spec.name, "", f"{missing}; its indexed issues are kept"))
            return
        files = find_issue_files(spec.path, spec.exclude, section_pages=spec.section_pages)
    for rel in files:
        bad = bad_name(rel)
        if bad is not None:
            summary.failed.append(FileReport(spec.name, *bad))
            continue
        try:
            raw = _read(spec.path / rel, spec)
        except (OSError, IssueReadError) as exc:
            reason = str(exc) if isinstance(exc, IssueReadError) else f"cannot read the file ({exc.strerror or exc})"
            summary.failed.append(FileReport(spec.name, rel, reason))
            continue
        file_hash = content_hash(raw, spec)
        failed = known_failed.get((spec.name, rel))
        if failed is not None and failed[0] == file_hash and not full:
            summary.failed.append(FileReport(spec.name, rel, failed[1]))  # unchanged since it failed: not parsed again
            continue
        row = rows.get(rel)
        if row is not None and row.hash == file_hash and not full:
            if row.status == "indexed":
                summary.unchanged += 1
                continue
            if row.status == "held" and (row.publish_at is None or dt.datetime.fromisoformat(row.publish_at) > now):
                summary.held_back.append(FileReport(spec.name, rel, row.reason))
                continue
        kind = "new" if row is None or row.status != "indexed" else "changed" if row.hash != file_hash else "reembedded"
        todo.append((spec, rel, raw, file_hash, kind))
    present = set(files)
    removals.extend((spec.name, p) for p in rows if p not in present)
