"""Which messages the bot answers, and as what: the pure decision behind mentions, replies, DMs and threads."""

from __future__ import annotations

import pytest

from bot.converse.addressing import Incoming, Kind, decide


def mention(text: str) -> Incoming:
    return Incoming(text=f"<@42> {text}", from_bot=False, mentions_me=True)


def dm(text: str) -> Incoming:
    return Incoming(text=text, from_bot=False, mentions_me=False, in_dm=True)


def reply_to_answer(text: str) -> Incoming:
    return Incoming(text=text, from_bot=False, mentions_me=False, reply_to=7, reply_to_mine=True,
                    in_conversation=True, via_reply=True)


@pytest.mark.parametrize("message", [
    mention(""), mention("\u200b\u200b"), mention("🚀🔥"), mention("hi!"), mention("thanks a lot"),
    dm("hi"), dm("hello!"), dm("thanks"), dm("\u200b"), dm("👋"), dm("Good morning everyone"),
])
def test_an_address_with_nothing_to_search_for_gets_the_how_to(message):
    assert decide(message).kind is Kind.HOWTO


@pytest.mark.parametrize("text", ["thanks!", "👍", "ok cool, thank you", "\u200b", "ty"])
def test_thanks_in_reply_to_an_answer_is_not_answered(text):
    assert decide(reply_to_answer(text)).kind is Kind.IGNORE


@pytest.mark.parametrize("message, kind, question", [
    (mention("what is __layer skip__?"), Kind.ASK, "what is layer skip ?"),  # read as the message menu reads it
    (mention("what's new this week?"), Kind.ASK, "what's new this week?"),  # not a pleasantry
    (dm("hi, what is layer skip?"), Kind.ASK, "hi, what is layer skip?"),
    (dm("thanks for issue 12"), Kind.ASK, "thanks for issue 12"),
    (reply_to_answer("and in 2023?"), Kind.FOLLOW, "and in 2023?"),
    (reply_to_answer("layer\u200b skip \x00please"), Kind.FOLLOW, "layer skip please"),
])
def test_a_question_is_read_the_same_way_whichever_way_it_arrives(message, kind, question):
    d = decide(message)
    assert (d.kind, d.question) == (kind, question)
