"""Message components pressed: a reader clicks a button on a message and the app gets a MESSAGE_COMPONENT interaction.

What Discord documents (interactions/receiving-and-responding, components/reference), and this server does:

- A press of a button (not a link button, not a disabled one) on a message sends INTERACTION_CREATE type 3 with
  ``data`` ``{custom_id, component_type: 2}``, the whole ``message`` the button is on (an ephemeral one too, with
  its flags), and ``member`` (in a guild) naming who pressed. Only buttons the message carries can be pressed.
- It is answered like any interaction, within 3 s, and besides 4/5/9 with DEFERRED_UPDATE_MESSAGE (6: nothing
  visible yet; editing ``@original`` then edits the component's message) or UPDATE_MESSAGE (7: the data edits
  the component's message at once).
- Follow-ups of a component interaction are new messages, public unless flagged ephemeral (64).
- A message's ``mentions`` are the users its content mentions that its ``allowed_mentions`` let ping (all of
  them when it has none).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from tests.discord_api.gateway import DEFAULT_PERMISSIONS
from tests.discord_api.interactions import InteractionRecord, InteractionRoutes
from tests.discord_api.limits import LINK_STYLE
from tests.discord_api.wire import now_iso

MESSAGE_COMPONENT = 3
_USER_MENTION = re.compile(r"<@!?(\d+)>")


class ComponentRoutes(InteractionRoutes):
    known_users: dict[str, dict[str, Any]]

    # --- the messages buttons may be on --------------------------------------------------------
    def all_messages(self) -> list[dict[str, Any]]:
        """Every message: in channels, and the interactions' responses and follow-ups (ephemeral ones too)."""
        seen: dict[str, dict[str, Any]] = {}
        for msgs in self.channel_messages.values():
            for m in msgs:
                seen[m["id"]] = m
        for rec in self.interactions.values():
            for m in rec.messages:
                seen.setdefault(m["id"], m)
        return list(seen.values())

    def any_message(self, message_id: str) -> dict[str, Any]:
        for m in self.all_messages():
            if m["id"] == message_id:
                return m
        raise KeyError(f"no message {message_id}")

    def component_message(self, rec: InteractionRecord) -> dict[str, Any]:
        if rec.message_id is None:
            raise KeyError("not a component interaction")
        return self.any_message(rec.message_id)

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [c for row in message.get("components") or [] for c in row.get("components") or [] if c.get("type") == 2]

    def mentioned(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        allowed = body.get("allowed_mentions")
        parse = ["users", "roles", "everyone"] if allowed is None else allowed.get("parse", [])
        ids = set(_USER_MENTION.findall(body.get("content") or "")) if "users" in parse else set()
        ids |= {str(u) for u in (allowed or {}).get("users", [])} & set(_USER_MENTION.findall(body.get("content") or ""))
        known = {**self.known_users, self.app_id: self.bot_user}
        return [known[uid] for uid in sorted(ids) if uid in known]

    def edit_stored(self, target: dict[str, Any], body: dict[str, Any]) -> None:
        """Apply an edit (content, embeds, allowed mentions, components) to a stored message."""
        target.update({k: v for k, v in body.items() if k in ("content", "embeds", "allowed_mentions", "components")})
        if "content" in body or "allowed_mentions" in body:
            target["mentions"] = self.mentioned(target)
        target["edited_timestamp"] = now_iso()

    # --- what tests do ---------------------------------------------------------------------
    async def click(self, message: dict[str, Any] | str, label: str | None = None, *, custom_id: str | None = None,
                    user: dict[str, Any] | None = None) -> InteractionRecord:
        """``user`` (a new reader by default) presses the button labelled ``label`` (or with ``custom_id``) on
        ``message`` as it is now; INTERACTION_CREATE type 3 follows. Only a button the message carries, enabled and
        not a link, can be pressed, as in Discord's client."""
        msg = self.any_message(message if isinstance(message, str) else message["id"])
        found = [b for b in self.buttons(msg) if (label is None or b.get("label") == label)
                 and (custom_id is None or b.get("custom_id") == custom_id)]
        if not found:
            raise LookupError(f"message {msg['id']} has no button {label or custom_id!r}: "
                              f"{[b.get('label') for b in self.buttons(msg)]}")
        button = found[0]
        if button.get("disabled") or button.get("style") == LINK_STYLE:
            raise LookupError(f"button {button.get('label')!r} cannot be pressed (disabled or a link)")
        user = user or self.user("reader")
        self.known_users[user["id"]] = user
        rec = InteractionRecord(
            id=self.snowflake(), token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48), type=MESSAGE_COMPONENT,
            data={"custom_id": button["custom_id"], "component_type": 2}, user_id=user["id"], created=time.monotonic(),
            message_id=msg["id"])
        await self._create_interaction(rec, user, DEFAULT_PERMISSIONS, message=msg)
        return rec
