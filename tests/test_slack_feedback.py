"""Feedback and the usage record through Slack: signed requests to a real `advisor serve`,
the loopback Web API, and the SQLite file the server writes, read back as an operator would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.insights.events import Privacy
from bot.loopback.slack_api import FakeSlackAPI
from bot.store.base import ConversationKey
from bot.store.sqlite import SQLiteStore
from tests.conftest import NearTie
from tests.serve import advisor_http
from tests.slack_requests import SECRET, Slack, dm_event, in_one_rate_window, unique

ADMIN = "UADMIN1"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "advisor.db"


@pytest.fixture(scope="module")
def server(api: FakeSlackAPI, db: Path) -> Iterator[str]:
    env = {"ADVISOR_ADMINS": f"UOTHER1, {ADMIN}", "ADVISOR_RECORD_QUESTIONS": "1"}
    with advisor_http(api.url, f"sqlite:///{db}", db.parent / "serve.log", **env) as base:
        yield base


@pytest.fixture
def slack(server: str) -> Slack:
    return Slack(server)


@pytest.fixture
def store(db: Path, server: str) -> Iterator[SQLiteStore]:
    """The server's own file, opened beside it (WAL lets a reader in while it writes)."""
    opened = SQLiteStore(db)
    yield opened
    opened.close()


def mention(slack: Slack, api: FakeSlackAPI, text: str) -> tuple[ConversationKey, Any]:
    """Mention the advisor in a new channel; the conversation's key and the threaded answer."""
    channel, user = unique("C"), unique("U")
    ts = f"{time.time():.6f}"
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UADVISOR> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    assert slack.event(event)[0] == 200
    (post,) = api.wait_for("chat.postMessage", channel=channel)
    return ConversationKey("mention", "T1", channel, ts, user), post


def feedback_buttons(call: Any) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in call.params.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("advisor_feedback_")
    }


def vote_click(button: dict[str, Any]) -> dict[str, Any]:
    return {"action_id": button["action_id"], "value": button["value"], "text": button["text"]}


def ephemerals(api: FakeSlackAPI, user: str, count: int) -> list[str]:
    api.wait_until(lambda: len(api.calls_to("chat.postEphemeral", user=user)) >= count)
    return [c.params["text"] for c in api.calls_to("chat.postEphemeral", user=user)]


def test_fact_answers_carry_feedback_buttons(slack: Slack, api: FakeSlackAPI) -> None:
    _, post = mention(slack, api, "is fastapi faster?")
    buttons = feedback_buttons(post)
    assert set(buttons) == {"advisor_feedback_up", "advisor_feedback_down"}
    assert json.loads(buttons["advisor_feedback_up"]["value"]) == {"s": "fact", "id": "performance"}
    assert "👍" in buttons["advisor_feedback_up"]["text"]["text"]


def test_a_vote_counts_once_per_user_per_message_and_changes_no_conversation(
    slack: Slack, api: FakeSlackAPI, store: SQLiteStore
) -> None:
    key, post = mention(slack, api, "does flask do websockets?")
    api.wait_until(lambda: store.load(key) is not None)  # saved just after the post
    before = store.load(key)
    buttons = feedback_buttons(post)
    up, down = (vote_click(buttons[f"advisor_feedback_{d}"]) for d in ("up", "down"))
    voter, other = key.user, unique("U")  # the asker, and someone else in the channel
    where = {"channel": key.channel, "message_ts": "1700000999.000001", "thread_ts": key.thread}

    slack.click(up, user=voter, **where)
    assert "Glad it helped" in ephemerals(api, voter, 1)[0]
    slack.click(up, user=voter, **where)  # a double click
    assert "nothing changed" in ephemerals(api, voter, 2)[1]
    slack.click(down, user=voter, **where)
    assert "Changed your vote to 👎" in ephemerals(api, voter, 3)[2]
    slack.click(up, user=other, **where)  # another user's click is their own vote
    assert "Glad it helped" in ephemerals(api, other, 1)[0]
    slack.click(up, user=voter, **{**where, "message_ts": "1700000999.000002"})  # another copy
    ephemerals(api, voter, 4)

    calls = api.calls_to("chat.postEphemeral", user=voter)
    assert {c.params["thread_ts"] for c in calls} == {key.thread}
    votes = [v for v in store.votes_since(0) if v["id"] == "realtime"]
    assert sorted(v["vote"] for v in votes) == [-1, 1, 1]
    assert {(v["subject"], v["surface"]) for v in votes} == {("fact", "mention")}
    assert voter not in json.dumps(votes)
    # A vote posts nothing in the thread and leaves the conversation as it was.
    assert len(api.calls_to("chat.postMessage", channel=key.channel)) == 1
    assert store.load(key) == before


def test_a_vote_on_an_ephemeral_answer_is_acknowledged_through_its_response_url(
    slack: Slack, api: FakeSlackAPI, store: SQLiteStore
) -> None:
    user, name = unique("U"), unique("slash")
    slack.command("templates?", user=user, response_url=api.response_url(name))
    (answer,) = api.responses(name)
    up = vote_click(feedback_buttons(answer)["advisor_feedback_up"])
    thanks = unique("thanks")
    where = {"channel": "C1", "message_ts": "1700000998.000001", "ephemeral": True}
    slack.click(up, user=user, response_url=api.response_url(thanks), **where)
    (ack,) = api.responses(thanks)
    assert ack.params["response_type"] == "ephemeral"
    assert ack.params["replace_original"] is False
    assert "Glad it helped" in ack.params["text"]
    assert api.calls_to("chat.postEphemeral", user=user) == []
    votes = [v for v in store.votes_since(0) if v["id"] == "templating"]
    assert [(v["vote"], v["surface"]) for v in votes] == [(1, "slash")]


def test_verdicts_carry_feedback_buttons_and_a_vote_rates_the_framework(
    slack: Slack, api: FakeSlackAPI, store: SQLiteStore
) -> None:
    user = unique("U")
    dm = f"D{user}"
    slack.event(
        dm_event(user, "recommend we serve a pytorch model to 10k users", ts="1700000500.1")
    )
    thread = "1700000500.1"
    api.wait_until(lambda: len(api.calls_to("chat.postMessage", channel=dm)) >= 1)
    # Docs matter: nothing left could change the framework, so the verdict comes next.
    slack.event(dm_event(user, "yes", ts="1700000500.2", thread_ts=thread))
    api.wait_until(lambda: len(api.calls_to("chat.postMessage", channel=dm)) >= 2)
    verdict = api.calls_to("chat.postMessage", channel=dm)[-1]
    assert "Recommendation" in verdict.params["text"]
    buttons = feedback_buttons(verdict)
    value = json.loads(buttons["advisor_feedback_down"]["value"])
    assert value == {"s": "verdict", "id": "fastapi"}
    where = {"channel": dm, "message_ts": "1700000500.9", "thread_ts": thread}
    slack.click(vote_click(buttons["advisor_feedback_down"]), user=user, **where)
    assert "👎" in ephemerals(api, user, 1)[0]
    votes = [v for v in store.votes_since(0) if v["subject"] == "verdict"]
    assert [(v["id"], v["vote"], v["surface"]) for v in votes] == [("fastapi", -1, "dm")]


def test_a_forged_feedback_button_records_nothing(
    slack: Slack, api: FakeSlackAPI, store: SQLiteStore
) -> None:
    user = unique("U")
    before = len(store.votes_since(0))
    forgeries = (
        '{"s": "fact", "id": "no_such_fact"}',
        '{"s": "nonsense"}',
        "not json",
        '{"s": ["fact"], "id": "performance"}',
        '{"s": "fact", "id": ["performance"]}',
        '{"s": "verdict", "id": {"x": 1}}',
        "[1, 2]",
    )
    for value in forgeries:
        forged = {"action_id": "advisor_feedback_up", "value": value}
        assert slack.click(forged, user=user, channel="C9", message_ts="1.1")[0] == 200
    time.sleep(0.5)
    assert api.calls_to("chat.postEphemeral", user=user) == []
    assert len(store.votes_since(0)) == before
    log = (store.path.parent / "serve.log").read_text()
    assert "Traceback" not in log  # each was turned away as malformed, not failed on
    assert log.count("ignored a malformed feedback request") >= len(forgeries)


def test_a_chosen_suggestion_and_unmatched_text_are_recorded_privately(
    slack: Slack,
    api: FakeSlackAPI,
    store: SQLiteStore,
    near_tie: NearTie,
) -> None:
    key, post = mention(slack, api, near_tie.text)
    offered = [
        e
        for b in post.params["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("advisor_fact_")
    ]
    facts = [json.loads(e["value"])["fact"] for e in offered]
    assert set(facts) == near_tie.facts
    suggestion = offered[1]
    click = {k: suggestion[k] for k in ("action_id", "value", "text")}
    slack.click(click, user=key.user, channel=key.channel, message_ts="1.2", thread_ts=key.thread)
    api.wait_until(lambda: len(api.calls_to("chat.postMessage", channel=key.channel)) >= 2)
    other = unique("U")  # in a DM, text reaches the advisor whole, user ids included
    slack.event(dm_event(other, "<@U0SOMEONE> says how do i center a div", ts="1700000600.1"))

    def recorded() -> list[dict[str, Any]]:
        return store.events_since(0)

    api.wait_until(lambda: any(e.get("band") == "chosen" for e in recorded()), timeout=10)
    api.wait_until(lambda: any("center a div" in e.get("text", "") for e in recorded()))
    # The mention's own record is written after its reply, on another thread than the click's.
    api.wait_until(lambda: any(near_tie.text in e.get("text", "") for e in recorded()))
    chosen = next(e for e in recorded() if e.get("band") == "chosen")
    assert (chosen["fact"], chosen["surface"]) == (facts[1], "mention")
    assert chosen["candidates"] == facts
    unsure = next(e for e in recorded() if near_tie.text in e.get("text", ""))
    assert unsure["band"] == "did_you_mean"
    unmatched = next(e for e in recorded() if "center a div" in e.get("text", ""))
    privacy = Privacy(salt=SECRET.encode())  # no ADVISOR_HASH_SALT: the signing secret salts
    assert unmatched["text"] == f"<@{privacy.hashed('T1', 'U0SOMEONE')}> says how do i center a div"
    assert unmatched["user"] == privacy.hashed("T1", other)
    assert unmatched["surface"] == "dm"
    everything = json.dumps([store.events_since(0), store.votes_since(0)])
    assert "U0SOMEONE" not in everything
    assert other not in everything


def test_stats_is_for_admins_only_and_always_ephemeral(
    slack: Slack, api: FakeSlackAPI, store: SQLiteStore
) -> None:
    mention(slack, api, "is fastapi faster?")
    helped = unique("help")
    slack.command("compare", user=unique("U"), response_url=api.response_url(helped))
    api.responses(helped)

    def compared() -> bool:  # `/advisor compare` needs no conversation, yet it is counted
        return any(
            (e["surface"], e["band"]) == ("slash", "other")
            for e in store.events_since(0)
            if e["type"] == "message"
        )

    api.wait_until(compared, timeout=5)
    asker = unique("U")
    slack.event(dm_event(asker, "what's the best pizza in town", ts="1700000700.1"))
    api.wait_for("chat.postMessage", channel=f"D{asker}")
    # Recorded just after the post, and buffered by whichever worker process handled it: that
    # worker writes it within a second (stats flushes only its own worker's buffer).
    time.sleep(1.5)
    refused = unique("stats")
    slack.command("stats", user=unique("U"), response_url=api.response_url(refused))
    (no,) = api.responses(refused)
    assert no.params["response_type"] == "ephemeral"
    assert "admins" in no.params["text"]
    assert "Fact questions" not in no.params["text"]

    shown = unique("stats")
    slack.command("share stats 30d", user=ADMIN, response_url=api.response_url(shown))
    (page,) = api.responses(shown)
    assert page.params["response_type"] == "ephemeral"  # even when asked to share
    text = "\n".join(b["text"]["text"] for b in page.params["blocks"][1:])
    assert text.startswith("```")
    assert "Fact questions:" in text
    assert "Performance and speed" in text  # asked above
    assert "█" in text
    assert "Top unmatched questions" in text
    assert "best pizza in town" in text


def test_a_question_that_starts_with_stats_is_still_a_question(
    slack: Slack, api: FakeSlackAPI
) -> None:
    name = unique("q")
    slack.command("stats on github stars?", user=unique("U"), response_url=api.response_url(name))
    (answer,) = api.responses(name)
    assert "admins" not in answer.params["text"]


def test_feedback_clicks_count_against_the_rate_limit(
    slack: Slack, api: FakeSlackAPI, store: SQLiteStore
) -> None:
    _, post = mention(slack, api, "what about dependency injection?")
    up = vote_click(feedback_buttons(post)["advisor_feedback_up"])
    user, limit = unique("U"), 30  # ADVISOR_RATE_LIMIT's default
    in_one_rate_window()
    for n in range(limit + 5):  # one vote each on 35 messages
        slack.click(up, user=user, channel="C7", message_ts=f"1700001000.{n:06d}")
    ephemerals(api, user, limit)
    time.sleep(0.5)
    assert len(api.calls_to("chat.postEphemeral", user=user)) == limit
    votes = [v for v in store.votes_since(0) if v["id"] == "dependency_injection"]
    assert len(votes) == limit
