"""A question as the retriever should read it: Discord syntax and links set aside, filler dropped, language told.

Readers ask in Discord, so a question carries mentions (``<@123>``, ``<@!123>``), channel and role
references (``<#123>``, ``<@&123>``), custom emoji (``<:name:123>``, ``<a:name:123>``), timestamps
and links. None of them is a word of the question: left in, ``123456789`` reads as a name the
archive never mentions. Politeness ("Hi all! ... Thanks in advance!") is not a word of it either:
in a long question it dilutes both the keywords and the meaning of the sentence that asks.

The embedding model (all-MiniLM-L6-v2) was trained on English text only. A question in another
script or language is still ranked, but :func:`language` lets the judge call its answer weak.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from index.search.lexical import terms

UNDERSTOOD = "English"

# Discord's markup: user, nickname, channel and role mentions, custom (animated) emoji, timestamps,
# slash-command mentions, guild navigation; then bare @everyone/@here and links.
_DISCORD = re.compile(
    r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFR])?|/[\w -]+:\d+|id:\w+)>"
    r"|@(?:everyone|here)\b"
)
_URL = re.compile(r"<(?:https?://|www\.)[^\s<>]+>|(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?'\")\]]", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_LEADING_LINK = re.compile(r"(?i)^(?:but|and|so|also|anyway|well|ok|okay|or)\b[\s,]*")
_CLAUSE = re.compile(r"[^,;:.!?、，。！？\n]+[,;:.!?、，。！？]*")

# English function words beyond the keyword index's short stop list: never content on their own.
FUNCTION = frozenset(terms(
    "what whats which who whom whose when where why how whether is am are was were be been being do does did "
    "doing done have has had having can could should would will shall may might must i me my mine we us our you "
    "your he him his she her its they them their here there so some any each every about above after again "
    "against before below between from off over under out up down than too own same other only both few more "
    "most such nor very s t don doesn didn isn aren wasn weren ve ll re d m but if because though although now "
    "then just even ever never always often"
))
# Words that carry no content of their own in a reader's question (greetings, thanks, hedges).
# A clause made only of these and of function words is filler.
FILLER = frozenset(terms(
    "hi hello hey hiya greetings morning evening everyone everybody anyone anybody all folks guys people team "
    "thanks thank thx ty cheers appreciate appreciated appreciation advance please pls kindly help helping "
    "sorry apologies apologize dumb stupid silly basic noob newbie beginner question questions ask asking asked "
    "wonder wondering wondered curious curiosity know knows knew think thought thinking guess idea ideas "
    "love like great awesome amazing nice good lovely wonderful cool fantastic "
    "day days week weekend time lot lots much really very quite bit little way sure maybe perhaps "
    "friend friends colleague colleagues told tell say said mention mentioned heard hear "
    "read reading reader readers newsletter newsletters issue issues archive post posts channel server discord "
    "wanted want wants try trying tried figure figuring understand understanding get getting got "
    "hope hoping wish wishing keep up work happy new long while ago since recently lately "
    "ok okay yes yeah anyway anyways btw also just still well"
))
# How readers ask about the newsletter itself ("wasn't there a story about", "did you ever write about", "is
# there anything on"): words of the asking, not of the topic. Only keyword scoring sets them aside.
SCAFFOLDING = frozenset(terms(
    "story stories article articles piece pieces write wrote written writing cover covered coverage covering "
    "feature featured mention mentioned something anything thing things stuff deal"
))
STRIP_SCAFFOLDING = False  # benchmarks/eval_retrieval.py --folds decides


def scoring_terms(query_terms: list[str]) -> list[str]:
    """The terms keyword scoring should weigh: ``query_terms`` without function words and question scaffolding
    (whole when nothing else would be left)."""
    kept = [t for t in query_terms if t not in FUNCTION and t not in SCAFFOLDING]
    return kept or query_terms


# The most frequent function words of languages a reader might ask in, besides English: enough to tell
# "¿Qué es la cuantización?" from an English question, not a language identifier.
_FUNCTION_WORDS = {
    "Spanish": {"que", "qué", "es", "el", "la", "los", "las", "de", "del", "en", "un", "una", "por", "para",
                "cómo", "como", "cuál", "cual", "dónde", "por qué", "sobre", "con", "se", "lo", "y", "más"},
    "French": {"que", "qu", "est", "le", "la", "les", "des", "du", "de", "un", "une", "pour", "comment",
               "quoi", "quel", "quelle", "sur", "avec", "et", "ce", "c", "dans", "où", "pourquoi", "au"},
    "German": {"was", "ist", "der", "die", "das", "den", "dem", "ein", "eine", "wie", "und", "mit", "für",
               "über", "warum", "welche", "welcher", "wo", "von", "zu", "im", "nicht", "gibt", "es"},
    "Portuguese": {"que", "o", "os", "as", "do", "da", "dos", "das", "de", "em", "um", "uma", "para", "como",
                   "qual", "onde", "sobre", "com", "e", "é", "não", "por", "porque"},
    "Italian": {"che", "cosa", "è", "il", "lo", "la", "gli", "le", "di", "del", "della", "un", "una", "per",
                "come", "quale", "dove", "perché", "su", "con", "e", "non"},
    "Dutch": {"wat", "is", "de", "het", "een", "hoe", "en", "met", "voor", "over", "waarom", "welke", "waar",
              "van", "niet", "er", "zijn"},
}
_ENGLISH = {"the", "a", "an", "is", "are", "was", "what", "how", "why", "which", "who", "where", "when", "of",
            "in", "on", "for", "to", "and", "with", "about", "does", "do", "did", "can", "it", "this", "that",
            "there", "from", "by", "be", "has", "have", "i", "you", "my", "any", "or", "not"}
_SCRIPT_NAMES = {"CJK": "Chinese or Japanese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese",
                 "HANGUL": "Korean", "CYRILLIC": "a Cyrillic script", "ARABIC": "Arabic", "HEBREW": "Hebrew",
                 "GREEK": "Greek", "DEVANAGARI": "Hindi or another Devanagari language", "THAI": "Thai",
                 "BENGALI": "Bengali", "TAMIL": "Tamil", "ARMENIAN": "Armenian", "GEORGIAN": "Georgian"}
_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class Query:
    original: str  # as asked, stripped
    text: str  # what is ranked: Discord syntax and links removed, filler sentences dropped
    language: str | None  # the language or script it seems to be in when not English, else None

    @property
    def empty(self) -> bool:
        """Nothing to search for: no letter or digit is left (only emoji, punctuation or symbols, say)."""
        return not any(c.isalnum() for c in self.text)


def strip_markup(text: str) -> str:
    """``text`` without Discord mentions, channel and role references, custom emoji, timestamps or links."""
    return _SPACES.sub(" ", _URL.sub(" ", _DISCORD.sub(" ", text))).strip()


def _script(ch: str) -> str:
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


def language(text: str) -> str | None:
    """The language (or script) ``text`` seems to be in when it is not English; None for English or unsure.

    Mostly-non-Latin letters name their script; Latin text is told apart by its function words.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    scripts: dict[str, int] = {}
    for c in letters:
        s = _script(c)
        scripts[s] = scripts.get(s, 0) + 1
    foreign = {s: n for s, n in scripts.items() if s != "LATIN"}
    if sum(foreign.values()) * 2 > len(letters):
        top = max(foreign, key=lambda s: foreign[s])
        if {"HIRAGANA", "KATAKANA"} & set(foreign):
            top = "HIRAGANA"
        return _SCRIPT_NAMES.get(top, "a language other than English")
    words = [w.lower() for w in _WORDS.findall(text)]
    english = sum(w in _ENGLISH for w in words)
    best, best_n = None, 0
    for name, vocab in _FUNCTION_WORDS.items():
        n = sum(w in vocab and w not in _ENGLISH for w in words)
        if n > best_n:
            best, best_n = name, n
    accented = any(unicodedata.decomposition(c) for c in letters if _script(c) == "LATIN")
    if best is not None and best_n >= 2 and best_n > english:
        return best
    if best is not None and best_n >= 1 and accented and english == 0:
        return best
    return None


def content_terms(text: str) -> list[str]:
    """The question's stemmed terms that carry content: neither stop words nor filler."""
    return [t for t in terms(text) if t not in FILLER and t not in FUNCTION]


def drop_filler(text: str) -> str:
    """``text`` without its clauses made only of greetings, thanks and hedges ("Hi all,", "thanks in advance!").

    A clause of stop words alone ("what is it") is kept: it is part of the asking. When nothing
    with content would be left, ``text`` is returned whole.
    """
    clauses = [m.group(0).strip() for m in _CLAUSE.finditer(text)]
    kept = [c for c in clauses if not _is_filler(c)]
    if len(kept) == len(clauses) or not any(content_terms(c) for c in kept):
        return text
    return _LEADING_LINK.sub("", " ".join(kept)).rstrip(",;:、， ")


def _is_filler(clause: str) -> bool:
    """Greetings, thanks and hedges: filler words, and content words (if any) outnumbered three to one."""
    words = terms(clause)
    filler = sum(w in FILLER for w in words)
    return filler > 0 and 3 * len([w for w in words if w not in FILLER and w not in FUNCTION]) < filler


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` safe to encode and to match: a lone surrogate (an undecodable byte of a terminal's input, say)
    becomes U+FFFD; invisible format characters (zero-width spaces and joiners, direction marks) and control
    characters other than white space (NUL, escape) go."""
    text = _SURROGATE.sub("\ufffd", text)
    return "".join(c for c in text if c.isspace() or unicodedata.category(c) not in ("Cf", "Cc"))


def read_question(question: str) -> Query:
    """The question as the retriever reads it."""
    original = clean_text(question).strip()
    text = drop_filler(strip_markup(original))
    return Query(original=original, text=text, language=language(text))
