"""The real app over HTTP: `advisor serve --http` in its own process, signed Slack requests in,
Web API calls recorded by the loopback Slack API."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from slack_sdk.models.blocks import Block

from bot.loopback.slack_api import Failure, FakeSlackAPI
from tests.serve import advisor_http, free_port
from tests.slack_requests import PAYLOADS, Slack, dm_event, get, in_one_rate_window, unique


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve") / "serve.log"


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(api: FakeSlackAPI, serve_log: Path, metrics_port: int) -> Iterator[str]:
    """Two worker processes on one SQLite file: every scenario below then also shows that a
    retried event, a conversation, the rate limit and the metrics hold across workers."""
    work = serve_log.parent
    store = f"sqlite:///{work}/advisor.db"
    metrics = str(metrics_port)
    with advisor_http(
        api.url, store, serve_log, ADVISOR_WORKERS="2", ADVISOR_METRICS_PORT=metrics
    ) as base:
        yield base


@pytest.fixture
def slack(server: str) -> Slack:
    return Slack(server)


def blocks_text(call: Any) -> str:
    return json.dumps(call.params.get("blocks", []))


def test_healthz_and_unknown_paths(server: str) -> None:
    assert get(f"{server}/healthz") == (200, b'{"ok": true}')
    assert get(f"{server}/nowhere")[0] == 404
    assert get(f"{server}/slack/events")[0] == 404


def test_slash_question_is_acked_then_answered_ephemerally(slack: Slack, api: FakeSlackAPI) -> None:
    name = unique("slash")
    status, body, _ = slack.command(
        "is fastapi faster?", user=unique("U"), response_url=api.response_url(name)
    )
    assert status == 200
    assert body == b""  # the ack; the answer follows through the response URL
    (answer,) = api.responses(name)
    assert answer.params["response_type"] == "ephemeral"
    assert "Performance" in answer.params["text"]
    assert "FastAPI" in blocks_text(answer)


def test_a_command_that_says_payload_is_answered(slack: Slack, api: FakeSlackAPI) -> None:
    """Bolt reads a form body containing the word "payload" as an interaction's payload field
    and finds nothing in it; the routes hand it the form as the gate read it."""
    name = unique("slash")
    status, _, _ = slack.command(
        "how do I validate a request payload?",
        user=unique("U"),
        response_url=api.response_url(name),
        channel="Cpayload",
    )
    assert status == 200
    (answer,) = api.responses(name)
    assert "validat" in answer.params["text"].lower()


def test_mention_question_is_answered_in_its_thread(slack: Slack, api: FakeSlackAPI) -> None:
    channel, user = unique("C"), unique("U")
    event = {
        "type": "app_mention",
        "user": user,
        "text": "<@UADVISOR> does flask do websockets?",
        "ts": "1700000100.000200",
        "channel": channel,
        "event_ts": "1700000100.000200",
    }
    assert slack.event(event)[0] == 200
    (post,) = api.wait_for("chat.postMessage", channel=channel)
    assert post.params["thread_ts"] == "1700000100.000200"
    assert "WebSockets" in post.params["text"]
    assert _metadata(post)["event_type"] == "advisor_reply"  # a fact, not a question


def _metadata(call: Any) -> dict[str, Any] | None:
    metadata = call.params.get("metadata")
    return json.loads(metadata) if isinstance(metadata, str) else metadata


def _buttons(call: Any) -> list[dict[str, Any]]:
    return [
        element
        for block in call.params.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def _button(call: Any, option: str | None) -> dict[str, Any]:
    for button in _buttons(call):
        if json.loads(button["value"]).get("o") == option:
            return {
                "action_id": button["action_id"],
                "value": button["value"],
                "text": button["text"],
            }
    raise AssertionError(f"no button for {option}")


def _questions(api: FakeSlackAPI, channel: str) -> list[Any]:
    return [
        c
        for c in api.calls_to("chat.postMessage", channel=channel)
        if (_metadata(c) or {}).get("event_type") == "advisor_question"
    ]


def test_forged_and_stale_requests_get_401_and_no_work(slack: Slack, api: FakeSlackAPI) -> None:
    channel = unique("C")
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UADVISOR> is flask dead?",
        "ts": "1700000200.000100",
        "channel": channel,
    }
    body = json.dumps(
        {"type": "event_callback", "team_id": "T1", "event_id": unique("Ev"), "event": event}
    ).encode()
    assert slack.post(body, "application/json", secret="not-the-secret")[0] == 401
    assert slack.post(body, "application/json", timestamp=int(time.time()) - 6 * 60)[0] == 401
    assert slack.post(body, "application/json", signed=False)[0] == 401
    time.sleep(0.3)
    assert api.calls_to("chat.postMessage", channel=channel) == []


def test_url_verification_challenge(slack: Slack) -> None:
    body = Path(PAYLOADS / "url_verification.json").read_bytes()
    status, answer, _ = slack.post(body, "application/json")
    assert status == 200
    assert json.loads(body)["challenge"] in answer.decode()


def test_slash_help_compare_and_share(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    sent = {}
    for text in ("help", "", "compare", "share is flask dead?"):
        sent[text] = unique("r")
        assert slack.command(text, user=user, response_url=api.response_url(sent[text]))[0] == 200
    for text in ("help", ""):
        (reply,) = api.responses(sent[text])
        assert reply.params["response_type"] == "ephemeral"
        assert "recommend" in reply.params["text"]
    (compare,) = api.responses(sent["compare"])
    assert 20 <= len(compare.params["blocks"]) <= 50
    assert compare.params["response_type"] == "ephemeral"
    (shared,) = api.responses(sent["share is flask dead?"])
    assert shared.params["response_type"] == "in_channel"
    assert "community" in shared.params["text"].lower()


def test_slash_recommend_runs_the_dialog_in_a_dm_thread(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    dm = f"D{user}"
    name = unique("rec")
    slack.command(
        "recommend we serve a pytorch model to 10k users",
        user=user,
        response_url=api.response_url(name),
    )
    api.wait_for("conversations.open", users=user)
    opening = api.wait_for("chat.postMessage", channel=dm)[0]
    assert "thread" in opening.params["text"]
    api.wait_until(lambda: len(_questions(api, dm)) >= 1)
    first = _questions(api, dm)[0]
    thread = first.params["thread_ts"]
    meta = _metadata(first)
    assert meta["event_type"] == "advisor_question"
    # FastAPI leads: first the question that could pull hardest toward Flask
    assert meta["event_payload"]["factor"] == "async_familiarity"
    assert meta["event_payload"]["options"] == ["comfortable", "new"]
    assert set(meta["event_payload"]) == {"factor", "options", "turn", "index"}
    assert "serving an ML model, high concurrency" in first.params["text"]
    # a click answers it
    click = _button(first, "new")
    slack.click(click, user=user, channel=dm, message_ts="1", thread_ts=thread)
    api.wait_until(lambda: len(_questions(api, dm)) >= 2)
    second = _questions(api, dm)[1]
    assert _metadata(second)["event_payload"]["factor"] == "control"
    assert second.params["thread_ts"] == thread
    # typed answers in the thread work too; after this one nothing left could change it
    slack.event(dm_event(user, "more built in", ts="1700000300.000001", thread_ts=thread))
    api.wait_until(
        lambda: any(
            (_metadata(c) or {}).get("event_type") == "advisor_recommendation"
            for c in api.calls_to("chat.postMessage", channel=dm)
        )
    )
    verdict = next(
        c
        for c in api.calls_to("chat.postMessage", channel=dm)
        if (_metadata(c) or {}).get("event_type") == "advisor_recommendation"
    )
    payload = _metadata(verdict)["event_payload"]
    assert payload["framework"] == "fastapi"
    assert 0.6 <= payload["confidence"] < 1.0
    assert payload["answers"]["app_kind"] == "ml_model"
    assert payload["answers"]["async_familiarity"] == "new"
    assert payload["answers"]["control"] == "batteries"
    assert len(_questions(api, dm)) == 2
    assert verdict.params["thread_ts"] == thread
    assert "Leaning FastAPI" in verdict.params["text"]  # the team is new to async
    (reply,) = api.responses(name)
    assert reply.params["response_type"] == "ephemeral"
    assert "direct message" in reply.params["text"]


def test_stale_and_foreign_clicks_change_nothing(slack: Slack, api: FakeSlackAPI) -> None:
    user, other = unique("U"), unique("U")
    dm = f"D{user}"
    slack.event(dm_event(user, "recommend", ts="1700000400.000001"))
    api.wait_until(lambda: len(_questions(api, dm)) >= 1)
    first = _questions(api, dm)[0]
    thread = first.params["thread_ts"]
    assert thread == "1700000400.000001"  # under the message that asked
    slack.click(_button(first, "api"), user=other, channel=dm, message_ts="1", thread_ts=thread)
    api.wait_for("chat.postEphemeral", user=other)
    assert "someone else" in api.calls_to("chat.postEphemeral", user=other)[0].params["text"]
    slack.click(_button(first, "api"), user=user, channel=dm, message_ts="1", thread_ts=thread)
    api.wait_until(lambda: len(_questions(api, dm)) >= 2)
    slack.click(_button(first, "web_app"), user=user, channel=dm, message_ts="1", thread_ts=thread)
    api.wait_for("chat.postEphemeral", user=user)
    assert "already answered" in api.calls_to("chat.postEphemeral", user=user)[0].params["text"]
    slack.event(dm_event(user, "2", ts="1700000400.000002", thread_ts=thread))
    api.wait_until(lambda: len(_questions(api, dm)) >= 3)
    third = _questions(api, dm)[2]
    assert _metadata(third)["event_payload"]["factor"] == "concurrency"  # "2": new to async


def test_mention_recommend_continues_in_adm(slack: Slack, api: FakeSlackAPI) -> None:
    channel, user = unique("C"), unique("U")
    event = {
        "type": "app_mention",
        "user": user,
        "channel": channel,
        "ts": "1700000500.000001",
        "text": "<@UADVISOR> recommend a jinja website for a few users",
    }
    slack.event(event)
    note = api.wait_for("chat.postMessage", channel=channel)[0]
    assert note.params["thread_ts"] == "1700000500.000001"
    assert "direct message" in note.params["text"]
    assert _metadata(note) is None
    api.wait_until(lambda: len(_questions(api, f"D{user}")) >= 1)


def test_dm_question_is_answered_at_top_level(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    slack.event(dm_event(user, "does fastapi have swagger docs?", ts="1700000600.000001"))
    (post,) = api.wait_for("chat.postMessage", channel=f"D{user}")
    assert "thread_ts" not in post.params
    assert "OpenAPI" in post.params["text"]


def test_a_retried_event_is_answered_once(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    event = dm_event(user, "is flask dead?", ts="1700000700.000001")
    event_id = unique("EvRetry")
    assert slack.event(event, event_id=event_id)[0] == 200
    assert (
        slack.event(
            event,
            event_id=event_id,
            headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )[0]
        == 200
    )
    api.wait_for("chat.postMessage", channel=f"D{user}")
    time.sleep(0.5)
    assert len(api.calls_to("chat.postMessage", channel=f"D{user}")) == 1


def test_bots_edits_and_its_own_messages_are_ignored(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    slack.event(dm_event(user, "is flask dead?", ts="1.1", bot_id="B0THER"))
    slack.event(dm_event(user, "is flask dead?", ts="1.2", subtype="message_changed"))
    slack.event(dm_event("UADVISOR", "is flask dead?", ts="1.3") | {"channel": f"D{user}"})
    slack.event(dm_event(user, "is flask dead?", ts="1.4", subtype="bot_message"))
    slack.event(dm_event(user, "marker: is flask dead?", ts="1.5"))
    api.wait_for("chat.postMessage", channel=f"D{user}")
    time.sleep(0.3)
    assert len(api.calls_to("chat.postMessage", channel=f"D{user}")) == 1


def test_app_home_is_published_and_its_button_starts_adm(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": "home",
        "event_ts": "1700000800.000001",
    }
    slack.event(event)
    (publish,) = api.wait_for("views.publish", user_id=user)
    view = publish.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["action_id"] == "advisor_start"
    slack.click(
        {"action_id": "advisor_start", "value": "start", "text": buttons[0]["text"]},
        user=user,
        channel=f"D{user}",
        message_ts="1",
    )
    api.wait_until(lambda: len(_questions(api, f"D{user}")) >= 1)


def test_rate_limit_and_server_errors_are_retried(slack: Slack, api: FakeSlackAPI) -> None:
    user = unique("U")
    api.fail(
        "chat.postMessage",
        Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
        Failure(503, {"ok": False, "error": "service_unavailable"}),
    )
    slack.event(dm_event(user, "is flask dead?", ts="1700000900.000001"))
    (post,) = api.wait_for("chat.postMessage", channel=f"D{user}", timeout=15)
    failed = [
        c
        for c in api.attempts("chat.postMessage")
        if c.params.get("channel") == f"D{user}" and c.status != 200
    ]
    assert [c.status for c in failed] == [429, 503]
    assert "community" in post.params["text"].lower()


def test_a_post_that_finally_fails_leaves_the_dialog_where_the_user_saw_it(
    slack: Slack, api: FakeSlackAPI
) -> None:
    user = unique("U")
    dm = f"D{user}"
    slack.event(dm_event(user, "recommend", ts="1700001000.000001"))
    api.wait_until(lambda: len(_questions(api, dm)) >= 1)
    api.fail("chat.postMessage", *[Failure(500, {"ok": False, "error": "fatal_error"})] * 3)
    slack.event(dm_event(user, "api", ts="1700001000.000002", thread_ts="1700001000.000001"))
    api.wait_until(
        lambda: (
            len(
                [
                    c
                    for c in api.attempts("chat.postMessage")
                    if c.params.get("channel") == dm and c.status == 500
                ]
            )
            == 3
        ),
        timeout=15,
    )
    time.sleep(0.3)
    # The answer was not recorded: "1" still answers "What are you building?" (1 = web app).
    slack.event(dm_event(user, "1", ts="1700001000.000003", thread_ts="1700001000.000001"))
    api.wait_until(lambda: len(_questions(api, dm)) >= 2)
    assert _metadata(_questions(api, dm)[1])["event_payload"]["factor"] == "concurrency"
    slack.event(dm_event(user, "back", ts="1700001000.000004", thread_ts="1700001000.000001"))
    api.wait_until(lambda: len(_questions(api, dm)) >= 3)
    assert _metadata(_questions(api, dm)[2])["event_payload"]["factor"] == "app_kind"


def test_hostile_text_pings_no_one(slack: Slack, api: FakeSlackAPI) -> None:
    channel, user = unique("C"), unique("U")
    text = "<@UADVISOR> <!channel> <!here> @everyone <script>alert(1)</script> is fastapi faster?"
    slack.event(
        {"type": "app_mention", "user": user, "channel": channel, "ts": "2.1", "text": text}
    )
    (post,) = api.wait_for("chat.postMessage", channel=channel)
    dumped = json.dumps(post.params)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "@channel", "@here", "@everyone"):
        assert ping not in dumped


def test_real_slack_payloads_are_accepted(slack: Slack) -> None:
    for path in sorted(PAYLOADS.iterdir()):
        if path.name.startswith("socket_mode") or path.suffix not in {".json", ".txt"}:
            continue
        if path.name == "app_home_opened_home_tab_event.json":
            status = slack.event(json.loads(path.read_text()))[0]
        elif path.name.startswith("block_actions"):
            form = urlencode({"payload": path.read_text()}).encode()
            status = slack.post(form, "application/x-www-form-urlencoded")[0]
        elif path.suffix == ".txt":
            status = slack.post(path.read_bytes(), "application/x-www-form-urlencoded")[0]
        else:
            status = slack.post(path.read_bytes(), "application/json")[0]
        assert status == 200, path.name


def test_every_post_is_valid_block_kit(api: FakeSlackAPI, server: str) -> None:
    """Runs last in this module: checks everything the app posted in the tests above."""
    posts = [
        c
        for c in api.calls
        if c.method in {"chat.postMessage", "chat.postEphemeral", "response_url"}
        and c.status == 200
    ]
    assert len(posts) > 20
    for call in posts:
        assert call.params.get("text"), call.params  # fallback text, always
        blocks = call.params.get("blocks") or []
        assert len(blocks) <= 50
        for block in Block.parse_all(blocks):
            block.validate_json()


def post_oversized(server: str, size: int) -> int:
    """The status a body of `size` bytes gets, read before the body is sent in full.

    The server refuses on the announced Content-Length and closes; a client still writing
    the rest would meet a connection reset instead of the answer, so only the start is sent.
    """
    address = urlsplit(server)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: advisor\r\n"
            b"Content-Type: application/json\r\n"
            # signed as far as can be told before the body: the size is what is refused
            + f"X-Slack-Request-Timestamp: {int(time.time())}\r\n".encode()
            + b"X-Slack-Signature: v0=0\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
            + b'{"type": "event_callback", "pad": "'
        )
        status_line = conn.makefile("rb").readline()
    return int(status_line.split()[1])


def test_malformed_requests_get_4xx_or_a_quiet_200_and_the_app_stays_healthy(
    slack: Slack, server: str
) -> None:
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (json.dumps({"type": "event_callback"}).encode(), "application/json"),
        (json.dumps({"type": "event_callback", "event": "text"}).encode(), "application/json"),
        (
            json.dumps(
                {"type": "event_callback", "event_id": "EvX", "event": {"type": "app_mention"}}
            ).encode(),
            "application/json",
        ),
        (
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "EvY",
                    "event": {"type": "message", "channel_type": "im", "text": 42, "channel": None},
                }
            ).encode(),
            "application/json",
        ),
        (
            json.dumps(
                {"type": "event_callback", "event_id": "EvZ", "event": {"type": "reaction_added"}}
            ).encode(),
            "application/json",
        ),
        (json.dumps({"type": "some_future_type"}).encode(), "application/json"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        (
            b"payload="
            + urlencode(
                {
                    "x": json.dumps(
                        {
                            "type": "block_actions",
                            "actions": [{"action_id": "advisor_answer_1", "value": "not json"}],
                        }
                    )
                }
            ).encode()[2:],
            "application/x-www-form-urlencoded",
        ),
        (b"command=%2Fadvisor", "application/x-www-form-urlencoded"),
        (b"\x00\xff\xfe" * 100, "application/octet-stream"),
    ]
    for body, content_type in cases:
        status = slack.post(body, content_type)[0]
        assert status < 500, (status, body[:60])
    assert post_oversized(server, 2_000_000) == 413
    time.sleep(0.3)
    assert get(f"{server}/healthz") == (200, b'{"ok": true}')
    assert slack.event(dm_event(unique("U"), "still there?", ts="9.9"))[0] == 200


def test_no_token_or_secret_reaches_the_logs(
    serve_log: Path, api: FakeSlackAPI, slack: Slack
) -> None:
    """Runs after the module's scenarios: the whole log of the run is searched."""
    from tests.serve import BOT_TOKEN
    from tests.slack_requests import SECRET

    text = serve_log.read_text()
    assert "listening on" in text
    for secret in (BOT_TOKEN, SECRET, BOT_TOKEN.split("-", 1)[1]):
        assert secret not in text
    assert "Traceback" not in text


def test_metrics_and_one_json_log_line_per_request(
    server: str, serve_log: Path, metrics_port: int
) -> None:
    """Runs after the scenarios above: what an operator would see of them. The metrics are
    on their own port, never on the public one."""
    time.sleep(0.5)  # the last scenario's work finishes; nothing else is sent meanwhile
    assert get(f"{server}/metrics")[0] == 404
    status, body = get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert status == 200
    assert get(f"http://127.0.0.1:{metrics_port}/slack/events")[0] == 404
    metrics = body.decode()
    for sample in (
        'advisor_requests_total{kind="mention",outcome="ok"}',
        'advisor_requests_total{kind="command",outcome="ok"}',
        'advisor_requests_total{kind="message",outcome="malformed"}',
        'advisor_matches_total{status="answered"}',
        'advisor_verdicts_total{framework="fastapi"}',
        'advisor_slack_api_errors_total{error="fatal_error"}',
        "advisor_dialogs_started_total",
        "advisor_dialogs_finished_total",
        "advisor_request_seconds_bucket",
        'advisor_refused_requests_total{reason="bad_signature"}',
        'advisor_refused_requests_total{reason="unsigned"}',
    ):
        assert sample in metrics, sample
    time.sleep(0.3)  # information lines are written in batches, every 0.1 s
    lines = [
        json.loads(line) for line in serve_log.read_text().splitlines() if line.startswith("{")
    ]
    handled = [line for line in lines if line["message"] == "handled"]
    assert len(handled) > 20
    # Two workers logged these; /metrics, whichever worker answers, counts them all.
    assert "2 worker(s)" in serve_log.read_text()
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("advisor_requests_total{")
    )
    assert counted == len(handled)
    assert all({"kind", "outcome", "latency_ms", "ts", "level"} <= set(line) for line in handled)
    assert any(line.get("fact_id") == "realtime" for line in handled)
    assert any(line.get("verdict") == "fastapi" for line in handled)
    log = serve_log.read_text()
    assert "does flask do websockets" not in log  # no message text without the opt-in
    assert all("text" not in line for line in handled)


def test_a_user_over_the_rate_limit_is_told_once_then_ignored(
    slack: Slack, api: FakeSlackAPI
) -> None:
    user = unique("U")
    limit = 30  # ADVISOR_RATE_LIMIT's default
    in_one_rate_window()
    for n in range(limit + 3):
        assert slack.event(dm_event(user, "is flask dead?", ts=f"1700009000.{n:06d}"))[0] == 200
    api.wait_for("chat.postEphemeral", user=user)
    api.wait_for("chat.postMessage", count=limit, channel=f"D{user}")
    time.sleep(0.5)
    assert len(api.calls_to("chat.postMessage", channel=f"D{user}")) == limit
    (note,) = api.calls_to("chat.postEphemeral", user=user)
    assert "faster than I can keep up" in note.params["text"]
    other = unique("U")
    slack.event(dm_event(other, "is flask dead?", ts="1700009100.000001"))
    api.wait_for("chat.postMessage", channel=f"D{other}")  # others are not affected


def test_buttons_with_values_of_the_wrong_types_are_turned_away(
    slack: Slack, api: FakeSlackAPI, serve_log: Path
) -> None:
    """Forged clicks on a live dialog: lists and objects where text belongs. Each is ignored
    as malformed (one log line, no traceback) and the dialog goes on untouched."""
    user = unique("U")
    dm = f"D{user}"
    slack.event(dm_event(user, "recommend", ts="1700001200.000001"))
    api.wait_until(lambda: len(_questions(api, dm)) >= 1)
    key = f"dm:T1:{dm}:1700001200.000001:{user}"
    where = {"user": user, "channel": dm, "message_ts": "1", "thread_ts": "1700001200.000001"}
    forged = [
        ("advisor_answer_1", {"k": key, "f": "app_kind", "o": ["api"]}),
        ("advisor_answer_1", {"k": key, "f": ["app_kind"], "o": "api"}),
        ("advisor_answer_1", {"k": key, "f": "app_kind", "o": {"id": "api"}}),
        ("advisor_fact_0", {"k": key, "fact": ["performance"]}),
        ("advisor_fact_0", {"k": key, "fact": {"id": "performance"}}),
    ]
    for action_id, value in forged:
        assert slack.click({"action_id": action_id, "value": json.dumps(value)}, **where)[0] == 200
    time.sleep(0.5)
    assert len(_questions(api, dm)) == 1  # nothing was answered
    assert api.calls_to("chat.postEphemeral", user=user) == []
    log = serve_log.read_text()
    assert "Traceback" not in log
    slack.click(
        {
            "action_id": "advisor_answer_1",
            "value": json.dumps({"k": key, "f": "app_kind", "o": "api"}),
        },
        **where,
    )
    api.wait_until(lambda: len(_questions(api, dm)) >= 2)  # a real click still works
