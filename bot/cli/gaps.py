"""`bot gaps`: the questions that found no match (clustering comes later); `--forget-user ID` forgets a reader."""

from __future__ import annotations

from bot.feedback.record import FILE_NAME, QuestionRecord
from bot.settings import Settings


def run_gaps(settings: Settings, *, forget_user: int | None) -> int:
    if not (settings.data_dir / FILE_NAME).exists():
        print("0 questions recorded" if forget_user is None else f"forgot 0 questions of user {forget_user}")
        return 0
    record = QuestionRecord(settings.data_dir, keep_days=settings.feedback.keep_days)
    try:
        if forget_user is not None:
            print(f"forgot {record.forget(forget_user)} questions of user {forget_user}")
            return 0
        for when, question in record.no_matches():
            print(f"{when}  {question}")
    finally:
        record.close()
    return 0
