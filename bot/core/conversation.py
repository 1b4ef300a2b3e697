"""What the advisor says around the facts: small talk, "not ours", and follow-ups.

Every word of it is conversation.yaml data; this module only picks. A follow-up ("and flask?",
"why?") is read against the fact answered just before it in the same conversation, which the
conversation's state keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import wording
from bot.core.messages import Focus, Reply
from bot.kb.dialog_models import DISPLAY_NAME
from bot.kb.loader import KnowledgeBase
from bot.kb.models import Fact
from bot.matching.matcher import MatchResult
from bot.matching.reader import Reader

_NAMES: dict[str, str] = {str(k): v for k, v in DISPLAY_NAME.items()}  # keyed as Readings name
# An aspect named in passing ("what about tutorials then?") must be this probable (percent) to
# be taken as the next question rather than as nothing of ours.
_SHIFT_FLOOR = 15.0


@dataclass(frozen=True)
class FollowUp:
    focus: Focus
    fact_id: str | None = None  # another fact, asked about in the previous one's context


class Conversation:
    def __init__(self, kb: KnowledgeBase, reader: Reader) -> None:
        self.kb = kb
        self.reader = reader
        talk = kb.conversation
        self._replies = [
            (reply, {_cue(cue, reader) for cue in reply.cues}) for reply in talk.smalltalk.replies
        ]
        self._suggested = tuple(kb.facts[f] for f in talk.smalltalk.suggestions)
        self._more = {reader.clean(p) for p in talk.followups.more}
        self._more_words = {reader.clean(w) for w in talk.followups.more_words}
        self._openers = {reader.clean(w) for w in talk.followups.openers}
        self.followups = talk.followups
        self.not_ours_text = talk.not_ours

    # -- small talk -----------------------------------------------------------------------

    def smalltalk(self, text: str) -> Reply:
        """One short line and a few suggested questions, never the long "no answer"."""
        found = self._smalltalk_cue(text)
        reply = next((r for r, _ in self._replies if r.id == found), self._replies[-1][0])
        listed = wording.did_you_mean_text(self._suggested, reply.text + " For example:")
        return Reply("talk", listed, suggestions=self._suggested)

    # -- not ours -------------------------------------------------------------------------

    def not_ours(self, match: MatchResult, text: str) -> list[Reply]:
        texts = self.not_ours_text
        if match.route == "howto":
            return [Reply("no_match", texts.howto, extras={"route": "howto"})]
        if match.route != "other_pair":
            return [Reply("no_match", texts.offtopic, extras={"route": match.route})]
        replies = [Reply("no_match", texts.other_pair, extras={"route": "other_pair"})]
        named = sorted(self.reader.read(text).frameworks)
        fact = self.kb.facts.get(match.aspect or "")
        if len(named) == 1 and fact is not None and match.score >= 50 and fact.id != "overall":
            # "sanic or fastapi, which is faster?": what we know of FastAPI's speed.
            intro = texts.other_pair_aspect.format(
                framework=_NAMES[named[0]], aspect=fact.title.lower()
            )
            line = getattr(fact, named[0])
            replies.append(Reply("info", f"{intro}\n{line}"))
        return replies

    def one_shot(self, match: MatchResult, text: str) -> str:
        """The whole answer to one message with no conversation around it (`advisor ask`)."""
        if match.status == "answered" and match.fact_id is not None:
            return wording.fact_text(self.kb.facts[match.fact_id])
        if match.status == "did_you_mean":
            return wording.did_you_mean_text(self.kb.facts[c.fact_id] for c in match.candidates)
        if match.route == "empty":
            return ""
        if match.route == "talk":
            return self.smalltalk(text).text
        return "\n".join(reply.text for reply in self.not_ours(match, text))

    # -- follow-ups ---------------------------------------------------------------------

    def follow_up(self, text: str, match: MatchResult, last: str) -> FollowUp | None:
        """A short message that only makes sense against the previous answer, `last`.

        Not one when it plainly asks about another aspect (the match answers another fact),
        is a how-to or another framework pair, or is small talk with a cue ("thanks").
        """
        words = self.reader.clean(text).split()
        if not words or len(words) > self.followups.max_words:
            return None
        reading = self.reader.read(text)
        if len(reading.frameworks) == 1 and not reading.tokens:
            return FollowUp(next(iter(reading.frameworks)))  # type: ignore[arg-type]
        if match.status == "answered" and match.fact_id != last:
            return None
        if match.route == "other_pair" or (match.route == "howto" and len(words) > 3):
            return None
        if self._smalltalk_cue(text) is not None:
            return None
        named = reading.frameworks
        if len(named) == 1:
            return FollowUp(next(iter(named)))  # type: ignore[arg-type]
        if named:
            return None
        if self._asks_more(words, reading.tokens):
            return FollowUp("more")
        shifted = self._shifted(words, match)
        return FollowUp("full", shifted) if shifted is not None else None

    def _shifted(self, words: list[str], match: MatchResult) -> str | None:
        """ "what about tutorials then?": among the facts alone, one stands out."""
        if words[0] not in self._openers or not match.candidates:
            return None
        total = sum(c.score for c in match.candidates)
        best = match.candidates[0]
        if best.score < _SHIFT_FLOOR or best.score / total < 0.5:
            return None  # "how do i center a div" has no aspect of ours at all
        return best.fact_id

    def _smalltalk_cue(self, text: str) -> str | None:
        cleaned = f" {self.reader.clean(text)} "
        raw = text.lower()
        for reply, cues in self._replies:
            if any(f" {cue} " in cleaned or (cue.startswith(":") and cue in raw) for cue in cues):
                return reply.id
        return None

    def _asks_more(self, words: list[str], tokens: tuple[str, ...]) -> bool:
        """ "why?", "by how much?", "huh, how does that work": a word asking for more, and
        hardly anything else ("how do i center a div" asks something else)."""
        if self._is_more(" ".join(words)):
            return True
        if not any(w in self._more_words for w in words):
            return False
        other = [t for t in tokens if t not in self._more_words]
        return len(other) <= (1 if len(words) <= 5 else 0)

    def _is_more(self, cleaned: str) -> bool:
        if cleaned in self._more:
            return True
        from rapidfuzz.distance import OSA  # as in Reader: only for a slip of the keyboard

        return len(cleaned) >= 6 and any(
            OSA.distance(cleaned, phrase) <= 1 for phrase in self._more if len(phrase) >= 6
        )

    def answer_follow_up(self, fact: Fact, follow: FollowUp) -> Reply:
        if follow.focus == "full":
            return Reply("fact", wording.fact_text(fact), fact=fact)
        if follow.focus == "more":
            detail = fact.detail or fact.verdict
            text = f"{fact.title}, in more depth:\n{detail}\nSources: {fact.source}"
            return Reply("fact", text, fact=fact, focus="more")
        side = _NAMES[follow.focus]
        text = f"{fact.title}, for {side}:\n{getattr(fact, follow.focus)}\nIn short: {fact.verdict}"
        return Reply("fact", text, fact=fact, focus=follow.focus)


def _cue(cue: str, reader: Reader) -> str:
    """Emoji codes (":wave:") are kept as written; cleaning would erase them."""
    return cue if cue.startswith(":") else reader.clean(cue)
