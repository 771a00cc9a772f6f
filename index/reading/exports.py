"""A newsletter platform's export of its whole archive, stored as feed entries: Substack and Ghost.

- **Substack** ("Export your data"): ``posts.csv`` with a row per post (``post_id`` is
  ``<number>.<slug>``, ``is_published``, ``post_date``, ``audience``, ``title``, ``subtitle``) and
  ``posts/<post_id>.html`` with its body; a folder or the ``.zip`` as downloaded. The post's
  address is ``base_url/p/<slug>``, which is also the GUID of the post in Substack's feed.
- **Ghost** (Labs → Export): one JSON file, ``{"db": [{"data": {"posts": [...]}}]}``; a post's
  ``id`` is also its GUID in Ghost's feed, its address ``base_url/<slug>/``.

Each post is written to the same entries folder a feed source uses, under the same identity a
feed gives it, so a feed and an export of one newsletter make one archive: an entry the feed
has already stored is left to the feed (it is the fresher copy), except that a paid-only post
read with ``include_paid`` replaces the feed's preview of it. Drafts are stored held back with
their reason, a scheduled post until its date; paid-only posts are left out and named, unless
``include_paid``: then they are stored whole, marked paid (``access``), for the bot to quote to
members only.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.errors import BadIssue
from index.reading.entries import ENTRY_SUFFIX, ENTRY_VERSION, plain_summary
from index.reading.paywall import PAID, PREVIEW
from index.reading.syncstate import read_state, write_state

log = logging.getLogger(__name__)


class ExportError(BadIssue):
    """The export cannot be read; the message names the file and the reason."""


@dataclass
class Post:
    identity: str
    record: dict[str, Any]


def _date(value: str, where: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        d = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(f"{where}: {value!r} is not an ISO date") from None
    return (d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def _record(identity: str, link: str, title: str, published: str, html: str, summary: str, image: str,
            held: str = "", publish_at: str = "", paid: bool = False) -> dict[str, Any]:
    return {"v": ENTRY_VERSION, "id": identity, "link": link, "title": title.strip(), "published": published,
            "author": "", "summary": plain_summary(summary), "image": image, "html": html,
            "origin": "export", **({"held": held, "publish_at": publish_at} if held else {}),
            **({"access": PAID} if paid else {})}


class _Files:
    """The export's files, from a folder or a zip, by their path relative to the folder holding posts.csv."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path) if path.is_file() and zipfile.is_zipfile(path) else None
        self._prefix = ""
        if self._zip is not None:
            csvs = sorted((n for n in self._zip.namelist() if n.rsplit("/", 1)[-1] == "posts.csv"), key=len)
            if not csvs:
                raise ExportError(f"{path}: the zip holds no posts.csv (is it a Substack export?)")
            self._prefix = csvs[0][: -len("posts.csv")]

    def read(self, rel: str) -> bytes | None:
        if self._zip is not None:
            try:
                return self._zip.read(self._prefix + rel)
            except KeyError:
                return None
        try:
            return (self.path / rel).read_bytes()
        except OSError:
            return None


def substack_posts(path: Path, base_url: str, now: dt.datetime, include_paid: bool = False
                   ) -> tuple[list[Post], list[str]]:
    """The posts of a Substack export (folder or zip), and the ones left out, each with its reason."""
    if not base_url:
        raise ExportError(f"{path}: a Substack export needs the source's base_url (the newsletter's address,"
                          " such as https://example.substack.com) to link to its posts")
    files = _Files(path)
    raw = files.read("posts.csv")
    if raw is None:
        raise ExportError(f"{path}: no posts.csv in the export")
    posts: list[Post] = []
    skipped: list[str] = []
    for n, row in enumerate(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))), 2):
        post_id = (row.get("post_id") or "").strip()
        if not post_id:
            skipped.append(f"posts.csv line {n}: no post_id")
            continue
        slug = post_id.split(".", 1)[1] if "." in post_id else post_id
        link = f"{base_url.rstrip('/')}/p/{slug}"
        paid = (row.get("audience") or "everyone").strip() not in ("everyone", "")
        if paid and not include_paid:
            skipped.append(f"{post_id}: paid-only post (audience={row['audience']}); not indexed")
            continue
        body = files.read(f"posts/{post_id}.html")
        if body is None:
            skipped.append(f"{post_id}: posts/{post_id}.html is missing from the export")
            continue
        published = _date(row.get("post_date") or "", f"posts.csv line {n}, post_date")
        held = "" if (row.get("is_published") or "").strip().lower() == "true" else "draft (is_published is false in posts.csv)"
        title = row.get("title") or ""
        if not held and not title.strip():
            held = "no title in posts.csv"
        posts.append(Post(link, _record(link, link, title, published, body.decode("utf-8", "replace"),
                                        row.get("subtitle") or "", "", held, paid=paid)))
    return posts, skipped


def ghost_posts(path: Path, base_url: str, now: dt.datetime, include_paid: bool = False
                ) -> tuple[list[Post], list[str]]:
    """The posts of a Ghost JSON export, and the ones left out, each with its reason."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        db = data["db"][0]["data"] if "db" in data else data["data"]
        items = db["posts"]
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: not a readable Ghost JSON export ({exc})") from None
    except (KeyError, IndexError, TypeError):
        raise ExportError(f"{path}: not a Ghost export (no db[0].data.posts)") from None
    posts: list[Post] = []
    skipped: list[str] = []
    for n, p in enumerate(items):
        if not isinstance(p, dict) or not p.get("id"):
            skipped.append(f"post {n}: no id")
            continue
        label = f"{p.get('slug') or p['id']}"
        if p.get("type", "post") != "post":
            continue  # pages are not issues
        paid = p.get("visibility", "public") not in ("public", None)
        if paid and not include_paid:
            skipped.append(f"{label}: {p.get('visibility')}-only post; not indexed")
            continue
        if not p.get("html"):
            skipped.append(f"{label}: no HTML in the export (only the editor's document)")
            continue
        link = f"{base_url.rstrip('/')}/{p.get('slug')}/" if base_url and p.get("slug") else str(p.get("url") or "")
        published = _date(str(p.get("published_at") or ""), f"{label}: published_at")
        status = p.get("status") or "draft"
        held, at = "", ""
        if status == "scheduled" or (published and dt.datetime.fromisoformat(published) > now):
            held, at = f"scheduled for {published}", published
        elif status != "published":
            held = f"{status} (status in the Ghost export)"
        summary = p.get("custom_excerpt") or p.get("excerpt") or ""
        posts.append(Post(str(p["id"]), _record(str(p["id"]), link, str(p.get("title") or ""), published,
                                                str(p["html"]), summary, str(p.get("feature_image") or ""), held, at,
                                                paid=paid)))
    return posts, skipped


def read_export(path: Path, base_url: str, now: dt.datetime, include_paid: bool = False
                ) -> tuple[list[Post], list[str]]:
    """Substack (a folder with posts.csv, or its zip) or Ghost (a .json file); paid-only posts too, marked paid,
    with ``include_paid``."""
    if not path.exists():
        raise ExportError(f"export {path} does not exist")
    if path.is_file() and path.suffix.lower() == ".json":
        return ghost_posts(path, base_url, now, include_paid)
    return substack_posts(path, base_url, now, include_paid)


def _access_of(data: bytes) -> tuple[bool, str]:
    """(stored from an export, its access) of a stored entry's bytes."""
    try:
        record = json.loads(data)
    except ValueError:
        return False, ""
    return record.get("origin") == "export", str(record.get("access") or "")


def export_paid_copy(data: bytes) -> bool:
    """A stored entry is an export's whole copy of a paid-only post (the feed's preview does not replace it)."""
    return _access_of(data) == (True, PAID)


def store_posts(folder: Path, posts: list[Post], key: Callable[[str], str]) -> int:
    """Write the posts, except where the feed stored the entry already; returns how many files changed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for post in posts:
        path = folder / f"{key(post.identity)}{ENTRY_SUFFIX}"
        data = json.dumps(post.record, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        try:
            old = path.read_bytes()
        except OSError:
            old = None
        if old == data:
            continue
        if old is not None and b'"origin": "export"' not in old and not (
                post.record.get("access") == PAID and _access_of(old)[1] == PREVIEW):
            continue  # stored from the feed: the feed's copy stands (but a whole paid post replaces its preview)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written += 1
    return written


def drop_paid(folder: Path) -> int:
    """Remove the paid-only posts an export stored while ``include_paid`` was on; returns how many."""
    gone = 0
    for path in folder.glob(f"*{ENTRY_SUFFIX}") if folder.is_dir() else ():
        if export_paid_copy(path.read_bytes()):
            path.unlink()
            gone += 1
    return gone


def _signature(path: Path, include_paid: bool) -> str:
    """Changes when the export does (the size and time of the file, or of every file in the folder) or
    ``include_paid`` does."""
    h = hashlib.sha256(b"paid\n" if include_paid else b"")
    files = [path] if path.is_file() else sorted(q for q in path.rglob("*") if q.is_file())
    for q in files:
        st = q.stat()
        h.update(f"{q}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


@dataclass
class ExportState:
    signature: str = ""
    read_at: str = ""  # when the export was last read successfully
    posts: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str = ""


def export_state(root: Path) -> ExportState:
    return read_state(root, ExportState, "export.json")


def sync_export(root: Path, path: Path, base_url: str, key: Callable[[str], str], *, force: bool = False,
                include_paid: bool = False) -> ExportState:
    """Store the export's posts in ``root/entries`` when the export changed (or ``force``); its paid-only posts
    too with ``include_paid``, and without it none (those stored before are removed)."""
    state = export_state(root)
    try:
        sig = _signature(path, include_paid) if path.exists() else ""
        if sig and sig == state.signature and not force and not state.error:
            return state
        posts, skipped = read_export(path, base_url, dt.datetime.now(dt.timezone.utc), include_paid)
        written = store_posts(root / "entries", posts, key)
        if not include_paid and (gone := drop_paid(root / "entries")):
            log.info("export %s: %d paid-only posts removed (include_paid is off)", path, gone)
    except (ExportError, OSError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error) as exc:
        state.error = str(exc) if isinstance(exc, ExportError) else f"export {path} cannot be read ({exc})"
        log.warning("%s", state.error)
    else:
        state = ExportState(sig, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), len(posts), skipped)
        if written:
            log.info("export %s: %d posts new or changed", path, written)
    write_state(root, state, "export.json")
    return state
