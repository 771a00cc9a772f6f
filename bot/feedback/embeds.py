"""The coverage-gaps report as one Discord embed (``/gaps``), within Discord's limits. Pure.

One field per group, biggest first, then the most-asked topics answered well; when the embed's 6000
characters run out, a field says how many groups are left out and where to see them all. Last, what readers
said with 👎 (each question, its reason, the reader's note word for word): one field, its room kept before the
groups are laid out; the notes that do not fit are counted in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import discord

from bot.announce.post import Post
from bot.discord_text import (
    COLOR,
    CONTENT_MAX,
    DESCRIPTION_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    TOTAL_MAX,
    clip,
    escape,
)
from bot.feedback.render import period
from bot.feedback.report import Report, Topic
from bot.feedback.votes import reason_label

FIELDS_MAX = 25  # https://discord.com/developers/docs/resources/message#embed-object-embed-limits
EXAMPLE_MAX = 200  # one example question, of a field value's 1024
RESERVE = 200  # of the 6000 characters: room for the last field saying what was left out
_WHY = (("no_match", "no match"), ("weak", "weak"), ("thumbs_down", "👎"))
NOTES_NAME = "What readers said with 👎"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _examples(t: Topic) -> list[str]:
    return [f"• “{escape(clip(q, EXAMPLE_MAX))}”" for q in t.examples]


def _gap_field(n: int, t: Topic) -> tuple[str, str]:
    why = ", ".join(f"{label} {t.why[k]}" for k, label in _WHY if t.why.get(k))
    lines = _examples(t)
    if t.closest:
        c = t.closest
        lines.append(f"closest: {escape(str(c['path']))} › {escape(str(c['heading']))} ({float(c['score']):.2f})")
    return clip(f"{n}. {_plural(t.count, 'question')} ({why})", FIELD_NAME_MAX), _value(lines)


def _answered_field(n: int, t: Topic) -> tuple[str, str]:
    issues = ", ".join(f"{escape(path)} ({count})" for _source, path, count in t.issues)
    return (clip(f"Answered well {n}. {_plural(t.count, 'question')}", FIELD_NAME_MAX),
            _value([*_examples(t), f"by {issues}"]))


def _value(lines: list[str]) -> str:
    """Whole lines up to a field value's limit (an escaped line is never cut inside an escape)."""
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line])) > FIELD_VALUE_MAX:
            break
        kept.append(line)
    return "\n".join(kept) or "…"


def _notes_field(downs: Sequence[tuple[str, str, str]]) -> tuple[str, str] | None:
    """What readers said with each 👎 (question, reason, note): whole notes while they fit in one field's value,
    then a line counting the rest."""
    if not downs:
        return None
    notes = []
    for question, why, note in downs:
        line = f"• “{escape(clip(question, EXAMPLE_MAX))}”: {escape(reason_label(why)) if why else 'no reason given'}"
        notes.append(f"{line}\n  “{escape(note)}”" if note else line)
    kept: list[str] = []
    for n, note in enumerate(notes):
        rest = len(notes) - n - 1
        tail = [f"…and {rest} more: `bot gaps` on the host shows them all."] if rest else []
        if len("\n".join([*kept, note, *tail])) > FIELD_VALUE_MAX:
            break
        kept.append(note)
    left = len(notes) - len(kept)
    if left:
        kept.append(f"…and {left} more: `bot gaps` on the host shows them all.")
    return NOTES_NAME, "\n".join(kept)


def gaps_embed(report: Report, since: dt.date | None = None, until: dt.date | None = None, *,
               footer: str = "", downs: Sequence[tuple[str, str, str]] = ()) -> discord.Embed:
    """``downs``: each 👎 of the period as (question, reason, note), oldest first
    (``QuestionRecord.thumbs_down``)."""
    when = period(since, until)
    title = clip(f"Coverage gaps {when}", TITLE_MAX)
    footer = clip(footer, FOOTER_MAX)
    if not report.questions:
        embed = discord.Embed(title=title, description=f"No questions recorded {when}.", color=COLOR)
        return embed.set_footer(text=footer) if footer else embed
    description = clip(f"{report.questions} asked, {report.gap_questions} not answered well"
                       f"{' — biggest group first' if report.gaps else '; every question found a good match'}.",
                       DESCRIPTION_MAX)
    embed = discord.Embed(title=title, description=description, color=COLOR)
    if footer:
        embed.set_footer(text=footer)
    notes = _notes_field(downs)
    used = len(title) + len(description) + len(footer) + (len(notes[0]) + len(notes[1]) if notes else 0)
    fields = [_gap_field(n, t) for n, t in enumerate(report.gaps, 1)]
    fields += [_answered_field(n, t) for n, t in enumerate(report.answered, 1)]
    room = FIELDS_MAX - (1 if notes else 0)
    for shown, (name, value) in enumerate(fields):
        if shown == room - 1 or used + len(name) + len(value) > TOTAL_MAX - RESERVE:
            left = len(fields) - shown
            name, value = "More", f"{_plural(left, 'more group')}: `bot gaps` on the host shows them all."
            embed.add_field(name=name, value=value, inline=False)
            break
        embed.add_field(name=name, value=value, inline=False)
        used += len(name) + len(value)
    if notes:
        embed.add_field(name=notes[0], value=notes[1], inline=False)
    return embed


def digest_post(report: Report, since: dt.date, until: dt.date, mark: str,
                downs: Sequence[tuple[str, str, str]] = ()) -> Post:
    """The weekly digest: the gaps report of the week as an embed whose footer is ``mark`` (the post's key, by which
    a retry recognises an earlier attempt that reached Discord); the content says what it is."""
    embed = gaps_embed(report, since, until, footer=mark, downs=downs)
    content = clip(f"Weekly digest: what readers asked from {since} to {until} that the archive did not answer well."
                   " `/gaps` or `bot gaps` shows any other period.", CONTENT_MAX)
    return Post(content=content, embed=embed, role_id=None, title=mark)
