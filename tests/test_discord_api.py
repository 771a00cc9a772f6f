"""The Discord API test server itself answers as Discord documents: history paging and its limits, thread listings, replies
and threads started from a message,
forum posts, nonce and enforce_nonce, button presses and their callbacks, and the count of every non-2xx answer by
status."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.discord_api import DiscordTestServer, InteractionRecord
from tests.discord_api.limits import EPHEMERAL, LOADING

pytestmark = [pytest.mark.discord]

EMBED = {"title": "Issue 1", "url": "https://newsletter.example.org/issues/issue_001/"}


@contextlib.asynccontextmanager
async def api() -> AsyncIterator[tuple[DiscordTestServer, Any]]:
    server = await DiscordTestServer().start()
    session = aiohttp.ClientSession(headers={"Authorization": f"Bot {server.token}"})

    async def call(method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with session.request(method, server.api_base + path, **kw) as response:
            return response.status, await response.json() if response.content_type == "application/json" else None

    try:
        yield server, call
    finally:
        await session.close()
        await server.stop()


def run(coro) -> None:
    asyncio.run(coro)


def test_history_limit_and_exclusive_anchors():
    async def scenario():
        async with api() as (server, call):
            ch = server.channel_id
            server.chatter(ch, 250)
            ids = [int(m["id"]) for m in server.channel_messages[ch]]
            status, page = await call("GET", f"/channels/{ch}/messages")
            assert status == 200 and len(page) == 50 and int(page[0]["id"]) == ids[-1]  # newest first, default 50
            for bad in ("0", "101", "x"):
                assert (await call("GET", f"/channels/{ch}/messages", params={"limit": bad}))[0] == 400
            both = {"before": str(ids[100]), "after": str(ids[10])}
            status, body = await call("GET", f"/channels/{ch}/messages", params=both)
            assert status == 400 and body["code"] == 50035
            status, page = await call("GET", f"/channels/{ch}/messages", params={"after": str(ids[9]), "limit": "100"})
            assert [int(m["id"]) for m in page] == list(reversed(ids[10:110]))  # the 100 right after, newest first
            status, page = await call("GET", f"/channels/{ch}/messages", params={"before": str(ids[9]), "limit": "5"})
            assert [int(m["id"]) for m in page] == list(reversed(ids[4:9]))
            status, page = await call("GET", f"/channels/{ch}/messages", params={"around": str(ids[50]), "limit": "5"})
            assert sorted(int(m["id"]) for m in page) == ids[48:53]
            assert server.statuses == {400: 4} and server.non_2xx() == 4
    run(scenario())


def test_nonce_enforced_only_within_the_window_and_at_most_25_characters():
    async def scenario():
        async with api() as (server, call):
            ch = server.channel_id
            body = {"content": "hi", "embeds": [EMBED], "nonce": "n" * 25, "enforce_nonce": True}
            first = (await call("POST", f"/channels/{ch}/messages", json=body))[1]
            again = (await call("POST", f"/channels/{ch}/messages", json=body))[1]
            assert again["id"] == first["id"] and first["nonce"] == "n" * 25
            loose = (await call("POST", f"/channels/{ch}/messages", json={**body, "enforce_nonce": False}))[1]
            assert loose["id"] != first["id"]  # without enforce_nonce a nonce only travels with the message
            server.nonce_window = 0.0
            late = (await call("POST", f"/channels/{ch}/messages", json=body))[1]
            assert late["id"] not in (first["id"], loose["id"])
            assert (await call("POST", f"/channels/{ch}/messages", json={**body, "nonce": "n" * 26}))[0] == 400
            history = (await call("GET", f"/channels/{ch}/messages"))[1]
            assert len(history) == 3 and all("nonce" not in m for m in history)
    run(scenario())


def test_forum_posts_and_thread_listings():
    async def scenario():
        async with api() as (server, call):
            forum = server.forum_channel_id
            assert (await call("POST", f"/channels/{forum}/messages", json={"content": "x"}))[0] == 400
            assert (await call("POST", f"/channels/{forum}/threads", json={"name": "no message"}))[0] == 400
            assert (await call("POST", f"/channels/{forum}/threads", json={"name": "", "message": {"content": "x"}}))[0] == 400
            status, thread = await call("POST", f"/channels/{forum}/threads",
                                        json={"name": "Issue 1", "message": {"embeds": [EMBED]}})
            assert 200 <= status < 300
            assert thread["message"]["id"] == thread["id"] and thread["parent_id"] == forum
            assert (await call("GET", f"/channels/{thread['id']}"))[1]["name"] == "Issue 1"
            readers = [server.forum_post(forum, f"Question {n}") for n in range(4)]
            active = (await call("GET", f"/guilds/{server.guild_id}/threads/active"))[1]
            assert {t["id"] for t in active["threads"]} == {thread["id"], *readers}
            assert [m["id"] for m in active["members"]] == [thread["id"]]  # the bot is a member of its own only
            for tid in [thread["id"], *readers]:
                server.archive(tid)
                await asyncio.sleep(0.002)  # archived one after another
            listing = (await call("GET", f"/channels/{forum}/threads/archived/public", params={"limit": "2"}))[1]
            assert [t["id"] for t in listing["threads"]] == readers[::-1][:2] and listing["has_more"]
            before = listing["threads"][-1]["thread_metadata"]["archive_timestamp"]
            rest = (await call("GET", f"/channels/{forum}/threads/archived/public", params={"before": before}))[1]
            assert [t["id"] for t in rest["threads"]] == [readers[1], readers[0], thread["id"]] and not rest["has_more"]
            for bad in ({"limit": "1"}, {"limit": "101"}, {"before": "yesterday"}):
                assert (await call("GET", f"/channels/{forum}/threads/archived/public", params=bad))[0] == 400
            assert (await call("GET", f"/guilds/{server.channel_id}/threads/active"))[0] == 404
    run(scenario())


def test_faults_are_counted_only_when_an_answer_reaches_the_client():
    async def scenario():
        async with api() as (server, call):
            ch = server.channel_id
            server.faults.extend(["503", "429", "drop"])
            assert (await call("POST", f"/channels/{ch}/messages", json={"content": "a"}))[0] == 503
            assert (await call("POST", f"/channels/{ch}/messages", json={"content": "b"}))[0] == 429
            with pytest.raises(aiohttp.ClientError):
                await call("POST", f"/channels/{ch}/messages", json={"content": "c"})
            assert [m["content"] for m in server.channel_messages[ch]] == ["c"]  # stored, the answer lost
            assert server.statuses == {503: 1, 429: 1} and server.injected.cut_off == 1
    run(scenario())


def test_the_first_follow_up_after_a_deferred_response_edits_the_loading_message():
    """Discord documents it for backwards compatibility: no new message, and the defer's visibility is kept."""
    async def scenario():
        async with api() as (server, call):
            rec = InteractionRecord(id=server.snowflake(), token="aW50ZXJhY3Rpb24" + "x" * 40, type=2, data={},
                                    user_id=server.snowflake(), created=time.monotonic())
            server.interactions[rec.id] = rec
            assert (await call("POST", f"/interactions/{rec.id}/{rec.token}/callback", json={"type": 5}))[0] == 204
            assert rec.original is not None and rec.original["flags"] & LOADING
            status, first = await call("POST", f"/webhooks/{server.app_id}/{rec.token}",
                                       json={"content": "only for you?", "flags": EPHEMERAL})
            assert status == 200 and first["id"] == rec.original["id"] and rec.followups == []
            assert first["content"] == "only for you?" and not first["flags"] & (EPHEMERAL | LOADING)
            status, second = await call("POST", f"/webhooks/{server.app_id}/{rec.token}",
                                        json={"content": "now only for you", "flags": EPHEMERAL})
            assert status == 200 and second["id"] != first["id"] and second["flags"] & EPHEMERAL
            assert [m["content"] for m in rec.messages] == ["only for you?", "now only for you"]
    run(scenario())


def test_replies_and_threads_from_a_message_are_refused_as_discord_documents():
    """A reply to a message that does not exist (unless fail_if_not_exists is false), a thread name outside 1-100,
    an archive duration Discord does not offer, and a second thread from one message are all refused."""
    async def scenario():
        async with api() as (server, call):
            ch = server.channel_id
            status, first = await call("POST", f"/channels/{ch}/messages", json={"content": "a question"})
            assert status == 200
            unknown = {"content": "answer", "message_reference": {"message_id": "1"}}
            status, body = await call("POST", f"/channels/{ch}/messages", json=unknown)
            assert status == 400 and body["code"] == 50035 and "message_reference" in body["errors"]
            lenient = {"content": "answer", "message_reference": {"message_id": "1", "fail_if_not_exists": False}}
            status, plain = await call("POST", f"/channels/{ch}/messages", json=lenient)
            assert status == 200 and plain["type"] == 0
            status, reply = await call("POST", f"/channels/{ch}/messages",
                                       json={"content": "answer", "message_reference": {"message_id": first["id"]}})
            assert status == 200 and reply["type"] == 19 and reply["message_reference"]["message_id"] == first["id"]
            threads = f"/channels/{ch}/messages/{first['id']}/threads"
            for bad in ({"name": ""}, {"name": "x" * 101}, {"name": "ok", "auto_archive_duration": 30}):
                status, body = await call("POST", threads, json=bad)
                assert status == 400 and body["code"] == 50035, bad
            status, thread = await call("POST", threads, json={"name": "x" * 100})
            assert status == 200 and thread["id"] == first["id"]
            status, body = await call("POST", threads, json={"name": "again"})
            assert status == 400 and body["code"] == 160004
    run(scenario())


def test_a_button_press_is_answered_by_updating_its_message_and_only_a_component_interaction_may():
    """Callbacks 6 and 7 are for components: 7 edits the message the button is on, 6 makes it the @original to edit;
    a slash command's interaction is refused them. Only an enabled, non-link button the message carries is pressed."""
    button = {"type": 2, "style": 1, "label": "More results", "custom_id": "bi:more:1"}
    link = {"type": 2, "style": 5, "label": "Issue", "url": "https://newsletter.example.org/issues/1"}

    async def scenario():
        async with api() as (server, call):
            status, msg = await call("POST", f"/channels/{server.channel_id}/messages", json={
                "content": "an answer", "components": [{"type": 1, "components": [button, link]}]})
            assert status == 200 and msg["components"][0]["components"][0]["custom_id"] == "bi:more:1"
            command = InteractionRecord(id=server.snowflake(), token="aW50ZXJhY3Rpb24" + "y" * 40, type=2, data={},
                                        user_id=server.snowflake(), created=time.monotonic())
            server.interactions[command.id] = command
            status, refused = await call("POST", f"/interactions/{command.id}/{command.token}/callback",
                                         json={"type": 7, "data": {"content": "x"}})
            assert status == 400 and "type" in refused["errors"]
            with pytest.raises(LookupError):  # a link button sends no interaction
                await server.click(msg, "Issue")
            server._send = _no_gateway  # type: ignore[method-assign]  # no bot connected: the press is only recorded
            press = await server.click(msg, "More results")
            assert press.type == 3 and press.data == {"custom_id": "bi:more:1", "component_type": 2}
            status, _ = await call("POST", f"/interactions/{press.id}/{press.token}/callback", json={
                "type": 7, "data": {"content": "page 2", "components": [{"type": 1, "components": [
                    {**button, "disabled": True, "label": "No more results"}]}]}})
            assert status == 204 and press.original is server.any_message(msg["id"])
            assert server.any_message(msg["id"])["content"] == "page 2"
            with pytest.raises(LookupError):  # now disabled
                await server.click(msg, "No more results")
            status, dup = await call("PATCH", f"/channels/{server.channel_id}/messages/{msg['id']}", json={
                "components": [{"type": 1, "components": [button, button]}]})
            assert status == 400 and "COMPONENT_CUSTOM_ID_DUPLICATED" in str(dup["errors"])
    run(scenario())


async def _no_gateway(*args: Any, **kwargs: Any) -> None:
    return None
