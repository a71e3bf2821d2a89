"""manifest.json must be a valid Slack app manifest and match what the code needs."""

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from assistant.settings import DEFAULT_SUGGESTED_PROMPTS

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
SCHEMA = REFERENCE / "slack-manifest.schema.json"
REMOTE_PREFIX = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((ROOT / "manifest.json").read_text())


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema is not beside the project")
def test_manifest_validates_against_slacks_schema(manifest):
    # The top-level schema points at versioned schemas online; serve them from the local copies.
    resources = [
        (REMOTE_PREFIX + path.name.removeprefix("slack-"), Resource.from_contents(json.loads(path.read_text())))
        for path in REFERENCE.glob("slack-manifest.schema.*.json")
    ]
    registry = Registry().with_resources(resources)
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()), registry=registry)
    errors = sorted(validator.iter_errors(manifest), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_manifest_has_what_the_bot_needs(manifest):
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True, "feedback clicks would never arrive"
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "assistant_thread_started",
        "assistant_thread_context_changed",
        "message.im",
    }
    assert manifest["features"]["assistant_view"]["assistant_description"]


def test_manifest_asks_only_for_real_scopes_the_code_uses(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert "assistant:read" not in scopes, "not a Slack scope"
    assert scopes == {
        "assistant:write",  # setStatus, setTitle, setSuggestedPrompts
        "chat:write",  # greeting, streaming, notices, ephemeral thanks
        "im:history",  # conversations.replies in the assistant DM, message.im
        "channels:read",  # conversations.info / members for a public context channel
        "groups:read",  # ... and a private one
        "channels:history",  # conversations.history of a public context channel
        "groups:history",  # ... and a private one
        "users:read",  # users.info: guests are refused unless ALLOW_GUESTS
    }


def test_manifest_prompts_match_the_default_configuration(manifest):
    prompts = manifest["features"]["assistant_view"]["suggested_prompts"]
    assert prompts == [p.as_slack() for p in DEFAULT_SUGGESTED_PROMPTS]
