"""Loopback stand-ins for Slack, for `advisor bench` and the tests: Slack cannot be reached
from the machines that run them. Nothing in the serving path imports this package."""
