"""Reindex summaries and status → Discord text and embeds, within Discord's limits. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord

from bot.discord_text import COLOR, CONTENT_MAX, FIELD_VALUE_MAX, TOTAL_MAX, clip
from bot.jobs import ReindexRunner, progress_text
from bot.status import feed_line, week_line
from index.indexing.summary import ReindexSummary

MAX_SOURCE_FIELDS = 20  # of the 25 fields an embed may have: room for the count of the rest and the trouble
FOOTER_SHARE = 1000  # of the 6000 characters an embed's texts share together (a long reindex error is clipped)
SOURCE_NAME_SHARE = 100  # a source's name, of the FIELD_NAME_MAX allowed
TROUBLE = "Announcements: needs attention"
MORE = "More sources"
WEEK = "Questions, last 7 days"


def reindex_reply(summary: ReindexSummary) -> str:
    again = f" {summary.reembedded} re-embedded," if summary.reembedded else ""
    head = (f"Reindex done in {summary.seconds:.1f} s: {summary.new} new, {summary.changed} changed,{again}"
            f" {summary.unchanged} unchanged, {summary.removed} removed, {len(summary.held_back)} held back,"
            f" {len(summary.failed)} failed; {summary.sections} sections.")
    lines = [head]
    lines.extend(f"Source `{r.source}` not found: its folder is missing on the host; its issues are kept."
                 for r in summary.missing)  # no host paths in Discord
    if summary.failed:
        lines.append("Failed:")
        for n, r in enumerate(summary.failed):
            line = f"• `{r.source}/{r.path}`: {r.reason}" if r.path else f"• {r.source}: {r.reason}"
            if len("\n".join([*lines, line])) > CONTENT_MAX - 40:
                lines.append(f"…and {len(summary.failed) - n} more (see `bot status` on the host).")
                break
            lines.append(line)
    return clip("\n".join(lines), CONTENT_MAX)


def _git_line(git: dict[str, Any] | None) -> str:
    if not git:
        return ""
    line = f"\ngit {(git['commit'] or 'none')[:12]}, fetched {_ago(git['last_fetch'])}"
    return line + (f"; fetch failing: {git['error']}" if git["error"] else "")


def _ago(when: str | None) -> str:
    return when.replace("T", " ").replace("+00:00", " UTC") if when else "never"


def _source_value(s: dict[str, Any]) -> str:
    return (f"{s['issues']} issues · {s['sections']} sections · {s['held_back']} held back\n"
            f"last indexed {_ago(s['last_indexed'])} · checked {_ago(s.get('last_checked'))}"
            f" · last change seen {_ago(s.get('last_change'))}\n"
            f"newest: {s.get('newest') or 'none'}" + _git_line(s.get("git"))
            + (f"\n{feed_line(s['feed'])}" if s.get("feed") else "")
            + ("\n**folder not found on the host**" if s.get("problem") else ""))


def status_embed(data: dict[str, Any], *, uptime: dt.timedelta, runner: ReindexRunner,
                 problems: list[str] | None = None, week: dict[str, int] | None = None) -> discord.Embed:
    """One embed within every limit, the whole of it too: the footer, the announcer's trouble and the last 7 days'
    questions (``week``, when they are recorded) first, then the sources sharing what room is left; those that do
    not fit are counted (``bot status`` on the host lists all)."""
    embed = discord.Embed(title="Archive index", color=COLOR)
    hours, rest = divmod(int(uptime.total_seconds()), 3600)
    job = runner.running
    state = f"reindex running since {job.started:%H:%M:%S} UTC{progress_text(runner)}" if job else "idle"
    if runner.last_error:
        state += f"; last reindex failed: {runner.last_error}"
    store = "Chroma server" if str(data["store"]).startswith("http") else "embedded Chroma"  # no host paths in Discord
    footer = clip(f"model {data['model']} · {store} · up {hours} h {rest // 60} min · {state}", FOOTER_SHARE)
    trouble = clip("\n".join(problems), FIELD_VALUE_MAX) if problems else ""
    room = TOTAL_MAX - len(embed.title or "") - len(footer) - (len(TROUBLE) + len(trouble) if trouble else 0)
    room -= len(MORE) + 60  # for the count of the sources left out
    asked = week_line(week) if week is not None else ""
    room -= len(WEEK) + len(asked) if asked else 0
    sources = data["sources"][:MAX_SOURCE_FIELDS]
    for n, s in enumerate(sources):
        name = clip(s["name"], SOURCE_NAME_SHARE)
        share = min(FIELD_VALUE_MAX, room // (len(sources) - n) - len(name))
        if share < 80:
            break
        value = clip(_source_value(s), share)
        embed.add_field(name=name, value=value, inline=False)
        room -= len(name) + len(value)
    left_out = len(data["sources"]) - len(embed.fields)
    if left_out:
        embed.add_field(name=MORE, value=f"…and {left_out} more (see `bot status` on the host).", inline=False)
    if asked:
        embed.add_field(name=WEEK, value=asked, inline=False)
    if trouble:
        embed.add_field(name=TROUBLE, value=trouble, inline=False)
    embed.set_footer(text=footer)
    return embed
