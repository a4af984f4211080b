"""Checks for the sentence templates a plan's data supplies (``{placeholder}`` texts).

Plan wording lives in rules/*.yaml and contacts.yaml; where a sentence needs a value filled in
(a group's name, a due time), the data gives it as a ``str.format`` template and the loader checks
here that it names only the placeholders the code fills in, so a typo is a config error naming
the key, not a KeyError at render time.
"""

from __future__ import annotations

import string
from collections.abc import Iterable


def placeholder_problem(text: str, allowed: Iterable[str]) -> str | None:
    """What is wrong with the placeholders of ``text`` (None when each is one of ``allowed``)."""
    known = sorted(allowed)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"{exc} (write a literal brace as {{{{ or }}}})"
    for _, name, spec, conv in parts:
        if name is None:
            continue
        if name not in known or spec or conv:
            shown = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            return f"unknown placeholder {shown} (known: {', '.join('{' + k + '}' for k in known) or 'none'})"
    return None
