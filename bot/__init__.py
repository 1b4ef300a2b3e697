"""Framework Advisor: helps a team choose between Flask and FastAPI, in Slack or a terminal."""

__version__ = "0.1.0"
