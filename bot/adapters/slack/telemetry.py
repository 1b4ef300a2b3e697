"""What an operator sees: one JSON log line per handled request, and Prometheus metrics.

No message text is logged unless the operator opts in (ADVISOR_LOG_TEXT=1): people ask the
advisor things in their own words, and logs travel further than anyone intends.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from bot.core.messages import Reply

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Telemetry:
    def __init__(self, *, log_text: bool = False) -> None:
        self.log_text = log_text
        self.log = logging.getLogger("bot.requests")
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "advisor_requests_total",
            "Slack requests handled",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "advisor_request_seconds",
            "Time to handle a request, after its ack",
            ["kind"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.refused = Counter(
            "advisor_refused_requests_total",
            "Requests refused at the door: unsigned, bad_signature, too_large, malformed",
            ["reason"],
            registry=self.registry,
        )
        self.matches = Counter(
            "advisor_matches_total",
            "Fact questions, by how they matched",
            ["status"],
            registry=self.registry,
        )
        self.dialogs_started = Counter(
            "advisor_dialogs_started_total",
            "Recommendation dialogs started",
            registry=self.registry,
        )
        self.dialogs_finished = Counter(
            "advisor_dialogs_finished_total",
            "Recommendation dialogs that reached a verdict",
            registry=self.registry,
        )
        self.verdicts = Counter(
            "advisor_verdicts_total",
            "Verdicts, by framework",
            ["framework"],
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "advisor_slack_api_errors_total",
            "Slack Web API calls that failed after every retry",
            ["error"],
            registry=self.registry,
        )

    def handled(
        self,
        kind: str,
        outcome: str,
        seconds: float,
        replies: Sequence[Reply] = (),
        text: str | None = None,
    ) -> None:
        self.requests.labels(kind, outcome).inc()
        self.latency.labels(kind).observe(seconds)
        fields: dict[str, Any] = {
            "kind": kind,
            "outcome": outcome,
            "latency_ms": round(seconds * 1000, 2),
        }
        for reply in replies:
            if reply.kind in {"fact", "did_you_mean", "no_match"}:
                status = {"fact": "answered"}.get(reply.kind, reply.kind)
                self.matches.labels(status).inc()
                fields["match"] = status
                if reply.fact is not None:
                    fields["fact_id"] = reply.fact.id
            if reply.extras.get("event") == "dialog_started":
                self.dialogs_started.inc()
                fields["dialog"] = "started"
            if reply.recommendation is not None:
                self.dialogs_finished.inc()
                self.verdicts.labels(reply.recommendation.framework).inc()
                fields["verdict"] = reply.recommendation.framework
            if reply.question is not None:
                fields["question"] = reply.question.factor
        if self.log_text and text is not None:
            fields["text"] = text
        self.log.info("handled", extra={"fields": fields})

    def slack_error(self, error: str) -> None:
        self.slack_errors.labels(error or "unknown").inc()

    def exposition(self) -> bytes:
        """This process's metrics or, with several workers (workers.shared_metrics), the sum
        over all of them: any worker may be the one Prometheus asks."""
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return bytes(generate_latest(self.registry))
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and any structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error, written in batches: at most every `interval` seconds for information,
    at once (with whatever is waiting, in order) for warnings and errors.

    Why: a write per line is a system call per request, and under load each one let another
    of the process's threads take the interpreter lock; `advisor bench` showed the per-request
    log line costing replies per second (the README has the figure). Lines are formatted
    when logged, so a batch holds only text; it is written before a fork and at exit, so none
    is lost or doubled by the workers (a SIGKILL loses at most `interval` of information lines).
    """

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__()
        self.interval = interval
        self._pending: list[str] = []
        self._start()
        os.register_at_fork(before=self.flush, after_in_child=self._start)

    def _start(self) -> None:
        self._pending = []
        threading.Thread(target=self._write_periodically, name="log-writer", daemon=True).start()

    def _write_periodically(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._pending.append(line)
        if record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            lines, self._pending = self._pending, []
            if lines:
                try:
                    self.stream.write("".join(lines))
                except (OSError, ValueError):  # a closed or broken stderr: nothing to tell
                    return
            super().flush()


_LIBRARIES = ("slack_bolt", "slack_sdk", "uvicorn")
_WITHHELD = " [content withheld; ADVISOR_LOG_TEXT=1 logs it]"


class WithholdContent(logging.Filter):
    """Library log lines that quote a request or a payload ("Unhandled request ({...})")
    keep their words and lose the quoted content: people's messages are in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_LIBRARIES):
            message = record.getMessage()
            cut = min((i for i in (message.find("{"), message.find("[{")) if i >= 0), default=-1)
            if cut >= 0:
                record.msg, record.args = message[:cut].rstrip(" (:") + _WITHHELD, ()
        return True


def configure_logging(json_lines: bool, log_text: bool = False) -> None:
    handler = BatchingStreamHandler()
    if not log_text:
        handler.addFilter(WithholdContent())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
