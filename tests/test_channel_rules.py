"""Which [[channels]] entry applies where a question is asked, and a question's thread name (bot.channels)."""

from __future__ import annotations

from bot.channels import ANYWHERE, ChannelRules, Entry, Place, thread_name
from bot.discord_text import THREAD_NAME_MAX

RULES = ChannelRules([Entry(10, source="kitchen", reply="thread"), Entry(20, reply="thread"), Entry(30, "ai"),
                      Entry(41, source="ai")])


def test_a_configured_channel_gets_its_entry_and_an_unconfigured_one_todays_behaviour():
    assert RULES.place(10) == Place(source="kitchen", start_thread=True)
    assert RULES.place(20) == Place(source=None, start_thread=True)
    assert RULES.place(30) == Place(source="ai", start_thread=False)
    assert RULES.place(99) == ANYWHERE == Place(None, False)
    assert RULES.place(None) == ANYWHERE  # a DM, a channel Discord did not name
    assert ChannelRules().place(10) == ANYWHERE and not ChannelRules()


def test_a_thread_or_forum_post_inherits_its_parents_entry_but_never_starts_a_thread_in_itself():
    assert RULES.place(555, parent_id=10) == Place(source="kitchen", start_thread=False)
    assert RULES.place(555, parent_id=20) == ANYWHERE  # a thread channel's thread: answered in it, all sources
    assert RULES.place(555, parent_id=99) == ANYWHERE
    assert RULES.place(41, parent_id=10) == Place(source="ai")  # a thread with an entry of its own uses it


def test_rules_come_from_the_settings_entries(tmp_path):
    from bot.settings import ChannelSettings

    rules = ChannelRules.of([ChannelSettings(id=7, source="x", reply="thread"), ChannelSettings(id=8)])
    assert rules.place(7) == Place("x", True) and rules.place(8) == ANYWHERE


def test_a_thread_name_is_the_question_on_one_line_within_100_characters_cut_at_a_word():
    assert thread_name("what is  layer\nskip") == "what is layer skip"
    long = "how do the " + " ".join(["mixture of experts models"] * 10) + " route tokens"
    name = thread_name(long)
    assert len(name) <= THREAD_NAME_MAX and name.endswith("…")
    assert long.startswith(name[:-1].rstrip()) and long[len(name[:-1].rstrip())] == " "  # cut between words
    assert thread_name("   ") == "Question"
