"""The test server's validators themselves: each documented limit, met exactly, passes; broken once, is refused
the way Discord refuses it (400, code 50035 or 50006, the field named)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.discord_api.limits import DiscordError, check_choices, check_commands, check_message

EMBED: dict[str, Any] = {"title": "t", "description": "d", "url": "https://example.org/a", "footer": {"text": "f"},
                         "author": {"name": "a"}, "image": {"url": "https://example.org/i.png"},
                         "thumbnail": {"url": "attachment://cover.png"}, "fields": [{"name": "n", "value": "v"}]}


def message(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"content": "hello", "embeds": [copy.deepcopy(EMBED)], "allowed_mentions": {"parse": []}}
    body.update(changes)
    return body


def embed(**changes: Any) -> dict[str, Any]:
    return message(embeds=[{**copy.deepcopy(EMBED), **changes}])


def field(name: str = "n", value: str = "v") -> dict[str, Any]:
    return embed(fields=[{"name": name, "value": value}])


def fits_in_total(n: int) -> dict[str, Any]:
    """Embeds whose texts add up to ``n`` characters, each embed within its own limits."""
    return message(embeds=[{"description": "x" * 4000}, {"description": "x" * (n - 4000)}])


AT_THE_LIMIT = {
    "content": message(content="x" * 2000),
    "embeds": message(embeds=[{"title": "t"}] * 10),
    "title": embed(title="x" * 256),
    "description": embed(description="x" * 4096),
    "footer": embed(footer={"text": "x" * 2048}),
    "author": embed(author={"name": "x" * 256}),
    "fields": embed(fields=[{"name": "n", "value": "v"}] * 25),
    "field name": field(name="x" * 256),
    "field value": field(value="x" * 1024),
    "total": fits_in_total(6000 - len("tdfan")),
    "mentions": message(allowed_mentions={"parse": ["users", "everyone"], "roles": ["1"]}),
    "embeds only": message(content=None),
    "content only": message(embeds=None),
}

BROKEN = {  # name: (payload, the field Discord names, its error code)
    "content too long": (message(content="x" * 2001), "content", "BASE_TYPE_BAD_LENGTH"),
    "content not a string": (message(content=5), "content", "BASE_TYPE_BAD_STRING"),
    "eleven embeds": (message(embeds=[{"title": "t"}] * 11), "embeds", "BASE_TYPE_MAX_LENGTH"),
    "embeds not a list": (message(embeds={"title": "t"}), "embeds", "BASE_TYPE_BAD_LIST"),
    "title too long": (embed(title="x" * 257), "embeds.0.title", "BASE_TYPE_BAD_LENGTH"),
    "description too long": (embed(description="x" * 4097), "embeds.0.description", "BASE_TYPE_BAD_LENGTH"),
    "relative url": (embed(url="issue/#a"), "embeds.0.url", "URL_TYPE_INVALID_URL"),
    "image not http": (embed(image={"url": "ftp://example.org/i.png"}), "embeds.0.image.url", "URL_TYPE_INVALID_URL"),
    "thumbnail relative": (embed(thumbnail={"url": "cover.png"}), "embeds.0.thumbnail.url", "URL_TYPE_INVALID_URL"),
    "footer too long": (embed(footer={"text": "x" * 2049}), "embeds.0.footer.text", "BASE_TYPE_BAD_LENGTH"),
    "footer empty": (embed(footer={"text": ""}), "embeds.0.footer.text", "BASE_TYPE_BAD_LENGTH"),
    "author too long": (embed(author={"name": "x" * 257}), "embeds.0.author.name", "BASE_TYPE_BAD_LENGTH"),
    "author empty": (embed(author={"name": ""}), "embeds.0.author.name", "BASE_TYPE_BAD_LENGTH"),
    "26 fields": (embed(fields=[{"name": "n", "value": "v"}] * 26), "embeds.0.fields", "BASE_TYPE_MAX_LENGTH"),
    "field name too long": (field(name="x" * 257), "embeds.0.fields.0.name", "BASE_TYPE_BAD_LENGTH"),
    "field name empty": (field(name=""), "embeds.0.fields.0.name", "BASE_TYPE_BAD_LENGTH"),
    "field value too long": (field(value="x" * 1025), "embeds.0.fields.0.value", "BASE_TYPE_BAD_LENGTH"),
    "field value empty": (field(value=""), "embeds.0.fields.0.value", "BASE_TYPE_BAD_LENGTH"),
    "embeds over 6000 together": (fits_in_total(6001), "embeds", "MESSAGE_EMBEDS_TOO_LONG"),
    "unknown mention kind": (message(allowed_mentions={"parse": ["channels"]}), "allowed_mentions.parse",
                             "BASE_TYPE_CHOICES"),
    "users parsed and listed": (message(allowed_mentions={"parse": ["users"], "users": ["1"]}), "allowed_mentions",
                                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
    "roles parsed and listed": (message(allowed_mentions={"parse": ["roles"], "roles": ["1"]}), "allowed_mentions",
                                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
}


def _codes(errors: dict[str, Any], path: str) -> list[str]:
    node = errors
    for part in path.split("."):
        node = node[part]
    return [e["code"] for e in node["_errors"]]


@pytest.mark.parametrize("case", sorted(AT_THE_LIMIT))
def test_a_message_exactly_at_each_limit_passes(case):
    check_message(AT_THE_LIMIT[case])


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_limit_broken_once_is_refused_naming_the_field(case):
    payload, path, code = BROKEN[case]
    with pytest.raises(DiscordError) as refused:
        check_message(payload)
    assert refused.value.status == 400 and refused.value.body["code"] == 50035
    assert _codes(refused.value.body["errors"], path) == [code]


def test_an_empty_message_is_refused_and_the_prefix_names_interaction_data():
    with pytest.raises(DiscordError) as refused:
        check_message({"content": "", "embeds": []})
    assert refused.value.body["code"] == 50006
    check_message({"content": ""}, require_content=False)  # an edit may clear the content
    with pytest.raises(DiscordError) as refused:
        check_message(message(content="x" * 2001), prefix="data.")
    assert _codes(refused.value.body["errors"], "data.content") == ["BASE_TYPE_BAD_LENGTH"]


# --- autocomplete choices ---------------------------------------------------------------------------------------

def choices(*items: dict[str, Any]) -> dict[str, Any]:
    return {"choices": list(items)}


def test_choices_at_their_limits_pass():
    check_choices(choices(*[{"name": "x" * 100, "value": "y" * 100}] * 25))
    check_choices(choices({"name": "n", "value": 10**6}))  # a number's value has no length
    check_choices(choices())


@pytest.mark.parametrize("data, path, code", [
    ({}, "data.choices", "BASE_TYPE_REQUIRED"),
    (choices(*[{"name": "n", "value": "v"}] * 26), "data.choices", "BASE_TYPE_MAX_LENGTH"),
    (choices({"name": "x" * 101, "value": "v"}), "data.choices.0.name", "BASE_TYPE_BAD_LENGTH"),
    (choices({"name": "", "value": "v"}), "data.choices.0.name", "BASE_TYPE_BAD_LENGTH"),
    (choices({"name": "n", "value": "x" * 101}), "data.choices.0.value", "BASE_TYPE_BAD_LENGTH"),
    (choices({"name": "n", "value": ""}), "data.choices.0.value", "BASE_TYPE_BAD_LENGTH"),
], ids=["missing", "26 choices", "name too long", "name empty", "value too long", "value empty"])
def test_each_choice_limit_broken_once_is_refused(data, path, code):
    with pytest.raises(DiscordError) as refused:
        check_choices(data)
    assert _codes(refused.value.body["errors"], path) == [code]


# --- command registration ---------------------------------------------------------------------------------------

def command(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "ask", "type": 1, "description": "Ask", "default_member_permissions": "8",
                            "options": [{"name": "question", "type": 3, "description": "Q", "required": True},
                                        {"name": "issue", "type": 3, "description": "I", "autocomplete": True}]}
    body.update(changes)
    return body


def option(**changes: Any) -> dict[str, Any]:
    return {"name": "o", "type": 3, "description": "d", **changes}


def test_commands_at_their_limits_pass():
    check_commands([command(name="x" * 32, description="d" * 100, options=[option(name=f"o{i}") for i in range(25)],
                            default_member_permissions=8)] + [command(name=f"c{i}") for i in range(99)])
    check_commands([{"name": "Look Up", "type": 3}])  # a message command: no description, a name with capitals


@pytest.mark.parametrize("changes, path, code", [
    ({"name": "x" * 33}, "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    ({"name": "Ask"}, "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    ({"name": "ask me"}, "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    ({"description": "d" * 101}, "0.description", "BASE_TYPE_BAD_LENGTH"),
    ({"description": ""}, "0.description", "BASE_TYPE_BAD_LENGTH"),
    ({"options": [option(name=f"o{i}") for i in range(26)]}, "0.options", "BASE_TYPE_MAX_LENGTH"),
    ({"options": [option(name="bad name")]}, "0.options.0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    ({"options": [option(description="d" * 101)]}, "0.options.0.description", "BASE_TYPE_BAD_LENGTH"),
    ({"options": [option(), option(name="p", required=True)]}, "0.options.1.required",
     "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"),
    ({"options": [option(autocomplete=True, choices=[{"name": "a", "value": "a"}])]}, "0.options.0",
     "AUTOCOMPLETE_CHOICES"),
    ({"default_member_permissions": "admin"}, "0.default_member_permissions", "BASE_TYPE_BAD_INT"),
    ({"default_member_permissions": -8}, "0.default_member_permissions", "BASE_TYPE_BAD_INT"),
    ({"default_member_permissions": True}, "0.default_member_permissions", "BASE_TYPE_BAD_INT"),
], ids=["name too long", "name with a capital", "name with a space", "description too long", "description empty",
        "26 options", "option name", "option description", "required after optional", "autocomplete with choices",
        "permissions not a number", "permissions negative", "permissions a boolean"])
def test_each_command_limit_broken_once_is_refused(changes, path, code):
    with pytest.raises(DiscordError) as refused:
        check_commands([command(**changes)])
    assert _codes(refused.value.body["errors"], path) == [code]


def test_more_than_100_commands_are_refused():
    with pytest.raises(DiscordError) as refused:
        check_commands([command(name=f"c{i}") for i in range(101)])
    assert refused.value.status == 400
