"""Discord's documented limits on what a bot sends, so the fake refuses what Discord refuses (400, code 50035).

Messages: content 2,000; at most 10 embeds; per embed title 256, description 4,096, 25 fields, field name 256
and value 1,024 (both required), footer 2,048, author name 256; 6,000 characters over title, description,
field names and values, footer and author name of all embeds of a message together. Classic components: at
most 5 action rows, each with at most 5 buttons or exactly one select; a custom_id 1–100 characters, unique in
the message; a button label at most 80; a select 1–25 options (label and value 1–100, description 100),
placeholder 150. Modals: title 45, custom_id 100, 1–5 rows, one text input each (label 45, max_length 4,000,
value 4,000, placeholder 100). Autocomplete answers: at most 25 choices, name and value 1–100 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

JSON = dict[str, Any]

CONTENT = 2000
EMBEDS = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000
ROWS = 5
BUTTONS_PER_ROW = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80
SELECT_OPTIONS = 25
OPTION_TEXT = 100
PLACEHOLDER = 150
MODAL_TITLE = 45
MODAL_ROWS = 5
INPUT_LABEL = 45
INPUT_VALUE = 4000
INPUT_PLACEHOLDER = 100
CHOICES = 25
CHOICE_TEXT = 100
IS_COMPONENTS_V2 = 1 << 15

MESSAGE_ROUTE = "POST /channels/{channel_id}/messages"
DM_OPEN_ROUTE = "POST /users/@me/channels"
ROUTE_LIMITS: dict[str, tuple[int, float]] = {MESSAGE_ROUTE: (5, 5.0)}
"""Per-route buckets as Discord announces them in X-RateLimit-* headers, for ``FakeDiscord(route_limits=...)``:
creating a message is 5 per 5 s per channel (each DM is its own channel, so a DM fan-out never meets it). Opening a
DM has its own bucket and an unpublished anti-spam limit; the fake gives it the default bucket, so the global
50 requests/s is what bounds a first fan-out."""
ACTION_ROW, BUTTON, TEXT_INPUT = 1, 2, 4
SELECTS = (3, 5, 6, 7, 8)


class FormError(ValueError):
    """What Discord answers as "Invalid Form Body" (400, 50035)."""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _at_most(what: str, value: object, limit: int, *, required: bool = False) -> int:
    length = len(_text(value))
    if length > limit:
        raise FormError(f"{what} must be {limit} or fewer in length (got {length})")
    if required and length == 0:
        raise FormError(f"{what} must be 1 or more in length")
    return length


def check_embed(embed: JSON, n: int) -> int:
    """Raises on a broken limit; returns the characters the embed counts towards the 6,000 total."""
    where = f"embeds[{n}]"
    size = _at_most(f"{where}.title", embed.get("title"), TITLE)
    size += _at_most(f"{where}.description", embed.get("description"), DESCRIPTION)
    fields = embed.get("fields") or []
    if len(fields) > FIELDS:
        raise FormError(f"{where}.fields must be {FIELDS} or fewer in length (got {len(fields)})")
    for m, field in enumerate(fields):
        size += _at_most(f"{where}.fields[{m}].name", field.get("name"), FIELD_NAME, required=True)
        size += _at_most(f"{where}.fields[{m}].value", field.get("value"), FIELD_VALUE, required=True)
    size += _at_most(f"{where}.footer.text", (embed.get("footer") or {}).get("text"), FOOTER)
    size += _at_most(f"{where}.author.name", (embed.get("author") or {}).get("name"), AUTHOR)
    return size


def check_message(body: JSON) -> None:
    """The message limits on whichever of content, embeds and components ``body`` carries (create or edit)."""
    _at_most("content", body.get("content"), CONTENT)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS:
        raise FormError(f"embeds must be {EMBEDS} or fewer in length (got {len(embeds)})")
    total = sum(check_embed(embed, n) for n, embed in enumerate(embeds))
    if total > EMBED_TOTAL:
        raise FormError(f"embeds: the combined text of all embeds must be {EMBED_TOTAL} or fewer (got {total})")
    flags = int(body.get("flags") or 0)
    if not flags & IS_COMPONENTS_V2:
        check_components(body.get("components") or [])


def check_components(rows: Sequence[JSON]) -> None:
    if len(rows) > ROWS:
        raise FormError(f"components must be {ROWS} or fewer in length (got {len(rows)})")
    seen: set[str] = set()
    for n, row in enumerate(rows):
        if row.get("type") != ACTION_ROW:
            raise FormError(f"components[{n}]: a top-level component must be an action row")
        children = row.get("components") or []
        kinds = [child.get("type") for child in children]
        if not children:
            raise FormError(f"components[{n}].components must be 1 or more in length")
        if any(kind in SELECTS for kind in kinds) and len(children) > 1:
            raise FormError(f"components[{n}]: a select menu must be alone in its row")
        if len(children) > BUTTONS_PER_ROW:
            raise FormError(f"components[{n}].components must be {BUTTONS_PER_ROW} or fewer in length")
        for m, child in enumerate(children):
            _check_component(child, f"components[{n}].components[{m}]", seen)


def _check_component(child: JSON, where: str, seen: set[str]) -> None:
    kind = child.get("type")
    if kind == BUTTON:
        _at_most(f"{where}.label", child.get("label"), BUTTON_LABEL)
        if child.get("style") == 5 or child.get("url"):  # a link button has a URL, no custom_id
            return
    elif kind in SELECTS:
        _at_most(f"{where}.placeholder", child.get("placeholder"), PLACEHOLDER)
        options = child.get("options") or []
        if kind == 3 and not 1 <= len(options) <= SELECT_OPTIONS:
            raise FormError(f"{where}.options must be between 1 and {SELECT_OPTIONS} in length")
        for k, option in enumerate(options):
            _at_most(f"{where}.options[{k}].label", option.get("label"), OPTION_TEXT, required=True)
            _at_most(f"{where}.options[{k}].value", option.get("value"), OPTION_TEXT, required=True)
            _at_most(f"{where}.options[{k}].description", option.get("description"), OPTION_TEXT)
    else:
        raise FormError(f"{where}: component type {kind} is not allowed in a message action row")
    custom_id = _text(child.get("custom_id"))
    _at_most(f"{where}.custom_id", custom_id, CUSTOM_ID, required=True)
    if custom_id in seen:
        raise FormError(f"{where}.custom_id: component custom id cannot be duplicated")
    seen.add(custom_id)


def check_modal(data: JSON) -> None:
    _at_most("data.title", data.get("title"), MODAL_TITLE, required=True)
    _at_most("data.custom_id", data.get("custom_id"), CUSTOM_ID, required=True)
    rows = data.get("components") or []
    if not 1 <= len(rows) <= MODAL_ROWS:
        raise FormError(f"data.components must be between 1 and {MODAL_ROWS} in length")
    for n, row in enumerate(rows):
        inputs = row.get("components") or ([row["component"]] if row.get("component") else [])
        if len(inputs) != 1:
            raise FormError(f"data.components[{n}]: one input per row")
        field = inputs[0]
        where = f"data.components[{n}]"
        _at_most(f"{where}.custom_id", field.get("custom_id"), CUSTOM_ID, required=True)
        label = row.get("label") if row.get("type") == 18 else field.get("label")
        _at_most(f"{where}.label", label, INPUT_LABEL, required=row.get("type") != 18)
        if field.get("type") == TEXT_INPUT:
            for key in ("min_length", "max_length"):
                if field.get(key) is not None and not 0 <= int(field[key]) <= INPUT_VALUE:
                    raise FormError(f"{where}.{key} must be between 0 and {INPUT_VALUE}")
            _at_most(f"{where}.value", field.get("value"), INPUT_VALUE)
            _at_most(f"{where}.placeholder", field.get("placeholder"), INPUT_PLACEHOLDER)


def check_autocomplete(data: JSON) -> None:
    choices = data.get("choices") or []
    if len(choices) > CHOICES:
        raise FormError(f"data.choices must be {CHOICES} or fewer in length (got {len(choices)})")
    for n, choice in enumerate(choices):
        _at_most(f"data.choices[{n}].name", choice.get("name"), CHOICE_TEXT, required=True)
        _at_most(f"data.choices[{n}].value", choice.get("value"), CHOICE_TEXT, required=True)
