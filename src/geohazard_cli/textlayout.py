"""Plain-text layout for CJK text: display width, wrapping and padding (the .txt templates'
helpers), and the line-break rules the terminal panels share.

East Asian wide and full-width characters are two columns; a line never starts with closing
punctuation nor ends with an opening bracket; runs of printable ASCII (clause numbers such as
"(6.1.3(5))", phone numbers) stay whole.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# The line-break rules (also the terminal panel's, cli/warning.py).
NO_LINE_START = set(",.;:!?)]}，。、；：！？）】」』”’%")  # never first on a line
NO_LINE_END = set("([{（【「『“‘")  # never last on a line: goes with what follows
# The pieces text breaks between: runs of printable ASCII stay whole ("(6.1.3(5))").
TOKENS = re.compile(r"[!-~]+|\s+|.", re.S)


def width(text: str) -> int:
    """Display width in a terminal: East Asian wide and full-width characters count two."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


@functools.cache
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap(text: str, cols: int = 78, indent: str = "", first: str | None = None) -> str:
    """Wrap ``text`` to ``cols`` display columns; ``first`` replaces ``indent`` on the first line.

    CJK text breaks between any two characters, except before closing punctuation (which may run
    one character past ``cols``); ASCII runs such as clause numbers and phone numbers are not split
    unless longer than a line.
    """
    lines: list[str] = []
    line = indent if first is None else first
    used = width(line)  # width(line), kept as the line grows
    indent_width = width(indent)
    for tok in TOKENS.findall(text.replace("\n", " ")):
        if tok.isspace():
            tok = " "
        tok_width = width(tok)
        fits = used + tok_width <= cols
        if not fits and line.strip() and tok[0] not in NO_LINE_START and indent_width + tok_width <= cols:
            carry = ""
            while line.strip() and line[-1] in NO_LINE_END:  # an opening bracket goes with what follows
                carry, line = line[-1] + carry, line[:-1]
            lines.append(line.rstrip())
            line = indent + carry
            used = indent_width + width(carry)
            if tok == " ":
                continue
        elif not fits and tok_width > cols - indent_width:  # a run longer than a line: split it
            for ch in tok:
                ch_width = width(ch)
                if used + ch_width > cols and line.strip():
                    lines.append(line.rstrip())
                    line = indent
                    used = indent_width
                line += ch
                used += ch_width
            continue
        line += tok
        used += tok_width
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


def pad(text: str, cols: int) -> str:
    """Left-justify ``text`` to ``cols`` display columns."""
    return text + " " * max(0, cols - width(text))


TEXT_HELPERS = {"wrap": wrap, "pad": pad, "width": width}
