"""The log handler `advisor serve` uses: JSON lines on standard error, written in batches.

Each scenario runs in a fresh interpreter (logging is process-wide) with standard error sent to
a file, which is then read as an operator's log collector would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SETUP = """
import logging, os, time
from bot.adapters.slack.telemetry import configure_logging
configure_logging(json_lines=True)
log = logging.getLogger("bot.test")
"""


def _run(code: str, tmp_path: Path) -> list[dict[str, object]]:
    err = tmp_path / "stderr.log"
    with err.open("w") as stream:
        subprocess.run(
            [sys.executable, "-c", SETUP + textwrap.dedent(code)],
            stderr=stream,
            check=True,
            timeout=30,
        )
    return [json.loads(line) for line in err.read_text().splitlines()]


def test_a_warning_is_written_at_once_behind_the_information_before_it(tmp_path: Path) -> None:
    lines = _run(
        """
        log.info("first")
        log.warning("trouble")
        # Read back at once, before the writer's next batch: both are already there, in order.
        os.fsync(2)
        with open("/proc/self/fd/2") as seen:
            text = seen.read()
        assert text.index("first") < text.index("trouble"), text
        os._exit(0)  # no exit handlers: what was written is only what the handler wrote
        """,
        tmp_path,
    )
    assert [line["message"] for line in lines] == ["first", "trouble"]
    assert lines[1]["level"] == "warning"


def test_information_is_written_within_the_interval_without_a_flush(tmp_path: Path) -> None:
    lines = _run(
        """
        log.info("handled", extra={"fields": {"kind": "mention"}})
        time.sleep(0.5)  # several batches
        os._exit(0)
        """,
        tmp_path,
    )
    assert lines == [
        {
            "ts": lines[0]["ts"],
            "level": "info",
            "logger": "bot.test",
            "message": "handled",
            "kind": "mention",
        }
    ]


def test_a_fork_neither_loses_nor_doubles_a_line(tmp_path: Path) -> None:
    """Workers are forked with lines waiting: the parent writes them first; each process
    then writes only its own."""
    lines = _run(
        """
        log.info("before the fork")
        pid = os.fork()
        if pid == 0:
            log.info("in the worker")
            logging.shutdown()
            os._exit(0)
        os.waitpid(pid, 0)
        log.info("in the parent")
        """,
        tmp_path,
    )
    messages = [line["message"] for line in lines]
    assert sorted(messages) == ["before the fork", "in the parent", "in the worker"]
    assert messages[0] == "before the fork"


def test_library_lines_that_quote_a_payload_keep_their_words_and_lose_the_content(
    tmp_path: Path,
) -> None:
    lines = _run(
        """
        body = {"event": {"text": "my password is hunter2"}}
        logging.getLogger("slack_bolt.App").warning("Unhandled request (%s)", body)
        logging.getLogger("slack_sdk.web").info("Sending a request - %s", [body])
        logging.getLogger("bot.test").info("our own line {kept}")
        """,
        tmp_path,
    )
    text = json.dumps(lines)
    assert "hunter2" not in text
    messages = [line["message"] for line in lines]
    assert messages[0].startswith("Unhandled request")
    assert "withheld" in messages[0]
    assert "withheld" in messages[1]
    assert messages[2] == "our own line {kept}"
