"""Whether a message is for the bot, and what it asks: a new question, a follow-up, a how-to, or nothing.

Pure: plain facts about a message in, a :class:`Decision` out. Without the privileged Message
Content intent Discord delivers the text only of messages that mention the bot, reply to it, or are
DMs with it; any other message arrives with empty content, and is ignored here. In a DM every message
is for the bot: a question, or a follow-up when it replies to an answer.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.discord_text import message_text
from index.search.query import read_question


class Kind(enum.Enum):
    IGNORE = "ignore"
    HOWTO = "howto"  # addressed, but no question in it
    ASK = "ask"  # a new question
    FOLLOW = "follow"  # a question in a conversation the bot is having


@dataclass(frozen=True)
class Incoming:
    text: str  # the content as delivered ("" when Discord withheld it)
    from_bot: bool  # any bot or webhook, this one included
    mentions_me: bool  # the bot's user is among the message's mentions
    reply_to: int | None = None  # the message it replies to
    reply_to_mine: bool = False  # ... which the bot posted
    in_conversation: bool = False  # the reply, or the thread it is in, leads to a live conversation
    via_reply: bool = False  # ... and it is the replied message that does
    in_dm: bool = False  # a direct message to the bot: addressed without a mention


@dataclass(frozen=True)
class Decision:
    kind: Kind
    question: str = ""  # the text with Discord syntax set aside


HOWTO = ("Ask me about the newsletter's past issues: mention me with a question, like "
         "“@{name} what is layer skip”, or use `/ask`. Reply to one of my answers to follow up on it.")


# What readers say to a bot that is no question: greetings, thanks, acknowledgements ("hi", "thanks!", "ok cool")
_PLEASANTRY_WORDS = (
    "hi hello hey hiya yo howdy greetings morning evening afternoon gm thanks thank you thx ty tysm cheers ta "
    "appreciated appreciate much so very lot again ok okay k kk cool nice great awesome perfect lovely brilliant "
    "excellent neat lol haha yes yeah yep no nope nah sure alright right got it gotcha bot there all everyone "
    "folks a the good bye goodbye later cya")
PLEASANTRIES = frozenset(_PLEASANTRY_WORDS.split())
_WORD = re.compile(r"[a-z']+")


def nothing_asked(question: str) -> bool:
    """Whether ``question`` (a message's text as read) asks nothing: no word to search for (emoji, symbols), or
    only greetings, thanks and acknowledgements."""
    if read_question(question).empty:
        return True
    words = _WORD.findall(question.lower().replace("’", "'"))
    return bool(words) and all(w.strip("'") in PLEASANTRIES for w in words) and not any(c.isdigit() for c in question)


def decide(m: Incoming, *, plain_in_threads: bool = False) -> Decision:
    """What to do with ``m``. ``plain_in_threads``: messages in a conversation's thread need no mention
    (only useful with the Message Content intent, without which their text never arrives)."""
    if m.from_bot:
        return Decision(Kind.IGNORE)
    question = message_text(m.text)
    empty = nothing_asked(question)  # "" too
    addressed = m.mentions_me or m.in_dm or (m.reply_to is not None and m.reply_to_mine)
    if m.in_conversation and (m.via_reply or m.mentions_me or plain_in_threads):
        if not empty:
            return Decision(Kind.FOLLOW, question)
        # "thanks!" in reply to an answer needs no answer; a mention or a DM with nothing in it asks how
        return Decision(Kind.HOWTO) if (m.mentions_me or m.in_dm) and not question else Decision(Kind.IGNORE)
    if not addressed:
        return Decision(Kind.IGNORE)
    if empty:
        # a bare mention, or one that only greets or thanks (a DM saying "hi"), asks how; so does one of emoji
        # alone; an empty reply to an old message of the bot's asks nothing
        return Decision(Kind.HOWTO) if m.mentions_me or m.in_dm else Decision(Kind.IGNORE)
    return Decision(Kind.ASK, question)


def entry(d: Decision, m: Incoming, *, announced: bool = False) -> str:
    """How the question record names this way of asking: a follow-up by "reply" or in the conversation's
    "thread"; a new question about an "announcement" (``announced``: replying to it, or in its thread), in a
    direct message ("dm"), by "mention", or by "reply" to a message of the bot's that leads to no conversation."""
    if announced:
        return "announcement"
    if d.kind is Kind.FOLLOW:
        return "reply" if m.via_reply else "thread"
    if m.in_dm:
        return "dm"
    return "mention" if m.mentions_me else "reply"
