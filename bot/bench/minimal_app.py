"""Bolt's documented minimal app, served the way Bolt serves it by default (`App.start()`):
the baseline `advisor bench` compares the advisor against. It echoes a mention in its thread
and acknowledges `/advisor` then responds, as the Bolt "getting started" guide does.

    python -m bot.bench.minimal_app PORT   (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL)
"""

from __future__ import annotations

import os
import sys
from typing import Any

from slack_bolt import Ack, App, Respond, Say
from slack_sdk import WebClient


def build() -> App:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.event("app_mention")
    def echo(event: dict[str, Any], say: Say) -> None:
        say(text=event["text"], thread_ts=event["ts"])

    @app.command("/advisor")
    def command(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack()
        respond(text=command["text"])

    return app


if __name__ == "__main__":
    build().start(port=int(sys.argv[1]), http_server_logger_enabled=False)
