"""The terminal's text: lines of styled pieces laid out on textlayout's widths (CJK characters two
columns, its line-break rules) and written plain, or with ANSI styles on a terminal.

Every command's text output goes through here: prose wrapped to the width, tables, rules and panels.
rich is left to `incident watch`, whose live board redraws in place; nothing else imports it, so a
command printing a few lines costs what printing them costs.

Styles are words (textlayout.ATTRIBUTES: ``bold``, ``dim``, ``reverse``...; textlayout.COLOURS:
``red``, ``yellow``, ``dark_orange``...). They are written only when stdout is a terminal
(or FORCE_COLOR / TTY_COMPATIBLE say to) and TERM is not ``dumb``; NO_COLOR drops the colours and
keeps the rest. The width: COLUMNS when it is a number, else the first of stdin, stdout, stderr
that is a terminal, else 80.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple, TextIO

from geohazard_cli.textlayout import ATTRIBUTES, COLOURS, NO_LINE_END, NO_LINE_START, TOKENS, width

Piece = tuple[str, str]  # text, style
Line = list[Piece]
Part = tuple[str, str, bool]  # text, style, whole (never split: a clause, a number, a time)
Cell = str | Piece  # a table cell: its text, or its text and its own style



class Column(NamedTuple):
    header: str
    right: bool = False  # right-justified (figures)
    fold: bool = False  # the column that folds onto more lines when the table is wider than the width


class Term:
    """Lines to stdout (or ``stream``), at the terminal's width."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        env = os.environ
        tty = env.get("TTY_COMPATIBLE", "")  # as rich reads it: 1 a terminal, 0 not one
        forced = bool(env.get("FORCE_COLOR")) or tty == "1"
        self.styled = (forced or (tty != "0" and _isatty(self.stream))) and env.get("TERM") != "dumb"
        self.colours = self.styled and not env.get("NO_COLOR")
        self.width = _width()

    # --- writing ---------------------------------------------------------------------------------
    def print(self, text: str = "", style: str = "", wrap: bool = True) -> None:
        """A paragraph a line of ``text``: wrapped to the width (``wrap=False``: each one line, the
        terminal folds it)."""
        for paragraph in text.expandtabs().split("\n"):
            self.line([(paragraph, style)], wrap)

    def line(self, pieces: Line, wrap: bool = True) -> None:
        if wrap and sum(width(t) for t, _ in pieces) > self.width:
            first = pieces[0][0] if pieces else ""
            lead = first[:len(first) - len(first.lstrip(" "))]  # an indented line stays indented
            self.lines(fill([(t, s, False) for t, s in pieces], self.width, lead, lead))
        else:
            self.lines([pieces])

    def lines(self, lines: list[Line]) -> None:
        self.stream.write("".join(self.render(line) + "\n" for line in lines))

    def render(self, line: Line) -> str:
        if not self.styled:
            return "".join(t for t, _ in line).rstrip()
        runs: list[list[str]] = []  # [style, text]: neighbouring pieces of one style written as one
        for text, style in line:
            if runs and runs[-1][0] == style:
                runs[-1][1] += text
            else:
                runs.append([style, text])
        if runs:
            runs[-1][1] = runs[-1][1].rstrip()
        out = []
        for style, text in runs:
            codes = self._codes(style)
            out.append(f"\x1b[{codes}m{text}\x1b[0m" if codes and text else text)
        return "".join(out)

    def _codes(self, style: str) -> str:
        codes = []
        background = False
        for word in style.split():
            if word == "on":
                background = True
                continue
            code = ATTRIBUTES.get(word) or (COLOURS.get(word) if self.colours else None)
            if code is not None and background and word in COLOURS:
                code = code.replace("38;5;", "48;5;") if code.startswith("38;5;") else str(int(code) + 10)
            background = False
            if code:
                codes.append(code)
        return ";".join(codes)

    # --- layouts ---------------------------------------------------------------------------------
    def paragraph(self, parts: list[Part], first: str = "", indent: str | None = None) -> None:
        """``parts`` wrapped to the width (``fill``)."""
        self.lines(fill(parts, self.width, first, indent))

    def rule(self, title: str = "", style: str = "dim") -> None:
        """A horizontal line across the width, ``title`` at its left."""
        if not title:
            self.lines([[("─" * self.width, style)]])
            return
        rest = self.width - width(title) - 1
        self.lines([[(title, "bold"), (" " + "─" * rest, style)]] if rest > 0 else [[(title, "bold")]])

    def table(self, columns: list[Column], rows: list[tuple[list[Cell], str]], title: str = "") -> None:
        """Columns two spaces apart, a bold header; each row (cells, style). Cells never cut: the
        ``fold`` column wraps onto more lines when the table is wider than the width, the others
        keep their text whole."""
        self.lines(table(columns, rows, self.width, title))

    def panel(self, title: str, body: list[Line], border: str = "", expand: bool = True) -> None:
        """``body`` in a box with ``title`` in its top border; long lines wrapped inside."""
        self.lines(panel(title, body, self.width, border, expand))


def table(columns: list[Column], rows: list[tuple[list[Cell], str]], cols: int, title: str = "") -> list[Line]:
    from geohazard_cli.textlayout import wrap

    gap = 2
    texts = [[c if isinstance(c, str) else c[0] for c in cells] for cells, _ in rows]
    widths = [max([width(c.header), *(width(r[i]) for r in texts)]) for i, c in enumerate(columns)]
    total = sum(widths) + gap * (len(columns) - 1)
    fold = next((i for i, c in enumerate(columns) if c.fold), None)
    if fold is not None and total > cols:
        widths[fold] = max(cols - (total - widths[fold]), min(widths[fold], 8))
    out: list[Line] = [[(title, "")]] if title else []

    def lay(cells: list[Cell], style: str) -> list[Line]:
        pieces = [(c, style) if isinstance(c, str) else (c[0], c[1] or style) for c in cells]
        split = [wrap(t, widths[i]).split("\n") if i == fold and width(t) > widths[i] else [t]
                 for i, (t, _) in enumerate(pieces)]
        lines = []
        for n in range(max(len(s) for s in split)):
            line: Line = []
            for i, (c, s) in enumerate(zip(columns, split, strict=True)):
                text = s[n] if n < len(s) else ""
                pad = " " * (widths[i] - width(text))
                line += [(pad, ""), (text, pieces[i][1])] if c.right else [(text, pieces[i][1]), (pad, "")]
                if i < len(columns) - 1:
                    line.append((" " * gap, ""))
            lines.append(line)
        return lines

    out += lay([c.header for c in columns], "bold")
    for cells, style in rows:
        out += lay(cells, style)
    return out


def panel(title: str, body: list[Line], cols: int, border: str = "", expand: bool = True) -> list[Line]:
    room = max(4, cols - 4)  # the border and a space each side
    lines: list[Line] = []
    for line in body:
        if sum(width(t) for t, _ in line) > room:
            lines += fill([(t, s, False) for t, s in line], room)
        else:
            lines.append(line)
    inner = room if expand else min(room, max([width(title) + 2, *(sum(width(t) for t, _ in ln) for ln in lines)]))
    if width(title) > inner - 1:
        title = _crop(title, inner - 1)
    top = "─ " + title + " " if title else ""
    out: list[Line] = [[("╭" + top + "─" * (inner + 2 - width(top)) + "╮", border)]]
    for line in lines:
        used = sum(width(t) for t, _ in line)
        out.append([("│ ", border), *line, (" " * (inner - used) + " ", ""), ("│", border)])
    out.append([("╰" + "─" * (inner + 2) + "╯", border)])
    return out


def _crop(text: str, cols: int) -> str:
    out, used = "", 0
    for ch in text:
        if used + width(ch) > cols - 1:
            return out + "…"
        out, used = out + ch, used + width(ch)
    return out


def fill(parts: list[Part], cols: int, first: str = "", indent: str | None = None) -> list[Line]:
    """``parts`` wrapped to ``cols`` cells: ``first`` before the first line, ``indent`` (default: as
    wide as ``first``) before the others. A line breaks between textlayout's pieces, never before
    closing punctuation nor after an opening bracket, never inside a quotation ("叫应") or a whole
    part; a piece wider than a line is split by character."""
    indent = " " * width(first) if indent is None else indent
    lines: list[Line] = []
    line: Line = [(first, "")] if first else []
    used, empty = width(first), True

    def newline() -> None:
        nonlocal line, used, empty
        lines.append(line)
        line, used, empty = ([(indent, "")] if indent else []), width(indent), True

    for atom in _atoms(parts):
        size = sum(width(t) for t, _ in atom)
        if atom[0][0].isspace():
            if not empty and used + size <= cols:
                line.append(atom[0])
                used += size
            continue
        if used + size > cols and not empty:
            newline()
        for text, style in atom:
            if used + size <= cols:
                line.append((text, style))
                used += width(text)
                continue
            for ch in text:  # longer than a line
                if used + width(ch) > cols and not empty:
                    newline()
                line.append((ch, style))
                used += width(ch)
                empty = False
        empty = False
    lines.append(line)
    return lines


def _atoms(parts: list[Part]) -> list[list[Piece]]:
    """The pieces a paragraph may break between; each atom is a list of (text, style)."""
    atoms: list[list[Piece]] = []
    quotes = 0  # ASCII quotes seen: an odd count means the next one closes
    glue_next = False
    for text, style, whole in parts:
        for tok in [text] if whole else TOKENS.findall(text):
            closing = tok.startswith('"') and quotes % 2 == 1
            quotes += 0 if whole else tok.count('"')
            glue = glue_next or closing or tok[0] in NO_LINE_START
            if glue and atoms and not tok.isspace():
                if atoms[-1][0][0].isspace():  # "a )": the space is no break point either
                    space = atoms.pop()
                    if atoms:
                        atoms[-1] += [*space, (tok, style)]
                    else:
                        atoms.append([(tok, style)])
                else:
                    atoms[-1].append((tok, style))
            else:
                atoms.append([(tok, style)])
            # after an opening bracket, and inside a quotation ("叫醒"), the next piece is glued on
            glue_next = not whole and (tok[-1] in NO_LINE_END or quotes % 2 == 1)
    return atoms


def _width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.strip().isdigit() and int(columns) > 0:
        return int(columns)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:
        return False
