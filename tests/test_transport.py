"""The Web API client keeps its connections open, and fails and retries exactly as
slack_sdk's own does (against the loopback Slack Web API, which keeps connections like Slack)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.app import web_client
from bot.loopback.slack_api import Failure, FakeSlackAPI


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


def peers(api: FakeSlackAPI, channel: str) -> list[int]:
    return [c.peer for c in api.attempts("chat.postMessage") if c.params["channel"] == channel]


def test_calls_from_one_thread_share_one_connection(api: FakeSlackAPI) -> None:
    client = web_client("xoxb-1", api.url)
    for n in range(5):
        assert client.chat_postMessage(channel="C1", text=f"hello {n}")["ok"]
    assert len(set(peers(api, "C1"))) == 1
    assert [c.params["text"] for c in api.calls_to("chat.postMessage")] == [
        f"hello {n}" for n in range(5)
    ]
    assert api.calls_to("chat.postMessage")[0].headers["authorization"] == "Bearer xoxb-1"

    def elsewhere() -> None:
        client.chat_postMessage(channel="C1", text="from another thread")

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert len(set(peers(api, "C1"))) == 2  # connections are not shared between threads


def test_a_connection_the_server_closes_is_replaced(api: FakeSlackAPI) -> None:
    client = web_client("xoxb-1", api.url)
    api.fail("chat.postMessage", Failure(200, {"ok": True, "ts": "1.1"}, {"Connection": "close"}))
    client.chat_postMessage(channel="C2", text="one")
    client.chat_postMessage(channel="C2", text="two")
    client.chat_postMessage(channel="C2", text="three")
    first, second, third = peers(api, "C2")
    assert first != second == third


def test_rate_limits_and_server_errors_are_retried_on_a_kept_connection(
    api: FakeSlackAPI,
) -> None:
    client = web_client("xoxb-1", api.url)
    api.fail(
        "chat.postMessage",
        Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
        Failure(502, {"ok": False, "error": "bad_gateway"}),
    )
    assert client.chat_postMessage(channel="C3", text="hi")["ok"]
    assert [c.status for c in api.attempts("chat.postMessage")] == [429, 502, 200]


def test_a_timeout_is_retried_on_a_fresh_connection(api: FakeSlackAPI) -> None:
    client = web_client("xoxb-1", api.url, timeout=1)
    client.chat_postMessage(channel="C4", text="warm")
    api.fail("chat.postMessage", Failure(200, {"ok": True}, delay=1.5))
    assert client.chat_postMessage(channel="C4", text="slow")["ok"]
    warm, hung, retried = peers(api, "C4")
    assert warm == hung != retried


def test_slack_errors_are_raised_as_slack_sdk_raises_them(api: FakeSlackAPI) -> None:
    client = web_client("xoxb-1", api.url)
    api.fail("chat.postMessage", Failure(200, {"ok": False, "error": "channel_not_found"}))
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C5", text="hi")
    assert raised.value.response["error"] == "channel_not_found"
    api.fail("chat.postMessage", Failure(404, {"ok": False, "error": "unknown_method"}))
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C5", text="hi")
    assert raised.value.response.status_code == 404
    assert client.chat_postMessage(channel="C5", text="and on")["ok"]


def test_debug_messages_are_built_only_when_debug_is_on(api: FakeSlackAPI) -> None:
    """slack_sdk builds a debug message (the whole payload) whenever its logger's own level is
    NOTSET; the client's logger takes the level in effect, and keeps one the operator set."""
    sdk = logging.getLogger("slack_sdk.web.base_client")
    saved = sdk.level
    try:
        sdk.setLevel(logging.NOTSET)
        with_info = web_client("xoxb-1", api.url)
        assert sdk.level == logging.getLogger().getEffectiveLevel() > logging.DEBUG
        assert with_info.chat_postMessage(channel="C1", text="hi")["ok"]

        sdk.setLevel(logging.DEBUG)
        web_client("xoxb-1", api.url)
        assert sdk.level == logging.DEBUG
    finally:
        sdk.setLevel(saved)
