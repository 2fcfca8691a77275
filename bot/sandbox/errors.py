"""Slack's error names and the sentences Slack shows people, in one place."""

from __future__ import annotations

from typing import Any

# ---- Web API error names (the `error` field of {"ok": false})
NOT_AUTHED = "not_authed"
INVALID_AUTH = "invalid_auth"
NOT_ALLOWED_TOKEN_TYPE = "not_allowed_token_type"
MISSING_SCOPE = "missing_scope"
UNKNOWN_METHOD = "unknown_method"
INVALID_ARGUMENTS = "invalid_arguments"
INVALID_JSON = "invalid_json"
RATELIMITED = "ratelimited"

CHANNEL_NOT_FOUND = "channel_not_found"
NOT_IN_CHANNEL = "not_in_channel"
IS_ARCHIVED = "is_archived"
ALREADY_ARCHIVED = "already_archived"
CANT_ARCHIVE_GENERAL = "cant_archive_general"
NAME_TAKEN = "name_taken"
INVALID_NAME_SPECIALS = "invalid_name_specials"
INVALID_NAME_MAXLENGTH = "invalid_name_maxlength"
INVALID_NAME_REQUIRED = "invalid_name_required"
METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE = "method_not_supported_for_channel_type"
ALREADY_IN_CHANNEL = "already_in_channel"
USER_NOT_FOUND = "user_not_found"
CANT_INVITE_SELF = "cant_invite_self"
NO_USER = "no_user"
USERS_LIST_NOT_SUPPLIED = "users_list_not_supplied"
USER_NOT_IN_CHANNEL = "user_not_in_channel"

NO_TEXT = "no_text"
MSG_TOO_LONG = "msg_too_long"
MESSAGE_NOT_FOUND = "message_not_found"
CANT_UPDATE_MESSAGE = "cant_update_message"
ALREADY_PINNED = "already_pinned"
NO_ITEM_SPECIFIED = "no_item_specified"
ALREADY_REACTED = "already_reacted"
INVALID_NAME = "invalid_name"

INVALID_TRIGGER_ID = "invalid_trigger_id"
EXPIRED_TRIGGER_ID = "expired_trigger_id"
EXCHANGED_TRIGGER_ID = "exchanged_trigger_id"
NOT_FOUND = "not_found"
HASH_CONFLICT = "hash_conflict"
DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
PUSH_LIMIT_REACHED = "push_limit_reached"

NO_SUCH_SUBTEAM = "no_such_subteam"
FILE_NOT_FOUND = "file_not_found"

# ---- response_url answers
EXPIRED_URL = "expired_url"
USED_URL = "used_url"
NO_SERVICE = "no_service"
INVALID_PAYLOAD = "invalid_payload"

# ---- what Slack shows a person when the app misbehaves
COMMAND_FAILED = '{command} failed with the error "{error}"'
DISPATCH_FAILED = "dispatch_failed"
OPERATION_TIMEOUT = "operation_timeout"
MODAL_TROUBLE_CONNECTING = "We had some trouble connecting. Try again?"
FIELD_REQUIRED = "Please complete this required field."

# ---- response_metadata messages
MISSING_FIELD = "[ERROR] missing required field: {field}"
TRIGGER_ID_REQUIRED = "[ERROR] missing required field: trigger_id"


class ApiError(Exception):
    """A Web API failure: becomes {"ok": false, "error": <error>, **extra}."""

    def __init__(self, error: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def missing_field(field: str) -> ApiError:
    """Slack's invalid_arguments for a missing required argument."""
    return ApiError(INVALID_ARGUMENTS, response_metadata={"messages": [MISSING_FIELD.format(field=field)]})
