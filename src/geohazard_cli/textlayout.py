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

# The words of a terminal style cli/term.py writes, each its ANSI SGR code (a rules file's warning
# colour names a style: "bold dark_orange", "bold white on red"; words it does not know are left
# out). A colour after "on" is the background (its code + 10, or 48;5 for a 256-colour one).
ATTRIBUTES = {"bold": "1", "dim": "2", "italic": "3", "underline": "4", "reverse": "7"}
COLOURS = {"black": "30", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
           "white": "37", "bright_black": "90", "bright_red": "91", "bright_green": "92", "bright_yellow": "93",
           "bright_blue": "94", "bright_magenta": "95", "bright_cyan": "96", "bright_white": "97",
           "dark_orange": "38;5;208", "orange1": "38;5;214"}


# The line-break rules (also the terminal panel's, cli/term.py).
NO_LINE_START = set(",.;:!?)]}，。、；：！？）】」』”’%")  # never first on a line
NO_LINE_END = set("([{（【「『“‘")  # never last on a line: goes with what follows
# The pieces text breaks between: runs of printable ASCII stay whole ("(6.1.3(5))").
TOKENS = re.compile(r"[!-~]+|\s+|.", re.S)


def width(text: str) -> int:
    """Display width in a terminal: East Asian wide and full-width characters count two."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.cache
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap(text: str, cols: int = 78, indent: str = "", first: str | None = None) -> str:
    """Wrap ``text`` to ``cols`` display columns; ``first`` replaces ``indent`` on the first line.

    CJK text breaks between any two characters, except before closing punctuation (which may run
    one character past ``cols``); ASCII runs such as clause numbers and phone numbers are not split
    unless longer than a line.
    """
    line = indent if first is None else first
    if text.isprintable() and "  " not in text and width(line) + width(text) <= cols:
        return (line + text).rstrip()  # fits on one line: what _wrap would give
    return _wrap(text, cols, indent, line)


def _wrap(text: str, cols: int, indent: str, line: str) -> str:
    lines: list[str] = []
    used = width(line)  # width(line), kept as the line grows
    indent_width = width(indent)
    char_width, no_start, no_end = _char_width, NO_LINE_START, NO_LINE_END  # locals: this loop is hot
    for tok in TOKENS.findall(text.replace("\n", " ")):
        if tok.isspace():
            tok = " "
        tok_width = char_width(tok) if len(tok) == 1 else width(tok)  # mostly one CJK character
        if used + tok_width <= cols:
            line += tok
            used += tok_width
            continue
        if line.strip() and tok[0] not in no_start and indent_width + tok_width <= cols:
            carry = ""
            while line.strip() and line[-1] in no_end:  # an opening bracket goes with what follows
                carry, line = line[-1] + carry, line[:-1]
            lines.append(line.rstrip())
            line = indent + carry
            used = indent_width + width(carry)
            if tok == " ":
                continue
        elif tok_width > cols - indent_width:  # a run longer than a line: split it
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
