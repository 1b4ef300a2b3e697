"""Make any text safe to post: no markup injection, no mass pings.

Slack parses `<...>` as links and mentions and `&` as an entity (docs.slack.dev, "Formatting
text for app surfaces": escape &, < and >). Escaping those three makes `<!channel>` inert; the
bare words @channel, @here and @everyone are also broken with a zero-width joiner, because
clients and other apps re-post text with link parsing on.
"""

from __future__ import annotations

import re

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@\u2060" + m.group(1), text)
