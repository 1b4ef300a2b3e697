"""At-most-once delivery of a turn across a crash, with the real Advisor, the real SlackCourier
and the loopback Slack Web API (in process: the crash is staged by saving an outbox)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.slack.app import web_client
from bot.adapters.slack.service import Place, SlackCourier
from bot.core.advisor import Advisor
from bot.core.messages import Inbound
from bot.dialog.state import DialogState
from bot.loopback.slack_api import Failure, FakeSlackAPI
from bot.store.base import ConversationKey

KEY = ConversationKey("dm", "T1", "DU1", "1700000000.000001", "U1")
PLACE = Place("DU1", "1700000000.000001")


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


@pytest.fixture
def courier(api: FakeSlackAPI) -> SlackCourier:
    return SlackCourier(web_client("xoxb-test", api.url), KEY, PLACE)


def test_a_turn_is_posted_with_its_mark_and_the_outbox_is_cleared(
    advisor: Advisor, api: FakeSlackAPI, courier: SlackCourier
) -> None:
    advisor.handle(KEY, Inbound(text="recommend a json api", delivery="event:E1"), courier)
    posts = api.calls_to("chat.postMessage", channel="DU1")
    assert len(posts) == 1
    payload = posts[0].params["metadata"]["event_payload"]
    assert (payload["turn"], payload["index"]) == ("event:E1", 0)
    state = advisor.peek(KEY)
    assert state.outbox == []
    assert state.pending == "async_familiarity"  # a JSON API leans FastAPI: what could pull back


def test_an_interrupted_turn_is_finished_without_posting_twice(
    advisor: Advisor, api: FakeSlackAPI, courier: SlackCourier
) -> None:
    advisor.handle(KEY, Inbound(text="recommend", delivery="event:E1"), courier)
    # Stage the crash: a replica decided the next turn (two posts: a fact, then the question
    # again), saved it with its outbox, posted the first message, and died.
    state = advisor.peek(KEY)
    replies = advisor.handle(KEY, Inbound(text="is flask dead?"))  # decides, no courier
    outbox = courier.render(replies)
    assert len(outbox) == 2
    stored = advisor.store.load(KEY)
    assert stored is not None
    crashed = state.model_copy(update={"outbox": outbox, "outbox_turn": "event:E2"}, deep=True)
    crashed.remember("event:E2", 8)
    advisor.store.save(KEY, crashed.model_dump(mode="json"), stored.version)
    courier.send("event:E2", 0, outbox[0])
    before = len(api.calls_to("chat.postMessage", channel="DU1"))
    # Slack's redelivery reaches another replica.
    assert advisor.handle(KEY, Inbound(text="is flask dead?", delivery="event:E2"), courier) == []
    after = api.calls_to("chat.postMessage", channel="DU1")
    assert len(after) == before + 1  # only the post that had not arrived
    assert after[-1].params["metadata"]["event_payload"]["index"] == 1
    assert advisor.peek(KEY).outbox == []


def test_a_turn_that_cannot_be_delivered_is_rolled_back(
    advisor: Advisor, api: FakeSlackAPI, courier: SlackCourier
) -> None:
    advisor.handle(KEY, Inbound(text="recommend", delivery="event:E1"), courier)
    before: DialogState = advisor.peek(KEY)
    api.fail("chat.postMessage", *[Failure(500, {"ok": False, "error": "fatal_error"})] * 3)
    with pytest.raises(Exception, match="fatal_error"):
        advisor.handle(KEY, Inbound(text="api", delivery="event:E2"), courier)
    after = advisor.peek(KEY)
    assert after.answers == before.answers == {}
    assert after.pending == "app_kind"
    assert not after.seen("event:E2")  # a redelivery may try again
    assert after.seen("event:E1")
    assert after.outbox == []


def test_deliveries_are_kept_as_short_marks_and_old_raw_ids_still_count() -> None:
    state = DialogState()
    for n in range(10):
        state.remember(f"event:Ev{n:08d}", 8)
    assert len(state.deliveries) == 8
    assert all(len(mark) == 12 for mark in state.deliveries)
    assert state.seen("event:Ev00000009")
    assert not state.seen("event:Ev00000001")  # the oldest are let go
    assert not state.seen(None)
    stored_before_marks = DialogState(deliveries=["event:EvOLD"])
    assert stored_before_marks.seen("event:EvOLD")
