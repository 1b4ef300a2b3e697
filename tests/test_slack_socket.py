"""The real app in Socket Mode: `advisor serve --socket` connects to a loopback WebSocket
server (after apps.connections.open on the loopback Web API), receives envelopes, acks them,
and answers through the Web API."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from bot.loopback.slack_api import FakeSlackAPI
from tests.conftest import ROOT
from tests.serve import APP_TOKEN, free_port, serve_env
from tests.slack_requests import PAYLOADS, get, unique


class SocketModeServer:
    """Plays Slack's Socket Mode endpoint: says hello, sends envelopes, collects acks."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[str] = queue.Queue()
        self.acks: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.server = serve(self._session, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"

    def _session(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        )
        self.connected.set()
        while True:
            try:
                message = self.outbox.get(timeout=0.05)
                connection.send(message)
            except queue.Empty:
                pass
            try:
                received = connection.recv(timeout=0.01)
            except TimeoutError:
                continue
            except Exception:
                return
            self.acks.append(json.loads(received))

    def send(self, envelope: dict[str, Any]) -> str:
        """Send an envelope; its id, to wait for the ack with."""
        self.outbox.put(json.dumps(envelope))
        return str(envelope.get("envelope_id", ""))

    def ack_for(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ack in list(self.acks):
                if ack.get("envelope_id") == envelope_id:
                    return ack
            time.sleep(0.01)
        raise AssertionError(f"no ack for {envelope_id}; acks: {self.acks}")


def event_envelope(event: dict[str, Any], envelope_id: str | None = None) -> dict[str, Any]:
    """An `events_api` envelope carrying `event`, as Slack sends it over the socket."""
    return {
        "envelope_id": envelope_id or unique("env-"),
        "type": "events_api",
        "accepts_response_payload": False,
        "payload": {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": unique("Ev"),
            "event": event,
        },
    }


def click_envelope(
    button: dict[str, Any], user: str, channel: str, *, message_ts: str, thread_ts: str
) -> dict[str, Any]:
    """An `interactive` envelope: `user` clicked `button` on a message in a thread."""
    payload = json.loads((PAYLOADS / "block_actions.json").read_text())
    payload.update(
        user={"id": user, "username": "u", "team_id": "T1"},
        container={
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
            "thread_ts": thread_ts,
        },
        channel={"id": channel, "name": "channel"},
        actions=[
            {
                "action_id": button["action_id"],
                "block_id": "b",
                "type": "button",
                "value": button["value"],
                "action_ts": f"{time.time()}",
                "text": button["text"],
            }
        ],
    )
    return {
        "envelope_id": unique("env-"),
        "type": "interactive",
        "accepts_response_payload": False,
        "payload": payload,
    }


@pytest.fixture(scope="module")
def socket_server() -> Iterator[SocketModeServer]:
    server = SocketModeServer()
    server.thread.start()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def api(socket_server: SocketModeServer) -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    fake.websocket_url = socket_server.url
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def health_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def socket_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("socket") / "serve.log"


@pytest.fixture(scope="module")
def advisor_socket(
    api: FakeSlackAPI,
    socket_server: SocketModeServer,
    socket_log: Path,
    health_port: int,
) -> Iterator[subprocess.Popen[bytes]]:
    work = socket_log.parent
    log = socket_log
    port = health_port
    env = serve_env(
        api.url,
        f"sqlite:///{work}/advisor.db",
        SLACK_APP_TOKEN=APP_TOKEN,
        PORT=str(port),
        ADVISOR_METRICS_PORT=str(free_port()),
    )
    env.pop("SLACK_SIGNING_SECRET")
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--socket", "--host", "127.0.0.1"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            if not socket_server.connected.wait(30):
                raise AssertionError(f"never connected:\n{log.read_text()}")
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=20)
            assert code == 0, log.read_text()


def test_connection_uses_the_configured_api_url(
    api: FakeSlackAPI, advisor_socket: subprocess.Popen[bytes]
) -> None:
    (call,) = api.calls_to("apps.connections.open")[:1]
    assert call.headers["authorization"] == f"Bearer {APP_TOKEN}"


def test_events_are_acked_and_answered(
    api: FakeSlackAPI, socket_server: SocketModeServer, advisor_socket: subprocess.Popen[bytes]
) -> None:
    channel, envelope_id = unique("C"), unique("env-")
    envelope = event_envelope(
        {
            "type": "app_mention",
            "user": "U1",
            "channel": channel,
            "ts": "3.1",
            "text": "<@UADVISOR> jinja in fastapi?",
        },
        envelope_id=envelope_id,
    )
    socket_server.send({**envelope, "retry_attempt": 0, "retry_reason": ""})
    assert socket_server.ack_for(envelope_id)["envelope_id"] == envelope_id
    (post,) = api.wait_for("chat.postMessage", channel=channel)
    assert post.params["thread_ts"] == "3.1"
    assert "templates" in post.params["text"].lower()


def test_slash_commands_and_clicks_over_socket_mode(
    api: FakeSlackAPI, socket_server: SocketModeServer, advisor_socket: subprocess.Popen[bytes]
) -> None:
    user, name = unique("U"), unique("sock")
    envelope_id = unique("env-")
    socket_server.send(
        {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "token": "t",
                "team_id": "T1",
                "channel_id": "C1",
                "user_id": user,
                "command": "/advisor",
                "text": "recommend an ml api",
                "response_url": api.response_url(name),
                "trigger_id": "1.2.3",
            },
        }
    )
    socket_server.ack_for(envelope_id)
    (reply,) = api.responses(name)
    assert reply.params["response_type"] == "ephemeral"
    dm = f"D{user}"
    api.wait_until(
        lambda: any(c.params.get("metadata") for c in api.calls_to("chat.postMessage", channel=dm))
    )
    question = next(
        c for c in api.calls_to("chat.postMessage", channel=dm) if c.params.get("metadata")
    )
    button = next(
        e
        for b in question.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if json.loads(e["value"])["o"] == "new"  # asked first: it could pull toward Flask
    )
    click_id = socket_server.send(
        click_envelope(button, user, dm, message_ts="1", thread_ts=question.params["thread_ts"])
    )
    socket_server.ack_for(click_id)
    api.wait_until(
        lambda: (
            len(
                [
                    c
                    for c in api.calls_to("chat.postMessage", channel=dm)
                    if c.params.get("metadata")
                ]
            )
            >= 2
        )
    )


def test_health_is_served_and_events_are_not(
    advisor_socket: subprocess.Popen[bytes], health_port: int
) -> None:
    base = f"http://127.0.0.1:{health_port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.05)
    assert get(f"{base}/healthz") == (200, b'{"ok": true}')
    request = urllib.request.Request(f"{base}/slack/events", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 404  # no unverified door into the app


def test_slacks_own_envelopes_are_acked(
    socket_server: SocketModeServer, advisor_socket: subprocess.Popen[bytes]
) -> None:
    for path in sorted(PAYLOADS.glob("socket_mode_envelope_*.json")):
        envelope = json.loads(path.read_text())
        envelope["envelope_id"] = unique("replay-")
        socket_server.send(envelope)
        assert socket_server.ack_for(envelope["envelope_id"])


def test_feedback_over_socket_mode(
    api: FakeSlackAPI, socket_server: SocketModeServer, advisor_socket: subprocess.Popen[bytes]
) -> None:
    """The 👍 under an answer works the same over Socket Mode: acked, thanked ephemerally."""
    channel, user = unique("C"), unique("U")
    socket_server.send(
        event_envelope(
            {
                "type": "app_mention",
                "user": user,
                "channel": channel,
                "ts": "4.1",
                "text": "<@UADVISOR> is fastapi faster?",
            }
        )
    )
    (post,) = api.wait_for("chat.postMessage", channel=channel)
    up = next(
        e
        for b in post.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "advisor_feedback_up"
    )
    click_id = socket_server.send(
        click_envelope(up, user, channel, message_ts="4.2", thread_ts="4.1")
    )
    socket_server.ack_for(click_id)
    (thanks,) = api.wait_for("chat.postEphemeral", user=user)
    assert "Glad it helped" in thanks.params["text"]
    assert thanks.params["thread_ts"] == "4.1"


def test_a_malformed_envelope_is_acked_and_dropped(
    api: FakeSlackAPI,
    socket_server: SocketModeServer,
    advisor_socket: subprocess.Popen[bytes],
    socket_log: Path,
) -> None:
    """The gate of HTTP mode guards Socket Mode too: Bolt never sees a payload it would fail on."""
    event = {"type": "app_mention", "user": 5, "channel": ["C"], "ts": "5.1", "text": "hi"}
    bad = socket_server.send(event_envelope(event))
    socket_server.ack_for(bad)  # acked, so Slack would not redeliver it
    time.sleep(0.5)
    log = socket_log.read_text()
    assert "rejected a Socket Mode envelope" in log
    assert "Traceback" not in log
    assert advisor_socket.poll() is None
