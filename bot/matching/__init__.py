"""Fuzzy matching of questions to facts (rapidfuzz), with an honest "no match"."""

from bot.matching.matcher import Candidate, Matcher, MatchResult

__all__ = ["Candidate", "MatchResult", "Matcher"]
