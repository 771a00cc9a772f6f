"""Modals filled in and submitted: the app answered an interaction with a modal (callback type 9), a user fills it
and the app gets a MODAL_SUBMIT interaction (type 5).

What Discord documents (interactions/receiving-and-responding#interaction-object-modal-submit-data-structure,
components/reference#label-label-interaction-response-structure), and this server does:

- Only the user the modal was shown to can submit it, with values only for the inputs it has: a select's values
  among its options and as many as its min_values/max_values allow, a text input's text within its
  min_length/max_length; a required input (the default) must be answered.
- ``data`` is ``{custom_id, components}``: each Label comes back as ``{type: 18, id, component}`` with its input's
  ``{type, id, custom_id}`` and ``values`` (a select) or ``value`` (a text input, "" when left empty); an Action Row
  (the older layout) as ``{type: 1, id, components: [...]}``; a Text Display as ``{type: 10, id}``.
- A modal opened from a button carries that button's ``message``, and may be answered with 6 or 7 as well as 4
  and 5; never with another modal (9).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.discord_api.components import ComponentRoutes
from tests.discord_api.gateway import DEFAULT_PERMISSIONS
from tests.discord_api.interactions import InteractionRecord
from tests.discord_api.limits import ACTION_ROW, LABEL, TEXT_DISPLAY, TEXT_INPUT

MODAL_SUBMIT = 5


def _answer(component: dict[str, Any], values: dict[str, str | list[str]], ids: list[int]) -> dict[str, Any]:
    ids.append(ids[-1] + 1 if ids else 1)
    custom_id = component["custom_id"]
    given = values.get(custom_id)
    required = component.get("required", True)
    if component["type"] == TEXT_INPUT:
        text = given if isinstance(given, str) else ""
        if isinstance(given, list):
            raise ValueError(f"{custom_id!r} is a text input: give it a string")
        if required and not text:
            raise ValueError(f"{custom_id!r} is required")
        low, high = component.get("min_length") or 0, component.get("max_length") or 4000
        if text and not low <= len(text) <= high:
            raise ValueError(f"Discord's client lets {custom_id!r} hold {low}-{high} characters, not {len(text)}")
        return {"type": TEXT_INPUT, "id": ids[-1], "custom_id": custom_id, "value": text}
    chosen = [given] if isinstance(given, str) else list(given or [])
    low = component.get("min_values", 1) if required else 0
    high = component.get("max_values", 1)
    if not low <= len(chosen) <= high:
        raise ValueError(f"{custom_id!r} takes {low}-{high} choices, not {len(chosen)}")
    offered = [o["value"] for o in component.get("options") or []]
    if component["type"] == 3 and any(v not in offered for v in chosen):
        raise ValueError(f"{custom_id!r} offers {offered}, not {chosen}")
    return {"type": component["type"], "id": ids[-1], "custom_id": custom_id, "values": chosen}


class ModalRoutes(ComponentRoutes):
    # --- what tests do ---------------------------------------------------------------------
    async def submit_modal(self, opened: InteractionRecord, values: dict[str, str | list[str]], *,
                           user: dict[str, Any] | None = None) -> InteractionRecord:
        """The user shown the modal that ``opened`` was answered with fills it with ``values`` (by input
        custom_id) and submits it: INTERACTION_CREATE type 5 follows. ``user``: someone else trying (refused,
        as Discord's client never shows them the modal)."""
        modal = opened.modal
        if modal is None:
            raise LookupError("that interaction was not answered with a modal")
        if user is not None and user["id"] != opened.user_id:
            raise PermissionError("a modal is shown only to the user whose interaction opened it")
        user = self.known_users.get(opened.user_id) or {**self.user("reader"), "id": opened.user_id}
        known = {c.get("custom_id") for top in modal["components"]
                 for c in ([top.get("component")] if top.get("type") == LABEL else top.get("components") or [])}
        if set(values) - known:
            raise KeyError(f"the modal has no inputs {sorted(set(values) - known)}")
        ids: list[int] = []
        answered: list[dict[str, Any]] = []
        for top in modal["components"]:
            if top["type"] == LABEL:
                ids.append(ids[-1] + 1 if ids else 1)
                label_id = ids[-1]
                answered.append({"type": LABEL, "id": label_id, "component": _answer(top["component"], values, ids)})
            elif top["type"] == ACTION_ROW:
                ids.append(ids[-1] + 1 if ids else 1)
                row_id = ids[-1]
                answered.append({"type": ACTION_ROW, "id": row_id,
                                 "components": [_answer(c, values, ids) for c in top["components"]]})
            elif top["type"] == TEXT_DISPLAY:
                ids.append(ids[-1] + 1 if ids else 1)
                answered.append({"type": TEXT_DISPLAY, "id": ids[-1]})
        rec = InteractionRecord(
            id=self.snowflake(), token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48), type=MODAL_SUBMIT,
            data={"custom_id": modal["custom_id"], "components": answered}, user_id=user["id"],
            created=time.monotonic(), message_id=opened.message_id)
        # opened from a button: in that message's channel, carrying it, as a component interaction is
        message = self.any_message(opened.message_id) if opened.message_id is not None else None
        await self._create_interaction(rec, user, DEFAULT_PERMISSIONS, message=message)
        return rec
