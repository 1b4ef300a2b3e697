"""A sender's message quota, checked inside the conversation's lock by Advisor.handle."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    """At most `limit` messages from one sender (`name`) per fixed window of `window`
    seconds, counted in the store so that every process and replica shares the count."""

    name: str
    limit: int
    window: int = 60


class OverQuota(Exception):
    """This message is over the quota: `over` is how far (1 for the first one over)."""

    def __init__(self, over: int) -> None:
        super().__init__(f"{over} over the quota")
        self.over = over
