"""Discord's documented shapes and limits for what a bot sends, and Discord's error bodies.

Sources: Discord's API documentation (Message resource "Create Message" limits, Embed limits,
Allowed Mentions, Interactions "Responding to an Interaction", Application Commands naming and
"Message Commands") and discord.py's ``discord/types/``; the error codes for context menu commands are
the ones Discord answers with (discord/discord-api-docs issues 5836 and 8574).
"""

from __future__ import annotations

import re
from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBEDS_TOTAL_MAX = 6000
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
EPHEMERAL = 1 << 6
LOADING = 1 << 7  # a deferred response's message while the app is "thinking"
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# Components reference (discord-api-docs, components/reference): a message without the Components V2 flag has at
# most 5 action rows (type 1) at the top; a row holds 1-5 buttons (type 2) or one select menu; a button's label is
# at most 80 characters; a custom_id 1-100 and unique among the message's components; a link button (style 5) has a
# url (at most 512) and no custom_id; a premium button (style 6) an sku_id, neither custom_id, url nor label; the
# other styles (1-4) a custom_id and no url.
ACTION_ROW, BUTTON = 1, 2
SELECTS = (3, 5, 6, 7, 8)
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
BUTTON_URL_MAX = 512
LINK_STYLE, PREMIUM_STYLE = 5, 6


class DiscordError(Exception):
    """An error Discord would answer with: HTTP status and JSON body."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors


def _error(path: str, code: str, message: str) -> dict[str, Any]:
    """Discord's nested error form: {"content": {"_errors": [{"code": ..., "message": ...}]}}."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        node = {part: node}
    return node


class FormErrors:
    def __init__(self) -> None:
        self.errors: dict[str, Any] = {}
        self.problems: list[str] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")
        node = self.errors
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def raise_if_any(self) -> None:
        if self.problems:
            raise DiscordError(400, 50035, "Invalid Form Body", self.errors)


def _length(errors: FormErrors, path: str, value: Any, maximum: int, minimum: int = 0) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_BAD_STRING", "Must be a string.")
        return
    if not minimum <= len(value) <= maximum:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {minimum} and {maximum} in length.")


def embed_size(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    return total


def _check_button(errors: FormErrors, p: str, c: dict[str, Any], seen: set[str]) -> None:
    style = c.get("style")
    if style not in (1, 2, 3, 4, LINK_STYLE, PREMIUM_STYLE):
        errors.add(f"{p}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6).")
        return
    custom_id, url = c.get("custom_id"), c.get("url")
    if style == LINK_STYLE:
        if not url:
            errors.add(f"{p}.url", "BASE_TYPE_REQUIRED", "This field is required")
        elif not isinstance(url, str) or len(url) > BUTTON_URL_MAX:
            errors.add(f"{p}.url", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {BUTTON_URL_MAX} in length.")
        elif not URL.match(url):
            errors.add(f"{p}.url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        if custom_id is not None:
            errors.add(f"{p}.custom_id", "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A link button cannot have a custom id")
    elif style == PREMIUM_STYLE:
        if not c.get("sku_id"):
            errors.add(f"{p}.sku_id", "BASE_TYPE_REQUIRED", "This field is required")
        for name in ("custom_id", "label", "url", "emoji"):
            if c.get(name) is not None:
                errors.add(f"{p}.{name}", "BUTTON_COMPONENT_PREMIUM_FIELD_NOT_ALLOWED",
                           f"A premium button cannot have a {name}")
    else:
        if url is not None:
            errors.add(f"{p}.url", "BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only a link button can have a url")
        if custom_id is None:
            errors.add(f"{p}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
    if custom_id is not None:
        _length(errors, f"{p}.custom_id", custom_id, CUSTOM_ID_MAX, 1)
        if custom_id in seen:
            errors.add(f"{p}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        seen.add(custom_id)
    _length(errors, f"{p}.label", c.get("label"), BUTTON_LABEL_MAX)
    if style != PREMIUM_STYLE and not c.get("label") and not c.get("emoji"):
        errors.add(f"{p}.label", "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button needs a label or an emoji")


def check_components(errors: FormErrors, components: Any, prefix: str = "") -> None:
    """A message's components, as Discord checks them (no Components V2: action rows of buttons or one select)."""
    path = f"{prefix}components"
    if not isinstance(components, list):
        errors.add(path, "BASE_TYPE_BAD_LIST", "Must be a list.")
        return
    if len(components) > ACTION_ROWS_MAX:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_MAX} or fewer in length.")
    seen: set[str] = set()
    for n, row in enumerate(components):
        p = f"{path}.{n}"
        if not isinstance(row, dict) or row.get("type") != ACTION_ROW:
            errors.add(f"{p}.type", "BASE_TYPE_CHOICES", "Value must be one of (1,).")
            continue
        children = row.get("components")
        if not isinstance(children, list) or not 1 <= len(children) <= ROW_BUTTONS_MAX:
            errors.add(f"{p}.components", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {ROW_BUTTONS_MAX} in length.")
            continue
        for m, c in enumerate(children):
            q = f"{p}.components.{m}"
            kind = c.get("type") if isinstance(c, dict) else None
            if kind in SELECTS:
                if len(children) > 1:
                    errors.add(q, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width")
                if c.get("custom_id") is not None:
                    _length(errors, f"{q}.custom_id", c["custom_id"], CUSTOM_ID_MAX, 1)
                continue
            if kind != BUTTON:
                errors.add(f"{q}.type", "BASE_TYPE_CHOICES", "Value must be one of (2, 3, 5, 6, 7, 8).")
                continue
            _check_button(errors, q, c, seen)


def check_message(payload: dict[str, Any], *, require_content: bool = True, prefix: str = "") -> None:
    """Validate a message body (create, edit, follow-up, interaction response data)."""
    errors = FormErrors()
    content = payload.get("content")
    _length(errors, f"{prefix}content", content, CONTENT_MAX)
    embeds = payload.get("embeds")
    if embeds is not None:
        if not isinstance(embeds, list):
            errors.add(f"{prefix}embeds", "BASE_TYPE_BAD_LIST", "Must be a list.")
            embeds = []
        if len(embeds) > EMBEDS_MAX:
            errors.add(f"{prefix}embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
        total = 0
        for n, e in enumerate(embeds):
            p = f"{prefix}embeds.{n}"
            _length(errors, f"{p}.title", e.get("title"), EMBED_TITLE_MAX)
            _length(errors, f"{p}.description", e.get("description"), EMBED_DESCRIPTION_MAX)
            if e.get("url") is not None and not URL.match(str(e["url"])):
                errors.add(f"{p}.url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
            for media in ("image", "thumbnail"):  # http(s), or an attachment of the same message
                src = (e.get(media) or {}).get("url")
                if src is not None and not (URL.match(str(src)) or str(src).startswith("attachment://")):
                    errors.add(f"{p}.{media}.url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
            if e.get("footer") is not None:
                _length(errors, f"{p}.footer.text", e["footer"].get("text"), EMBED_FOOTER_MAX, 1)
            if e.get("author") is not None:
                _length(errors, f"{p}.author.name", e["author"].get("name"), EMBED_AUTHOR_MAX, 1)
            fields = e.get("fields") or []
            if len(fields) > EMBED_FIELDS_MAX:
                errors.add(f"{p}.fields", "BASE_TYPE_MAX_LENGTH", f"Must be {EMBED_FIELDS_MAX} or fewer in length.")
            for m, f in enumerate(fields):
                _length(errors, f"{p}.fields.{m}.name", f.get("name"), EMBED_FIELD_NAME_MAX, 1)
                _length(errors, f"{p}.fields.{m}.value", f.get("value"), EMBED_FIELD_VALUE_MAX, 1)
            total += embed_size(e)
        if total > EMBEDS_TOTAL_MAX:
            errors.add(f"{prefix}embeds", "MESSAGE_EMBEDS_TOO_LONG",
                       f"Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}")
    mentions = payload.get("allowed_mentions")
    if mentions is not None:
        parse = mentions.get("parse", [])
        if any(p not in ("roles", "users", "everyone") for p in parse):
            errors.add(f"{prefix}allowed_mentions.parse", "BASE_TYPE_CHOICES", "Value must be one of roles, users, everyone.")
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                errors.add(f"{prefix}allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                           f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.")
    if payload.get("components") is not None:
        check_components(errors, payload["components"], prefix)
    errors.raise_if_any()
    if require_content and not content and not embeds and not payload.get("components") and not payload.get("poll"):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def check_commands(commands: Any) -> None:
    errors = FormErrors()
    if not isinstance(commands, list) or len(commands) > 100:
        raise DiscordError(400, 50035, "Invalid Form Body", _error("_", "BASE_TYPE_BAD_LIST", "Must be a list of at most 100."))
    seen_names: set[tuple[int, str]] = set()
    for n, c in enumerate(commands):
        name = c.get("name", "")
        if c.get("type", 1) == 1:  # slash commands: lower case, no spaces
            valid = bool(COMMAND_NAME.match(name)) and name == name.lower()
        else:  # user and message commands "may be mixed case and can include spaces"
            valid = isinstance(name, str) and 1 <= len(name) <= 32
        if not valid:
            errors.add(f"{n}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if c.get("type", 1) == 1:
            _length(errors, f"{n}.description", c.get("description"), COMMAND_DESCRIPTION_MAX, 1)
        elif c.get("description"):  # "not allowed when creating message commands"; "" is let through
            errors.add(f"{n}.description", "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID",
                       "Context menu commands cannot have description")
        if c.get("type", 1) != 1 and c.get("options"):  # "options can only be set for ... CHAT_INPUT"
            errors.add(f"{n}.options", "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS_INVALID",
                       "Context menu commands cannot have options")
        if (c.get("type", 1), name) in seen_names:  # "names are unique per application, per type, [per] scope"
            errors.add(f"{n}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        seen_names.add((c.get("type", 1), name))
        options = c.get("options") or []
        if len(options) > COMMAND_OPTIONS_MAX:
            errors.add(f"{n}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        for m, o in enumerate(options):
            if not COMMAND_NAME.match(o.get("name", "")):
                errors.add(f"{n}.options.{m}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            _length(errors, f"{n}.options.{m}.description", o.get("description"), COMMAND_DESCRIPTION_MAX, 1)
            if o.get("required"):
                if seen_optional:
                    errors.add(f"{n}.options.{m}.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                               "Required options must be placed before non-required options")
            else:
                seen_optional = True
            if o.get("autocomplete") and o.get("choices"):
                errors.add(f"{n}.options.{m}", "AUTOCOMPLETE_CHOICES", "Autocomplete cannot be used with choices")
        perms = c.get("default_member_permissions")
        # a permission bit set: Discord accepts an integer or its decimal string, and answers with the string
        if perms is not None and not (isinstance(perms, int) and not isinstance(perms, bool) and perms >= 0) and not (
            isinstance(perms, str) and perms.isdigit()
        ):
            errors.add(f"{n}.default_member_permissions", "BASE_TYPE_BAD_INT", "Must be a permission integer.")
        # installation types (0 guild, 1 user) and interaction contexts (0 guild, 1 bot DM, 2 private channel)
        for key, allowed in (("integration_types", (0, 1)), ("contexts", (0, 1, 2))):
            values = c.get(key)
            if values is not None and (not isinstance(values, list) or any(v not in allowed for v in values)):
                errors.add(f"{n}.{key}", "BASE_TYPE_CHOICES", f"Value must be one of {set(allowed)}.")
    errors.raise_if_any()


def check_choices(data: dict[str, Any]) -> None:
    errors = FormErrors()
    choices = data.get("choices")
    if not isinstance(choices, list):
        errors.add("data.choices", "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        errors.add("data.choices", "BASE_TYPE_MAX_LENGTH", f"Must be {AUTOCOMPLETE_CHOICES_MAX} or fewer in length.")
    for n, c in enumerate(choices):
        _length(errors, f"data.choices.{n}.name", c.get("name"), CHOICE_NAME_MAX, 1)
        if isinstance(c.get("value"), str):
            _length(errors, f"data.choices.{n}.value", c.get("value"), CHOICE_VALUE_MAX, 1)
    errors.raise_if_any()


# Modals (interactions/receiving-and-responding#interaction-response-object-modal and components/reference, as of
# 2025-09): a modal has a custom_id of 1-100 characters, a title of at most 45 and 1-5 top-level components. Those
# are Labels (type 18: a label of at most 45, a description of at most 100, and one component: a text input, a
# select of any kind, a file upload, a radio group, a checkbox group or a checkbox) or Text Displays (10); an
# Action Row holding one Text Input is the older layout, deprecated but still taken, and a select must be in a
# Label. A text input: style 1 (short) or 2 (paragraph), min_length 0-4000, max_length 1-4000, value at most 4000,
# placeholder at most 100. A string select: 1-25 options (label and value at most 100, description at most 100),
# placeholder at most 150, min_values 0-25 and max_values 1-25. Nothing in a modal may be disabled.
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT, TEXT_DISPLAY, LABEL = 4, 10, 18
LABEL_CHILDREN = (3, TEXT_INPUT, 5, 6, 7, 8, 19, 21, 22, 23)
LABEL_TEXT_MAX, LABEL_DESCRIPTION_MAX = 45, 100
TEXT_INPUT_MAX = 4000
PLACEHOLDER_MAX, SELECT_PLACEHOLDER_MAX = 100, 150
SELECT_OPTIONS_MAX = 25
OPTION_FIELD_MAX = 100


def _int_between(errors: FormErrors, path: str, value: Any, low: int, high: int) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
        errors.add(path, "NUMBER_TYPE_MAX" if isinstance(value, int) else "BASE_TYPE_BAD_INT",
                   f"Must be between {low} and {high}.")


def _check_modal_input(errors: FormErrors, p: str, c: Any, seen: set[str]) -> None:
    kind = c.get("type") if isinstance(c, dict) else None
    if kind not in LABEL_CHILDREN:
        errors.add(f"{p}.type", "BASE_TYPE_CHOICES", f"Value must be one of {LABEL_CHILDREN}.")
        return
    custom_id = c.get("custom_id")
    if custom_id is None:
        errors.add(f"{p}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _length(errors, f"{p}.custom_id", custom_id, CUSTOM_ID_MAX, 1)
        if custom_id in seen:
            errors.add(f"{p}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        seen.add(custom_id)
    if c.get("disabled"):
        errors.add(f"{p}.disabled", "COMPONENT_DISABLED_NOT_ALLOWED", "Modal components cannot be disabled")
    if kind == TEXT_INPUT:
        if c.get("style") not in (1, 2):
            errors.add(f"{p}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
        _int_between(errors, f"{p}.min_length", c.get("min_length"), 0, TEXT_INPUT_MAX)
        _int_between(errors, f"{p}.max_length", c.get("max_length"), 1, TEXT_INPUT_MAX)
        _length(errors, f"{p}.value", c.get("value"), TEXT_INPUT_MAX)
        _length(errors, f"{p}.placeholder", c.get("placeholder"), PLACEHOLDER_MAX)
    elif kind == 3:
        options = c.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= SELECT_OPTIONS_MAX:
            errors.add(f"{p}.options", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {SELECT_OPTIONS_MAX} in length.")
            options = []
        for n, o in enumerate(options):
            _length(errors, f"{p}.options.{n}.label", o.get("label"), OPTION_FIELD_MAX, 1)
            _length(errors, f"{p}.options.{n}.value", o.get("value"), OPTION_FIELD_MAX, 1)
            _length(errors, f"{p}.options.{n}.description", o.get("description"), OPTION_FIELD_MAX)
        _length(errors, f"{p}.placeholder", c.get("placeholder"), SELECT_PLACEHOLDER_MAX)
        _int_between(errors, f"{p}.min_values", c.get("min_values"), 0, SELECT_OPTIONS_MAX)
        _int_between(errors, f"{p}.max_values", c.get("max_values"), 1, SELECT_OPTIONS_MAX)


def check_modal(data: dict[str, Any]) -> None:
    """A MODAL response's data (callback type 9), as Discord checks it."""
    errors = FormErrors()
    if data.get("custom_id") is None:
        errors.add("data.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
    _length(errors, "data.custom_id", data.get("custom_id"), CUSTOM_ID_MAX, 1)
    if data.get("title") is None:
        errors.add("data.title", "BASE_TYPE_REQUIRED", "This field is required")
    _length(errors, "data.title", data.get("title"), MODAL_TITLE_MAX, 1)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= MODAL_COMPONENTS_MAX:
        errors.add("data.components", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MODAL_COMPONENTS_MAX} in length.")
        components = []
    seen: set[str] = set()
    for n, top in enumerate(components):
        p = f"data.components.{n}"
        kind = top.get("type") if isinstance(top, dict) else None
        if kind == LABEL:
            _length(errors, f"{p}.label", top.get("label"), LABEL_TEXT_MAX, 1)
            if top.get("label") is None:
                errors.add(f"{p}.label", "BASE_TYPE_REQUIRED", "This field is required")
            _length(errors, f"{p}.description", top.get("description"), LABEL_DESCRIPTION_MAX)
            _check_modal_input(errors, f"{p}.component", top.get("component"), seen)
        elif kind == TEXT_DISPLAY:
            if not top.get("content"):
                errors.add(f"{p}.content", "BASE_TYPE_REQUIRED", "This field is required")
        elif kind == ACTION_ROW:  # deprecated: one text input, labelled by its own (deprecated) label
            children = top.get("components")
            if not isinstance(children, list) or len(children) != 1 or (children[0] or {}).get("type") != TEXT_INPUT:
                errors.add(f"{p}.components", "MODAL_ACTION_ROW_TEXT_INPUT_ONLY",
                           "An action row in a modal holds one text input; selects go in a label")
                continue
            _length(errors, f"{p}.components.0.label", children[0].get("label"), LABEL_TEXT_MAX, 1)
            _check_modal_input(errors, f"{p}.components.0", children[0], seen)
        else:
            errors.add(f"{p}.type", "BASE_TYPE_CHOICES", f"Value must be one of ({ACTION_ROW}, {TEXT_DISPLAY}, {LABEL}).")
    errors.raise_if_any()
