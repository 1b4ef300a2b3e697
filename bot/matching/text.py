"""Turn what people type (in Slack or a terminal) into plain lowercase words.

Slack wraps mentions, channels and links in angle brackets and writes emoji as `:name:`; none of
it says what is being asked, and `<!here>` must never survive into a reply. Questions and the
knowledge base go through the same function, so they meet on equal terms.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.utils import default_process

# <https://example.com|label> keeps its label; <https://example.com> and <mailto:..> vanish.
_LABELLED_LINK = re.compile(r"<(?:https?://|mailto:)[^|>]*\|([^>]*)>")
# <@U123>, <@U123|name>, <#C123|general>, <!here>, <!subteam^S123|@team>, bare links.
_SLACK_TOKEN = re.compile(r"<[@#!]?[^<>]*>")
_EMOJI = re.compile(r":[a-z0-9_+'-]+:")
_APOSTROPHE = re.compile(r"['\u2019\u2018`]")
_SPACES = re.compile(r"\s+")
_PLAIN = re.compile(r"[ -%'-9;=?-~]*")  # printable ASCII without ':', '<' or '&'

# Format (Cf: zero-width, bidi marks), control (Cc) and private-use characters carry no words.
_INVISIBLE = {"Cf", "Cc", "Co", "Cs"}
# Where such characters can be: a message with none of these is not walked character by
# character (tests/test_matcher.py checks every code point of this Python's Unicode).
MAYBE_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    "\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\ud800-\udfff\ue000-\uf8ff\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\U000f0000-\U0010ffff]"
)
_ASCII_CONTROLS = {c: None for c in (*range(0x20), 0x7F) if chr(c) not in "\n\t"}


def clean_for_matching(text: str, max_chars: int) -> str:
    """Lowercase words separated by single spaces; at most `max_chars` of the input is read.

    The input is cut first, so a 100 kB message costs no more than a short one. A long message
    keeps its beginning and, twice as long, its end: people tell the story first and ask last.
    """
    if len(text) <= max_chars and _PLAIN.fullmatch(text):
        # Most messages: printable ASCII with no Slack markup, emoji code or entity.
        return _SPACES.sub(" ", default_process(_APOSTROPHE.sub("", text))).strip()
    return clean_in_full(text, max_chars)


def clean_in_full(text: str, max_chars: int) -> str:
    """`clean_for_matching` without its shortcut for plain text."""
    if len(text) > max_chars * 2:
        text = text[: max_chars * 2 // 3] + "\n" + text[-(max_chars * 4 // 3) :]
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        text = text.translate(_ASCII_CONTROLS)
    elif MAYBE_INVISIBLE.search(text):
        text = "".join(
            ch for ch in text if unicodedata.category(ch) not in _INVISIBLE or ch in "\n\t"
        )
    text = _LABELLED_LINK.sub(r" \1 ", text)
    text = _SLACK_TOKEN.sub(" ", text)
    # Slack escapes what the user typed (&lt; &gt; &amp;) after its own markup is parsed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _EMOJI.sub(" ", text.lower())
    text = _APOSTROPHE.sub("", text)
    text = _SPACES.sub(" ", default_process(text)).strip()
    if len(text) <= max_chars:
        return text
    head, tail = text[: max_chars // 3], text[-(max_chars - max_chars // 3) :]
    return head.rpartition(" ")[0] + " " + tail.partition(" ")[2]
