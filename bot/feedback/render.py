"""The coverage-gaps report as plain text for people and as JSON for scripts (its shape is stable)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.feedback.report import Report, Topic

_WHY = (("no_match", "no match"), ("weak", "weak"), ("thumbs_down", "👎"))


def period(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f"from {since} to {until}"
    if since:
        return f"since {since}"
    if until:
        return f"up to {until}"
    return "so far"


def _why(t: Topic) -> str:
    return ", ".join(f"{label} {t.why[k]}" for k, label in _WHY if t.why.get(k))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_text(report: Report, since: dt.date | None = None, until: dt.date | None = None) -> str:
    when = period(since, until)
    if not report.questions:
        return f"No questions recorded {when}."
    lines = [f"Questions {when}: {report.questions} asked, {report.gap_questions} not answered well."]
    lines += ["", "What the archive did not answer (biggest group first):" if report.gaps
              else "Every question found a good match."]
    for n, t in enumerate(report.gaps, 1):
        lines.append(f"{n:>3}. {_plural(t.count, 'question')} ({_why(t)})")
        lines += [f"       “{q}”" for q in t.examples]
        if t.closest:
            c = t.closest
            lines.append(f"       closest section offered: {c['path']} › {c['heading']} ({c['source']},"
                         f" score {float(c['score']):.2f})")
        else:
            lines.append("       no section was offered")
    if report.answered:
        lines += ["", "Most asked, answered well:"]
        for n, t in enumerate(report.answered, 1):
            issues = ", ".join(f"{path} ({count})" for _source, path, count in t.issues)
            lines.append(f"{n:>3}. {_plural(t.count, 'question')}, answered by {issues}")
            lines += [f"       “{q}”" for q in t.examples]
    return "\n".join(lines)


def report_dict(report: Report, since: dt.date | None = None, until: dt.date | None = None) -> dict[str, Any]:
    return {
        "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "questions": report.questions, "gap_questions": report.gap_questions,
        "gaps": [{"count": t.count, "examples": list(t.examples), "why": dict(t.why), "closest": t.closest}
                 for t in report.gaps],
        "answered": [{"count": t.count, "examples": list(t.examples),
                      "issues": [{"source": s, "path": p, "questions": c} for s, p, c in t.issues]}
                     for t in report.answered],
    }
