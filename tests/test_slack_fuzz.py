"""Signed requests whose fields have every wrong type we could think of, against a real
`advisor serve`: each gets a 4xx or a quiet 200, none a 5xx, the log holds no traceback, and
the advisor still answers afterwards. Seeded, so a failure replays exactly."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from bot.loopback.requests import block_actions_body, unique
from bot.loopback.slack_api import FakeSlackAPI
from tests.serve import advisor_http
from tests.slack_requests import Slack, dm_event, get

WEIRD: list[Any] = [
    None, 1, 1.5, True, [], ["x"], {}, {"a": 1}, "", "x" * 5000, "<!channel>", "\u202e", "1.1",
    [{"id": "U1"}], {"id": 5}, {"id": ["U1"]},
]  # fmt: skip
ACTIONS = [
    "advisor_answer_1",
    "advisor_answer_skip",
    "advisor_fact_0",
    "advisor_start",
    "advisor_feedback_up",
    "advisor_feedback_down",
    "someone_elses_action",
]


@pytest.fixture(scope="module")
def served(
    api: FakeSlackAPI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    with advisor_http(api.url, "memory://", log, ADVISOR_RATE_LIMIT="0") as base:
        yield base, log


def events(rng: random.Random, count: int) -> Iterator[bytes]:
    for n in range(count):
        event: dict[str, Any] = {
            "type": rng.choice(["app_mention", "message", "app_home_opened", "reaction_added"]),
            "channel": "C1",
            "ts": f"1.{n}",
            "user": "U1",
            "text": "is fastapi faster?",
            "channel_type": "im",
        }
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(
                ["channel", "ts", "user", "text", "thread_ts", "channel_type", "subtype",
                 "bot_id", "tab", "event_ts", "team", "message", "item"]
            )  # fmt: skip
            event[name] = rng.choice(WEIRD)
        body = {
            "type": "event_callback",
            "team_id": rng.choice(["T1", 5, None, ["T"], {"id": "T1"}]),
            "event_id": unique("Ev"),
            "event": event,
        }
        if rng.random() < 0.2:
            body["authorizations"] = rng.choice(WEIRD)
        yield json.dumps(body).encode()


def clicks(rng: random.Random, count: int, response_url: str) -> Iterator[bytes]:
    for _ in range(count):
        value = {
            "k": rng.choice(["dm:T1:DU1:1.1:U1", "x", 5, "a:b:c:d:e:f"]),
            **{name: rng.choice([*WEIRD, "app_kind", "api", "performance", "fact"])
               for name in ("f", "o", "fact", "s", "id", "c")},
        }  # fmt: skip
        raw = rng.choice([json.dumps(value), json.dumps(rng.choice(WEIRD)), "{", ""])
        action = {"action_id": rng.choice(ACTIONS), "value": raw}
        form = block_actions_body(
            action, user="U1", channel="DU1", message_ts="1", response_url=response_url
        )
        body = json.loads(parse_qs(form.decode())["payload"][0])
        for _ in range(rng.randint(0, 2)):
            name = rng.choice(["user", "container", "channel", "team", "response_url", "message"])
            body[name] = rng.choice(WEIRD)
        if rng.random() < 0.3:
            body["container"] = {
                name: rng.choice(WEIRD)
                for name in ("channel_id", "message_ts", "is_ephemeral", "thread_ts")
            }
        yield urlencode({"payload": json.dumps(body)}).encode()


def commands(rng: random.Random, count: int, response_url: str) -> Iterator[bytes]:
    for _ in range(count):
        form = {
            "command": rng.choice(["/advisor", "/other", ""]),
            "text": rng.choice(["stats", "share", "recommend", "compare", "x" * 3000, ""]),
            "user_id": rng.choice(["U1", "", "UADMIN"]),
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": rng.choice([response_url, "", "ftp://x", "http://127.0.0.1:1/x"]),
            "trigger_id": "1",
        }
        if rng.random() < 0.3:
            del form[rng.choice(list(form))]
        yield urlencode(form).encode()


def test_wrong_types_anywhere_never_break_the_advisor(
    served: tuple[str, Path], api: FakeSlackAPI
) -> None:
    base, log = served
    slack = Slack(base)
    rng = random.Random(20261124)
    statuses = [slack.post(body, "application/json")[0] for body in events(rng, 250)]
    response_url = api.response_url("fuzz")
    form = "application/x-www-form-urlencoded"
    statuses += [slack.post(body, form)[0] for body in clicks(rng, 250, response_url)]
    statuses += [slack.post(body, form)[0] for body in commands(rng, 80, response_url)]
    assert max(statuses) < 500, sorted(set(statuses))
    assert statuses.count(200) > 100  # plenty got far enough to be handled
    time.sleep(2)  # the work after each ack
    text = log.read_text()
    assert "Traceback" not in text
    assert get(f"{base}/healthz") == (200, b'{"ok": true}')
    slack.event(dm_event("UAFTER", "still there?", ts="9.1"))
    api.wait_for("chat.postMessage", channel="DUAFTER")
