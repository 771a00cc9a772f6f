"""A reply to an announcement, or a mention in its forum post, asks about the announced issue first."""

from __future__ import annotations

import pytest

from tests.test_announce import announcing, posts, run, write_issue

pytestmark = [pytest.mark.discord, pytest.mark.slow]
KEEPERS = ("## Story 1\nLighthouse keepers record every passing ship in a leather logbook, with its flag, its"
           " heading and the hour, and they trim the lamp's wick at dusk.\n\n## Baking\nA sourdough starter is"
           " flour and water that wild yeast and bacteria have fermented; bakers feed it daily.\n")
CAMERA = "A short note: one lighthouse now counts ships with a camera instead of a keeper's eyes."
QUESTION = "how do lighthouse keepers record passing ships?"


@pytest.fixture
def newsletter(tmp_path):
    folder = tmp_path / "weekly"
    folder.mkdir()
    return folder


def titles(message: dict) -> list[str]:
    return [e["title"].split(" · ")[0] for e in message["embeds"]]


def test_a_reply_to_an_announcement_asks_about_that_issue_first(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01", body=KEEPERS.removeprefix("## Story 1\n"))

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder) as (s, _r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08", body=CAMERA)
            await cog.tick()
            [announcement] = posts(s, s.channel_id)
            me = f"<@{s.app_id}>"
            anywhere = await s.answer_to((await s.say(s.channel_id, f"{me} {QUESTION}"))["id"])
            assert titles(anywhere)[0] == "Issue 1"  # the archive's best answer
            # a reply that does not ping: Discord still delivers the text of a reply to the bot's message
            under = await s.answer_to((await s.say(s.channel_id, QUESTION, reply_to=announcement["id"],
                                                   ping=False))["id"])
            assert titles(under)[0] == "Issue 2" and "From “Issue 2”" in under["content"]
            # what the issue does not cover comes from the whole archive, and the answer says so
            other = await s.answer_to((await s.say(s.channel_id, "what is a sourdough starter?",
                                                   reply_to=announcement["id"], ping=False))["id"])
            assert titles(other)[0] == "Issue 1" and "Nothing in “Issue 2” answers this" in other["content"]
            assert s.rejected == []
    run(scenario())


def test_a_mention_in_an_announcements_forum_post_asks_about_its_issue(tmp_path, newsletter, embedder):
    write_issue(newsletter, 1, date="2024-01-01", body=KEEPERS.removeprefix("## Story 1\n"))

    async def scenario():
        async with announcing(tmp_path, newsletter, embedder, channel=lambda s: s.forum_channel_id) as (s, _r, cog):
            await cog.tick()
            write_issue(newsletter, 2, date="2024-01-08", body=CAMERA)
            await cog.tick()
            [post] = s.threads
            answer = await s.answer_to((await s.say(post["id"], f"<@{s.app_id}> {QUESTION}"))["id"])
            assert answer["channel_id"] == post["id"] and titles(answer)[0] == "Issue 2"
    run(scenario())
