"""Block Kit limits Slack enforces, with Slack's error shapes.

Each check yields a message like Slack's
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_ID_LENGTH = 255
MAX_MODAL_TITLE = 24
MAX_MESSAGE_TEXT = 40000

ERR_INVALID_BLOCKS = "invalid_blocks"
ERR_INVALID_BLOCKS_FORMAT = "invalid_blocks_format"
ERR_INVALID_ARGUMENTS = "invalid_arguments"
ERR_MSG_TOO_LONG = "msg_too_long"

MSG_TOO_LONG_CHARS = "must be less than {limit} characters"
MSG_TOO_SHORT = "must be more than 0 characters"
MSG_TOO_MANY = "no more than {limit} items allowed"
MSG_MISSING = "missing required field: {field}"
MSG_DUPLICATE_BLOCK_ID = "duplicate block_id {block_id!r}"
MSG_DUPLICATE_ACTION_ID = "duplicate action_id {action_id!r}"
MSG_TEXT_OR_FIELDS = "must provide either text or fields"
MSG_PLAIN_TEXT_ONLY = "must be a plain_text text object"
MSG_NOT_ARRAY = "must be an array"

POINTER = " [json-pointer:{path}]"


class BlockKitError(Exception):
    """Raised by :func:`parse_json_arg` when a JSON argument is malformed."""


def parse_json_arg(value: Any) -> Any:
    """Form-encoded args carry JSON as a string; JSON bodies carry it as-is."""
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise BlockKitError(str(exc)) from exc
    return value


def _at(message: str, path: str) -> str:
    return message + POINTER.format(path=path)


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def _check_text(obj: Any, limit: int, path: str, *, plain_only: bool = False) -> Iterator[str]:
    if not isinstance(obj, dict):
        yield _at(MSG_MISSING.format(field="text"), path)
        return
    if plain_only and obj.get("type") != "plain_text":
        yield _at(MSG_PLAIN_TEXT_ONLY, f"{path}/type")
    n = _text_len(obj)
    if n > limit:
        yield _at(MSG_TOO_LONG_CHARS.format(limit=limit + 1), f"{path}/text")
    elif n == 0:
        yield _at(MSG_TOO_SHORT, f"{path}/text")


def _check_element(el: Any, path: str, action_ids: set[str]) -> Iterator[str]:
    if not isinstance(el, dict):
        yield _at(MSG_MISSING.format(field="type"), path)
        return
    action_id = el.get("action_id")
    if action_id is not None:
        if len(str(action_id)) > MAX_ID_LENGTH:
            yield _at(MSG_TOO_LONG_CHARS.format(limit=MAX_ID_LENGTH + 1), f"{path}/action_id")
        if action_id in action_ids:
            yield _at(MSG_DUPLICATE_ACTION_ID.format(action_id=action_id), f"{path}/action_id")
        action_ids.add(action_id)
    if el.get("type") == "button":
        yield from _check_text(el.get("text"), MAX_BUTTON_TEXT, f"{path}/text", plain_only=True)


def _check_block(block: Any, path: str) -> Iterator[str]:
    if not isinstance(block, dict) or "type" not in block:
        yield _at(MSG_MISSING.format(field="type"), path)
        return
    kind = block["type"]
    block_id = block.get("block_id")
    if block_id is not None and len(str(block_id)) > MAX_ID_LENGTH:
        yield _at(MSG_TOO_LONG_CHARS.format(limit=MAX_ID_LENGTH + 1), f"{path}/block_id")
    action_ids: set[str] = set()
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            yield _at(MSG_TEXT_OR_FIELDS, path)
        if text is not None:
            yield from _check_text(text, MAX_SECTION_TEXT, f"{path}/text")
        if fields is not None:
            if not isinstance(fields, list):
                yield _at(MSG_NOT_ARRAY, f"{path}/fields")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    yield _at(MSG_TOO_MANY.format(limit=MAX_SECTION_FIELDS), f"{path}/fields")
                for i, field in enumerate(fields):
                    yield from _check_text(field, MAX_FIELD_TEXT, f"{path}/fields/{i}")
        if "accessory" in block:
            yield from _check_element(block["accessory"], f"{path}/accessory", action_ids)
    elif kind == "header":
        yield from _check_text(block.get("text"), MAX_HEADER_TEXT, f"{path}/text", plain_only=True)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list):
            yield _at(MSG_NOT_ARRAY, f"{path}/elements")
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            yield _at(MSG_TOO_MANY.format(limit=MAX_ACTIONS_ELEMENTS), f"{path}/elements")
        for i, el in enumerate(elements):
            yield from _check_element(el, f"{path}/elements/{i}", action_ids)
    elif kind == "input":
        yield from _check_text(block.get("label"), 2000, f"{path}/label", plain_only=True)
        if "element" not in block:
            yield _at(MSG_MISSING.format(field="element"), f"{path}")
        else:
            yield from _check_element(block["element"], f"{path}/element", action_ids)


def block_errors(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS, base: str = "/blocks") -> list[str]:
    """Every Block Kit violation in `blocks` (empty list when valid)."""
    if not isinstance(blocks, list):
        return [_at(MSG_NOT_ARRAY, base)]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_at(MSG_TOO_MANY.format(limit=limit), base))
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        path = f"{base}/{i}"
        errors.extend(_check_block(block, path))
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in seen:
                errors.append(_at(MSG_DUPLICATE_BLOCK_ID.format(block_id=block_id), f"{path}/block_id"))
            seen.add(block_id)
    return errors


def view_errors(view: Any) -> list[str]:
    """Every violation in a modal view payload."""
    if not isinstance(view, dict):
        return [_at(MSG_MISSING.format(field="view"), "/view")]
    errors: list[str] = []
    if view.get("type") not in ("modal", "home"):
        errors.append(_at(MSG_MISSING.format(field="type"), "/view/type"))
    if view.get("type", "modal") == "modal":
        if "title" not in view:
            errors.append(_at(MSG_MISSING.format(field="title"), "/view/title"))
        for key in ("title", "submit", "close"):
            if key in view and view[key] is not None:
                obj = view[key]
                errors.extend(_check_text(obj, MAX_MODAL_TITLE, f"/view/{key}", plain_only=True))
    errors.extend(block_errors(view.get("blocks", []), limit=MAX_MODAL_BLOCKS, base="/view/blocks"))
    return errors


def invalid_blocks_response(errors: list[str]) -> dict[str, Any]:
    """Slack's chat.postMessage / chat.update answer for bad blocks."""
    return {
        "ok": False,
        "error": ERR_INVALID_BLOCKS,
        "errors": list(errors),
        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
    }


def invalid_view_response(errors: list[str]) -> dict[str, Any]:
    """Slack's views.* answer for a bad view."""
    return {"ok": False, "error": ERR_INVALID_ARGUMENTS, "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]}}


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _random_id(length: int = 5) -> str:
    import secrets

    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(block.get("elements"), list) and block.get("type") == "actions":
        found.extend(e for e in block["elements"] if isinstance(e, dict))
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return found


def fill_ids(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """A copy with the block_id / action_id Slack generates when an app leaves them out."""
    if blocks is None:
        return None
    out = json.loads(json.dumps(blocks))
    for block in out:
        if not isinstance(block, dict):
            continue
        if block.get("type") in ("actions", "input", "section", "context", "header", "divider", "image", "rich_text") and not block.get("block_id"):
            block["block_id"] = _random_id()
        for el in _elements(block):
            if "type" in el and el["type"] not in ("image", "plain_text", "mrkdwn") and not el.get("action_id"):
                el["action_id"] = _random_id()
    return out


def interactive_elements(blocks: list[dict[str, Any]] | None) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every interactive element in `blocks`."""
    for block in blocks or []:
        if isinstance(block, dict):
            for el in _elements(block):
                if el.get("action_id"):
                    yield block, el
