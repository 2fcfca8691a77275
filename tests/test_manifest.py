"""manifest.yml cannot drift from the code: scopes used == scopes granted, one command."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.sandbox.scopes import required
from bot.slack.listeners import COMMAND
from tests.conftest import MANIFEST, ROOT

CALL = re.compile(r"""_call\(\s*["']([a-z]+(?:\.[A-Za-z]+)+)["']""")
CLIENT = re.compile(r"\bclient\.([a-z]+_[A-Za-z_]+)\(")
# chat:write.public: warroom posts to the announcements channel without joining it.
# reactions:read: the reaction_added event subscription needs it.
IMPLIED = {"commands", "chat:write.public", "reactions:read"}


def methods_called() -> set[str]:
    found: set[str] = set()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "commands").rglob("*.py")):
        if "sandbox" in path.parts:
            continue
        text = path.read_text()
        found |= set(CALL.findall(text))
        found |= {m.replace("_", ".") for m in CLIENT.findall(text)}
        if "files_upload_v2" in text:  # one SDK helper, two Web API methods
            found |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
            found.discard("files.upload.v2")
    return found


def manifest() -> dict:
    return yaml.safe_load(Path(MANIFEST).read_text())


def test_source_scan_finds_the_calls_warroom_makes():
    assert {"conversations.create", "chat.postMessage", "views.open"} <= methods_called()


def test_every_scope_the_code_needs_is_granted_and_nothing_more():
    needed = {required(method)[0] for method in methods_called() if required(method)} | IMPLIED
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert needed - granted == set(), "missing from manifest.yml"
    assert granted - needed == set(), "granted in manifest.yml but never used"


def test_the_registered_command_is_the_manifest_command_with_interactivity():
    data = manifest()
    assert [c["command"] for c in data["features"]["slash_commands"]] == [COMMAND]
    assert data["features"]["slash_commands"][0]["should_escape"] is True  # <@U…> mentions
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["features"]["bot_user"]["display_name"]
