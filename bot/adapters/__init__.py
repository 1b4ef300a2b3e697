"""Transports around the core: the terminal (here) and Slack. They translate; they never decide."""
