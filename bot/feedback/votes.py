"""Votes on answers, as plain data: what a press of 👍 or 👎 does, the 👎 modal, and reading what it sends back.

Pure: no network, no client. A reader has one vote per answer's question. Pressing the other button replaces
it; pressing the same one again withdraws it (a toggle, as a reaction is). 👍 is noted at once; 👎 first asks
what went wrong in a modal: a choice of :data:`REASONS` and an optional note of at most :data:`NOTE_MAX`
characters, the reader's own words, kept for the newsletter's author.

The modal is laid out as Discord's components reference asks today (components/reference#label): each field a
Label (type 18) around a String Select (3) or a paragraph Text Input (4, style 2); a modal has a ``custom_id``
of 1-100 characters (``bi:why:<answer id>``, so a submission is understood by whichever process gets it, after a
restart too), a title of at most 45 and 1-5 components.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

UP, DOWN = 1, -1
NOTE_MAX = 300
TITLE = "What went wrong?"
REASON_ID, NOTE_ID = "why", "note"
REASON_LABEL, NOTE_LABEL = "What went wrong", "A note for the author (optional)"
NOTE_PLACEHOLDER = "What were you looking for?"
WHY_TEMPLATE = r"bi:why:(?P<answer>[0-9]{1,19})"
REASONS: tuple[tuple[str, str], ...] = (
    ("wrong_issue", "It cites the wrong issue"),
    ("out_of_date", "It is out of date"),
    ("not_covered", "The archive does not cover this"),
    ("other", "Something else"),
)

NOTED = "Thanks — noted."
WITHDRAWN = "Your vote is withdrawn. Thanks all the same."
GONE = "This answer's question is no longer on record, so the vote can't be kept. Thanks all the same."
UNRECORDED = "Votes aren't kept for this answer."


def why_id(answer_id: int) -> str:
    return f"bi:why:{answer_id}"


def answer_of_modal(custom_id: str) -> int | None:
    """The answer a 👎 modal's ``custom_id`` names; None when it is not one of ours."""
    match = re.fullmatch(WHY_TEMPLATE, custom_id or "")
    return int(match["answer"]) if match else None


@dataclass(frozen=True)
class Press:
    """What a press does: withdraw the reader's vote, note a 👍, or ask why (👎, through the modal)."""

    withdraw: bool = False
    ask_why: bool = False


def press(current: int | None, pressed: int) -> Press:
    """The reader's vote is ``current`` (None: none yet) and they pressed ``pressed`` (:data:`UP` or :data:`DOWN`)."""
    if current == pressed:
        return Press(withdraw=True)
    return Press(ask_why=pressed == DOWN)


def submitted(components: list[dict[str, Any]]) -> tuple[str, str]:
    """A 👎 modal's submission (its ``data.components``): the reason and the note, stripped and at most
    :data:`NOTE_MAX` long. A reason that is not one of :data:`REASONS` counts as "other"."""
    values: dict[str, Any] = {}
    for top in components or []:
        for c in [top.get("component")] if top.get("component") else top.get("components") or []:
            if isinstance(c, dict) and c.get("custom_id"):
                values[c["custom_id"]] = c.get("values") if "values" in c else c.get("value")
    chosen = values.get(REASON_ID) or []
    why = chosen[0] if isinstance(chosen, list) and chosen else ""
    if why not in dict(REASONS):
        why = "other"
    note = values.get(NOTE_ID)
    return why, (note.strip()[:NOTE_MAX] if isinstance(note, str) else "")


def reason_label(why: str) -> str:
    return dict(REASONS).get(why, why)


def notes_text(downs: list[tuple[str, str, str]]) -> str:
    """What readers said with 👎 (question, reason, note each), for `bot gaps`: "" when nothing was said."""
    if not downs:
        return ""
    lines = ["What readers said with 👎:"]
    for question, why, note in downs:
        lines.append(f"  “{question}”: {reason_label(why) if why else 'no reason given'}")
        if note:
            lines.append(f"       “{note}”")
    return "\n".join(lines)


def notes_json(downs: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"question": q, "why": why, "note": note} for q, why, note in downs]
