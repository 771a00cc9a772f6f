"""The buttons under an answer, as plain data within Discord's limits. Pure: no network, no client.

Row 1 holds the answer's own buttons ("More results", "Share to channel", 👍 and 👎), row 2 link
buttons to the cited issues. Each button that does something names what it needs in its
``custom_id`` (``bi:<action>:<answer id>``, the id into the answer store), so it keeps working after
a restart; the templates here are the ones the bot registers.

https://discord.com/developers/docs/components/reference#button and #action-row: at most 5 action
rows, 5 buttons a row; a label at most 80 characters, a ``custom_id`` at most 100 and unique in the
message, a link button's ``url`` at most 512 (style 5, no ``custom_id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.discord_text import clip, link
from index.search.retriever import Answer

ROWS_MAX = 5
BUTTONS_PER_ROW = 5
LABEL_MAX = 80
CUSTOM_ID_MAX = 100
URL_MAX = 512
ISSUE_LINKS_MAX = BUTTONS_PER_ROW  # one row of them

PRIMARY, SECONDARY, LINK = 1, 2, 5

MORE_TEMPLATE = r"bi:more:(?P<answer>[0-9]{1,19})"
SHARE_TEMPLATE = r"bi:share:(?P<answer>[0-9]{1,19})"
UP_TEMPLATE = r"bi:up:(?P<answer>[0-9]{1,19})"
DOWN_TEMPLATE = r"bi:down:(?P<answer>[0-9]{1,19})"
UP_LABEL, DOWN_LABEL = "👍", "👎"


def more_id(answer_id: int) -> str:
    return f"bi:more:{answer_id}"


def share_id(answer_id: int) -> str:
    return f"bi:share:{answer_id}"


def up_id(answer_id: int) -> str:
    return f"bi:up:{answer_id}"


def down_id(answer_id: int) -> str:
    return f"bi:down:{answer_id}"


@dataclass(frozen=True)
class ButtonSpec:
    label: str
    style: int
    custom_id: str | None = None
    url: str | None = None
    disabled: bool = False


def issue_url(url: str) -> str:
    """An issue's own page: a section's deep link without its fragment."""
    return url.split("#", 1)[0]


def issue_links(answer: Answer) -> list[ButtonSpec]:
    """A link button to each cited issue, once each, in the order they are cited; only links Discord takes."""
    out: list[ButtonSpec] = []
    seen: set[str] = set()
    for r in answer.results:
        url = link(issue_url(r.url))
        if url is None or len(url) > URL_MAX or url in seen:
            continue
        seen.add(url)
        label = clip(f"{r.title} ({r.date})" if r.date else r.title, LABEL_MAX) or "Issue"
        out.append(ButtonSpec(label=label, style=LINK, url=url))
        if len(out) == ISSUE_LINKS_MAX:
            break
    return out


def answer_buttons(answer: Answer, answer_id: int | None, *, private: bool, paged: bool = False,
                   shared: bool = False, votes: bool = False) -> list[list[ButtonSpec]]:
    """The rows of buttons under ``answer``; ``answer_id`` None when it has no record (its buttons could not work).

    "More results" only when a next page exists (shown disabled on the last page of an answer that was paged);
    "Share to channel" only on a private answer (disabled once shared); 👍 and 👎 when ``votes`` (the answer's
    question is recorded); issue links when the answer cites any.
    """
    own: list[ButtonSpec] = []
    if answer_id is not None and answer.results:
        if answer.more:
            own.append(ButtonSpec("More results", PRIMARY, custom_id=more_id(answer_id)))
        elif paged:
            own.append(ButtonSpec("No more results", SECONDARY, custom_id=more_id(answer_id), disabled=True))
        if private:
            own.append(ButtonSpec("Shared" if shared else "Share to channel", SECONDARY, custom_id=share_id(answer_id),
                                  disabled=shared))
        if votes:
            own += [ButtonSpec(UP_LABEL, SECONDARY, custom_id=up_id(answer_id)),
                    ButtonSpec(DOWN_LABEL, SECONDARY, custom_id=down_id(answer_id))]
    rows = [own] if own else []
    links = issue_links(answer)
    if links:
        rows.append(links)
    return rows


def shared_rows(rows: list[list[ButtonSpec]]) -> list[list[ButtonSpec]]:
    """``rows`` with the share button disabled and saying so: the private answer once shared."""
    return [[ButtonSpec("Shared", SECONDARY, custom_id=b.custom_id, disabled=True)
             if (b.custom_id or "").startswith("bi:share:") else b for b in row] for row in rows]


def public_rows(rows: list[list[ButtonSpec]], answer_id: int) -> list[list[ButtonSpec]]:
    """The buttons of a shared copy: no share button, paging (and voting through) the copy's own record
    ``answer_id``."""
    out: list[list[ButtonSpec]] = []
    for row in rows:
        kept = [ButtonSpec(b.label, b.style, custom_id=f"{b.custom_id.rsplit(':', 1)[0]}:{answer_id}",
                           disabled=b.disabled) if b.custom_id is not None else b
                for b in row if not (b.custom_id or "").startswith("bi:share:")]
        if kept:
            out.append(kept)
    return out


def fits(rows: list[list[ButtonSpec]]) -> bool:
    """Whether ``rows`` is within every limit above (the renderer's own check, and the tests')."""
    ids = [b.custom_id for row in rows for b in row if b.custom_id is not None]
    return (len(rows) <= ROWS_MAX and all(1 <= len(row) <= BUTTONS_PER_ROW for row in rows)
            and len(ids) == len(set(ids))
            and all(1 <= len(b.label) <= LABEL_MAX for row in rows for b in row)
            and all(len(i) <= CUSTOM_ID_MAX and re.fullmatch(r"bi:[a-z]+:[0-9]+", i) for i in ids)
            and all((b.style == LINK) == (b.url is not None) and (b.style == LINK) != (b.custom_id is not None)
                    and (b.url is None or len(b.url) <= URL_MAX) for row in rows for b in row))
