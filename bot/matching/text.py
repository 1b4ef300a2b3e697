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
# Format (Cf: zero-width, bidi marks), control (Cc) and private-use characters carry no words.
_INVISIBLE = {"Cf", "Cc", "Co", "Cs"}
_ASCII_CONTROLS = {c: None for c in (*range(0x20), 0x7F) if chr(c) not in "\n\t"}


def clean_for_matching(text: str, max_chars: int) -> str:
    """Lowercase words separated by single spaces; at most `max_chars` of the input is read.

    The input is cut first, so a 100 kB message costs no more than a short one.
    """
    text = text[: max_chars * 2]
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        text = text.translate(_ASCII_CONTROLS)
    else:
        text = "".join(
            ch for ch in text if unicodedata.category(ch) not in _INVISIBLE or ch in "\n\t"
        )
    text = _LABELLED_LINK.sub(r" \1 ", text)
    text = _SLACK_TOKEN.sub(" ", text)
    # Slack escapes what the user typed (&lt; &gt; &amp;) after its own markup is parsed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _EMOJI.sub(" ", text.lower())
    text = _APOSTROPHE.sub("", text)
    text = default_process(text)
    return _SPACES.sub(" ", text).strip()[:max_chars]
