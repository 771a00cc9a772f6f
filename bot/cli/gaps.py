"""`bot gaps`: what readers asked that the archive did not answer, grouped by meaning; `--forget-user ID`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from bot.feedback.render import render_text, report_dict
from bot.feedback.report import Report, build_report, period_bounds
from bot.feedback.votes import notes_json, notes_text

if TYPE_CHECKING:
    from bot.settings import Settings
    from index.embedding.model import Embedder


def run_gaps(settings: Settings, *, forget_user: int | None = None, since: str | None = None,
             until: str | None = None, as_json: bool = False, embedder: Embedder | None = None,
             stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    first, last, start, end = period_bounds(since, until)
    from bot.services import open_question_record  # here: `bot gaps --help` needs no store

    record = open_question_record(settings)
    if record is None:  # nothing recorded yet: the same report, empty
        if forget_user is not None:
            print(f"forgot 0 questions of user {forget_user}", file=out)
            return 0
        report, downs = Report(0, 0, (), ()), []
    else:
        try:
            if forget_user is not None:
                print(f"forgot {record.forget(forget_user)} questions of user {forget_user}", file=out)
                return 0
            if embedder is None:
                from bot.services import embedder_for

                embedder = embedder_for(settings)  # loaded only if some question has no vector kept yet
            model = embedder
            report = build_report(record.entries(start, end),
                                  lambda entries: record.vectors(entries, model.identity, model.encode))
            downs = record.thumbs_down(start, end)
        finally:
            record.close()
    if as_json:  # the report's stable shape, and "thumbs_down": what readers said with each 👎
        print(json.dumps({**report_dict(report, first, last), "thumbs_down": notes_json(downs)}, ensure_ascii=False,
                         indent=2), file=out)
    else:
        print("\n\n".join(t for t in (render_text(report, first, last), notes_text(downs)) if t), file=out)
    return 0
