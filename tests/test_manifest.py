"""deploy/slack-manifest.yml is valid per Slack's schema and declares what the code registers."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from bot.adapters.slack.listeners import SLASH_COMMANDS, SUBSCRIBED_EVENTS
from tests.conftest import ROOT

# Slack's published schema (slackapi/manifest-schema, MIT), copied from shared/slack/.
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy" / "slack-manifest.yml").read_text())


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest, schema)


def test_manifest_declares_exactly_the_registered_surface(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == sorted(SUBSCRIBED_EVENTS)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == list(SLASH_COMMANDS)
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["socket_mode_enabled"] is True


def test_scopes_are_the_ones_the_calls_need(manifest: dict[str, Any]) -> None:
    needed = {
        "app_mentions:read",  # app_mention
        "chat:write",  # chat.postMessage, chat.postEphemeral
        "commands",  # /advisor
        "im:history",  # message.im
        "im:write",  # conversations.open
    }
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_every_request_url_is_the_one_endpoint(manifest: dict[str, Any]) -> None:
    urls = [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.endswith("/slack/events") for url in urls)


def test_a_broken_manifest_fails_the_schema(manifest: dict[str, Any]) -> None:
    broken = {**manifest, "settings": {**manifest["settings"], "socket_mode_enabled": "yes"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))
