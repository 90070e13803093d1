"""Text from outside (provider webhooks) made safe to store.

PostgreSQL refuses a NUL character in text, and a lone UTF-16 surrogate (a JSON
body may carry ``\\ud800``) cannot be encoded as UTF-8 at all: either would turn a
signed webhook into a 500. Text is cleaned (NUL removed, a lone surrogate becomes
U+FFFD); an identifier with either cannot be one of ours, so it is not used.
"""

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value) -> str:
    """``value`` as storable text: NUL removed, lone surrogates replaced by U+FFFD."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def usable_id(value) -> str:
    """A provider's identifier as given, or "" when it holds what no identifier of ours can."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return "" if "\x00" in text or _LONE_SURROGATE.search(text) else text
