"""Paid posts through the Discord test server: quoted to members with the source's role, where no one else reads the
answer (a private /ask, a members' channel); everyone else, and DMs, get the post's title, date and link only."""

from __future__ import annotations

import asyncio

import pytest

from bot.ask.render import PAID_LABEL, WITHHELD
from tests.discord_api import DiscordTestServer
from tests.discord_api.interactions import BOT_DM, USER_INSTALL
from tests.discord_harness import running_bot
from tests.test_buttons import press, until
from tests.test_discord import message
from tests.test_exports import ghost_export

pytestmark = [pytest.mark.discord, pytest.mark.slow]

BASE = "https://newsletter.example.org/issues"  # write_config's base_url
PAID_URL = f"{BASE}/seedling-notes-2/"
QUESTION = "aphids on the broad beans in note 2 soapy water"
PAID_WORDS = "Aphids on the broad beans in note 2"


def paid_embeds(msg: dict) -> list[dict]:
    """The answer's citations of the paid post (one per section found)."""
    found = [e for e in msg["embeds"] if e["url"].startswith(PAID_URL)]
    assert found, "the paid post is not cited"
    return found


def quoted(msg: dict) -> bool:
    return any(PAID_WORDS in e["description"] and PAID_LABEL in e["description"] for e in paid_embeds(msg))


def withheld(msg: dict) -> bool:
    """Each citation of the paid post: title, date and the post's link; no word of it, no heading, no fragment."""
    return all(e["description"] == WITHHELD and e["url"] == PAID_URL
               and e["title"].startswith("Seedling notes 2 · 2024-03-01") and "Aphids" not in str(e)
               for e in paid_embeds(msg))


def test_paid_posts_are_quoted_to_members_alone_and_to_no_one_else(tmp_path, embedder):
    export = ghost_export(tmp_path / "journal.ghost.json", [(1, "published", "public", "2024-02-01T08:00:00.000Z"),
                                                            (2, "published", "paid", "2024-03-01T08:00:00.000Z")])

    async def scenario():
        s = await DiscordTestServer().start()
        try:
            role = s.add_role("Paid subscribers")
            lounge = s.text_channel("members-lounge", only_role=role)  # @everyone cannot view it
            member, other_member, stranger = s.user("member"), s.user("other member"), s.user("stranger")
            s.give_role(member, role)
            s.give_role(other_member, role)  # each reader may ask 4 questions in 30 s
            extra = f"include_paid = true\npaid_role_id = {role}"
            async with running_bot(tmp_path, tmp_path, embedder, server=s, sources=[("journal", f"export+{export}")],
                                   source_extra={"journal": extra}) as r:
                assert r.services.catalog.execute("SELECT access FROM issues WHERE url = ?",
                                                  (PAID_URL,)).fetchone() == ("paid",)
                me = f"<@{s.app_id}>"
                mine = message(await (await s.interact("ask", {"question": QUESTION, "private": True},
                                                       user=member)).answered())
                assert quoted(mine)
                theirs = message(await (await s.interact("ask", {"question": QUESTION, "private": True},
                                                         user=stranger)).answered())
                assert withheld(theirs)
                # a public answer in an open channel is read by everyone: no quote, even for a member
                public = message(await (await s.interact("ask", {"question": QUESTION}, user=member)).answered())
                assert withheld(public)
                in_dm = message(await (await s.interact("ask", {"question": QUESTION}, user=member, context=BOT_DM,
                                                        installs=(USER_INSTALL,))).answered())
                assert withheld(in_dm)  # a DM has no roles
                # by mention: the author's roles, in a channel only the role's members can view
                lounge_answer = await s.answer_to((await s.say(lounge, f"{me} {QUESTION}", user=other_member))["id"])
                assert quoted(lounge_answer)
                open_answer = await s.answer_to((await s.say(s.channel_id, f"{me} {QUESTION}", user=other_member))["id"])
                assert withheld(open_answer)
                # the member shares their private answer: the channel's copy quotes nothing of the paid post
                shared = await press(s, mine, "Share to channel", member)
                await until(lambda: shared.followups)
                assert withheld(shared.followups[0])
                assert s.rejected == []
        finally:
            await s.stop()

    asyncio.run(scenario())
