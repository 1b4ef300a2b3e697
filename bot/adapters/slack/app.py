"""The Bolt App: a Web API client that retries, and the listeners."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.adapters.slack.executor import BoundedExecutor
from bot.adapters.slack.inbox import Inbox
from bot.adapters.slack.listeners import register_listeners
from bot.adapters.slack.service import SlackService
from bot.adapters.slack.telemetry import Telemetry
from bot.adapters.slack.transport import KeepAliveWebClient

log = logging.getLogger("bot.slack")


class AnyServerErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503; a gateway's 502 and 504 are just as passing."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599


def retry_handlers() -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(
            max_retry_count=2,
            error_types=[TimeoutError, ConnectionError, OSError],
        ),
        RateLimitErrorRetryHandler(max_retry_count=3),
        AnyServerErrorRetryHandler(max_retry_count=2),
    ]


def settled(logger: logging.Logger) -> logging.Logger:
    """`logger`, its own level set to the one in effect.

    slack_sdk and Bolt ask `logger.level <= DEBUG` (the logger's own level) before they build
    a debug message; a logger left at NOTSET passes, so every post had its whole payload
    formatted into a message that was then dropped (13 of a post's 56 us). A level the
    operator set, DEBUG included, is kept.
    """
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger


def web_client(token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    return KeepAliveWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout,
        retry_handlers=retry_handlers(),
        logger=settled(logging.getLogger("slack_sdk.web.base_client")),
    )


class _SameTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN (read from the environment) is unused when a client is
    given; ours carries that very token, so the warning would only alarm an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def build_app(
    *,
    service: SlackService,
    client: WebClient,
    signing_secret: str | None,
    executor: BoundedExecutor,
    telemetry: Telemetry,
    verify_requests: bool = True,
) -> tuple[App, Inbox]:
    bolt_logger = settled(logging.getLogger("slack_bolt"))
    bolt_logger.addFilter(_SameTokenNotice())
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        process_before_response=True,
        listener_executor=executor,
        request_verification_enabled=verify_requests,
        ignoring_self_events_enabled=True,
        # Off: the advisor runs no workflow steps (function tokens) and no AI-assistant threads
        # (say/set_status arguments); each cost every request a pass over the payload.
        attaching_function_token_enabled=False,
        attaching_conversation_kwargs_enabled=False,
        logger=bolt_logger,
    )

    return app, register_listeners(app, service, executor, telemetry)
