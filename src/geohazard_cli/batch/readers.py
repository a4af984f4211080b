"""Reading batch input: JSONL in blocks (parsed by one orjson call where that is provably exact),
CSV rows through the csv module, and the per-record readers of the reference path.

A JSONL line that is not valid JSON, or longer than MAX_LINE_BYTES, reads as the InputError the
reference path reports for it; nothing here grades.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from geohazard_cli.errors import InputError

BLOCK_BYTES = 1 << 17  # JSONL read size: ~1,400 records of ~90 bytes (256 KiB cost each process ~2 MiB more)
# A JSONL line longer than this is no record (a JSON array, say): refused unread. At least twice
# BLOCK_BYTES: a line that fits in one block and the carry before it is not measured.
MAX_LINE_BYTES = 1 << 20
BATCH_SUFFIXES = (".jsonl", ".ndjson", ".csv")


# A JSON number a double may not carry exactly: 16 or more digits (with its point) in a row, or an
# exponent. orjson would round it (999999.9999999999999 -> 1000000.0, crossing a bound), so a line
# holding one is parsed with exact decimals instead. Text that merely looks so (a long id) only
# costs the slower parse.
_LOSSY = re.compile(rb"[0-9.]{16}|[0-9][eE][-+0-9]")
# The same test for a whole block at C speed (the regex above costs ~3 µs a line here): digits and
# points become "d", e/E "e", all else a space; a block holding neither 16 "d" in a row nor a "d"
# before an "e" holds no line _LOSSY matches (a superset test: a hit only sends lines to _LOSSY).
_LOSSY_MAP = bytes(ord("d") if c in b"0123456789." else ord("e") if c in b"eE" else ord(" ") for c in range(256))
_LOSSY_RUN = b"d" * 16


def _maybe_lossy(data: bytes) -> bool:
    t = data.translate(_LOSSY_MAP)
    return _LOSSY_RUN in t or b"de" in t


def _no_constant(token: str) -> Any:
    raise ValueError(token)


def _load(line: bytes) -> Any:
    """Parse one JSONL line: orjson, or exact decimals when a number could lose digits as a float."""
    from geohazard_cli.fastjson import orjson

    if _LOSSY.search(line):
        import json

        try:  # strict UTF-8 as orjson reads it (json.loads would guess UTF-16, or pass surrogates)
            value = json.loads(line.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant)
            if b"\\u" not in line or not _lone_surrogate(value):
                return value
            # a lone surrogate (\ud800) is no text: orjson refuses it, so this line is refused alike
        except (ValueError, RecursionError):
            pass  # not valid JSON: let orjson say so, in its words
    return orjson.loads(line)


def _lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a string (or key) that is not valid Unicode text."""
    import json

    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except RecursionError:  # too deep to check: as deep as orjson refuses anyway
        return True
    return False


class _Blank:
    """A blank line (JSONL) or row (CSV): no output, not counted."""

    __slots__ = ()


BLANK: Any = _Blank()


def blocks_jsonl(fh: IO[bytes], lineno: int = 1) -> Iterator[tuple[int, list[Any], int, bool]]:
    """(first line number, one parsed value per line, how many of them are BLANK, whether all are
    JSON objects) per block.

    A line that is not valid JSON parses to the InputError the reference path gives it; a line
    longer than MAX_LINE_BYTES is not kept at all (memory stays bounded) and is a bad record.
    """
    carry = b""
    pending: list[bytes] = []  # pieces of a line longer than a block (joined once: no quadratic copying)
    held = 0  # bytes of the current line in carry and pending
    dropped = False  # the current line passed MAX_LINE_BYTES: its bytes are not kept
    first_read = lineno == 1
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if first_read:  # "UTF-8 with BOM" (Notepad) is still UTF-8: the mark is no part of line 1
            first_read = False
            chunk = chunk.removeprefix(_BOM)
        if not chunk:
            break
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            held += len(chunk)
            if not dropped:
                pending.append(chunk)
                if held > MAX_LINE_BYTES:
                    dropped, pending, carry = True, [], b""
            continue
        start = 0
        if pending or dropped:  # a long line ends at this chunk's first line feed
            first = chunk.find(b"\n")
            if dropped or held + first > MAX_LINE_BYTES:
                yield lineno, [_too_long()], 0, False
                lineno += 1
                start, carry = first + 1, b""
            else:
                carry = b"".join([carry, *pending])
            pending, held, dropped = [], 0, False
        body = carry + memoryview(chunk)[start:cut]  # one copy
        carry = chunk[cut:]
        held = len(carry)
        if body:
            records, blanks, objects = parse_block(body)
            yield lineno, records, blanks, objects
            lineno += len(records)
    if dropped or len(carry) + sum(map(len, pending)) > MAX_LINE_BYTES:
        yield lineno, [_too_long()], 0, False
        return
    carry = b"".join([carry, *pending])
    if carry:
        if carry.strip():
            yield lineno, [parse_line(carry, True)], 0, False
        else:
            yield lineno, [BLANK], 1, False


_BOM = b"\xef\xbb\xbf"


def _too_long() -> InputError:
    return InputError(f"longer than {MAX_LINE_BYTES >> 20} MiB: JSONL holds one record a line (is this file a "
                      "JSON array, or pretty-printed?)")


def parse_block(body: bytes) -> tuple[list[Any], int, bool]:
    """Whole lines (each ending with a newline) parsed, one value a line; the number of blanks; and
    whether every value is a JSON object.

    The common case is one orjson call over the block as an array: ``[line1\n,line2\n,...]``.
    Its elements are the lines' values one to one when every line starts with "{", the block holds
    no "[", and there are as many elements as lines. Why: a raw newline cannot be inside a JSON
    string, so the commas put after the newlines are outside strings; with no arrays, one of them
    inside an object would be followed by a key, not by the "{" that starts the next line, and the
    parse would fail. So each comma separates top-level elements, every line holds at least one
    (an object: it starts with "{"), and as many elements as lines means exactly one each.
    Otherwise line by line, as before.
    """
    from geohazard_cli.fastjson import orjson

    n = body.count(b"\n")
    records: list[Any] | None = None
    if body.startswith(b"{") and b"[" not in body and body.count(b"\n{") == n - 1:
        try:
            records = orjson.loads(b"[" + body.replace(b"\n", b"\n,")[:-1] + b"]")
        except orjson.JSONDecodeError:  # some line is bad: line by line finds it
            records = None
        if records is not None and len(records) != n:
            records = None
    objects = records is not None
    if records is None:
        lines = body.split(b"\n")
        lines.pop()
        loads = orjson.loads
        records = []
        blanks = 0
        for line in lines:
            try:
                records.append(loads(line))
            except orjson.JSONDecodeError:
                if line.strip():
                    records.append(parse_line(line, False))
                else:
                    records.append(BLANK)
                    blanks += 1
    else:
        blanks = 0
    if _maybe_lossy(body):  # numbers a double may not carry: exact decimals for those lines
        for i, line in enumerate(body.split(b"\n")):
            if _LOSSY.search(line) and records[i] is not BLANK:
                records[i] = parse_line(line, False)
                objects = objects and type(records[i]) is dict
    return records, blanks, objects


def _invalid_json(exc: Exception) -> InputError:
    return InputError(f"invalid JSON ({str(exc).split(':')[0]})")


def parse_line(line: bytes, last: bool) -> Any:
    """As the reference reader parses one line (with its newline, as iterating a file gives it)."""
    from geohazard_cli.fastjson import orjson

    try:
        return _load(line if last else line + b"\n")
    except orjson.JSONDecodeError as exc:
        return _invalid_json(exc)


def csv_header(reader: CsvReader, name: str) -> list[str] | None:
    """The header row as field names: each column the field's name, the plan's term (its label) or
    another name of it (fields.HEADERS), in any mix."""
    try:
        header = next(reader.rows)
    except StopIteration:
        return None
    except csv_error() as exc:
        raise csv_failed(name, reader.line_num, exc) from None
    return header_fields([h.strip() for h in header], name)


def header_fields(header: list[str], name: str) -> list[str]:
    """Column headers -> field names; refuse an unknown one (listing what is accepted) or a field
    named twice."""
    from geohazard_cli.fields import ALL_FIELDS, HEADERS, header_names

    fields: list[str] = []
    for col in header:
        field = HEADERS.get(col)
        if field is None:
            known = ", ".join(header_names(f) for f in ALL_FIELDS)
            bare = re.sub(r"\s*[(（][^()（）]*[)）]$", "", col)
            if bare != col and bare in HEADERS:  # 直接经济损失(万元): a unit in the header
                raise InputError(f"{name}:1: column {col!r}: a unit in the header is not read; name the column "
                                 f"{header_names(HEADERS[bare])} and write the unit in each cell (500万, 1.2亿)")
            raise InputError(f"{name}:1: column {col!r} is not a known field (accepted: {known})")
        if field in fields:  # which of the two would be meant? (a YAML --file refuses the same)
            other = header[fields.index(field)]
            if other == col:
                raise InputError(f"{name}:1: column {col!r} appears twice; keep one")
            raise InputError(f"{name}:1: columns {other!r} and {col!r} both name {field}; keep one")
        fields.append(field)
    return fields


class RowError(InputError):
    """A CSV row that is no record (another number of cells than the header), with its id cell."""

    def __init__(self, message: str, ident: Any = None) -> None:
        super().__init__(message)
        self.ident = ident


def csv_record(header: list[str], row: list[str]) -> Any:
    if len(row) != len(header):
        at = header.index("id") if "id" in header else len(row)
        return RowError(f"has {len(row)} cells, the header has {len(header)}", row[at] if at < len(row) else None)
    return {k: (v if v.strip() else None) for k, v in zip(header, row, strict=True)}


def not_utf8(name: str) -> InputError:
    """A file that turned out not to be UTF-8 while it was read (a pipe, or a JSONL text field)."""
    return InputError(f"{name}: is not UTF-8 text; save it as UTF-8")


def check_utf8(fh: IO[bytes], name: str) -> None:
    """Refuse a CSV file that is not UTF-8 before anything is written (a spreadsheet saved as GBK
    is the usual case), naming the line of the first bad byte; then rewind."""
    import codecs

    if not fh.seekable():  # a pipe: checked as it is read (what came before is then already out)
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    while True:
        chunk = fh.read(1 << 20)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:  # exc.object: this chunk after a few pending bytes (no line feed)
            data = bytes(exc.object)
            at = lines + data.count(b"\n", 0, exc.start)
            raise InputError(f"{name}:{at}: is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8 "
                             "(in Excel: CSV UTF-8)") from None
        if not chunk:
            break
        lines += chunk.count(b"\n")
    fh.seek(0)


def csv_open(fh: IO[bytes], encoding: str = "utf-8-sig") -> CsvReader:
    """A csv reader over the bytes, as the csv module wants its text: newline="" (so line breaks
    inside quoted cells survive and only \\n, \\r, \\r\\n end a line), UTF-8 with or without BOM
    (at the start of the file: a part read from the middle is plain "utf-8")."""
    return CsvReader(fh, encoding)


def line_breaks(row: list[str]) -> int:
    """Line breaks inside a row's (quoted) cells: the physical lines it takes beyond one."""
    return sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in row)




def open_input(path: Path) -> IO[bytes]:
    try:
        return sys.stdin.buffer if str(path) == "-" else open(path, "rb")
    except OSError as exc:
        raise InputError(f"--batch: {path}: cannot be read ({exc.strerror})") from None


def check_suffix(path: Path) -> None:
    """The format goes by suffix: refuse a file whose suffix names neither format."""
    if str(path) != "-" and path.suffix.lower() not in BATCH_SUFFIXES:
        raise InputError(f"--batch: {path}: the format goes by suffix; name it .jsonl (one JSON object a line) "
                         "or .csv (header row), or pass - for JSONL on stdin")


def records_jsonl(fh: IO[bytes]) -> Iterator[tuple[int, Any]]:
    from geohazard_cli.fastjson import orjson

    for lineno, line in enumerate(fh, 1):
        if lineno == 1:
            line = line.removeprefix(_BOM)
        if len(line) - line.endswith(b"\n") > MAX_LINE_BYTES:
            yield lineno, _too_long()
            continue
        if not line.strip():
            continue
        try:
            yield lineno, _load(line)
        except orjson.JSONDecodeError as exc:
            yield lineno, _invalid_json(exc)


def records_csv(fh: IO[bytes], name: str, check: RowCheck | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, record or the InputError it reads as) per data row, blank rows left out."""
    reader = csv_open(fh)
    header = csv_header(reader, name)
    if header is None:
        return
    while True:
        before = reader.line_num
        try:
            row = next(reader.rows)
        except StopIteration:
            return
        except csv_error() as exc:
            error = refused_row(reader, check, before + 1, 0, name, exc)
            yield reader.line_num, error
            continue
        if not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, csv_record(header, row)


def csv_error() -> type[Exception]:
    """csv.Error (the csv module is imported only when a CSV file is read)."""
    import csv

    return csv.Error


def csv_failed(name: str, line: int, exc: Exception) -> InputError:
    """A row the csv module cannot read (a cell past its size limit, a stray quote at the end)."""
    return InputError(f"{name}:{line}: cannot be read as CSV ({exc})")


def refused_row(reader: CsvReader, check: RowCheck | None, first: int, offset: int, name: str,
                exc: Exception) -> InputError:
    """The bad record a row the csv module refused (a cell past its size limit) stands for, when
    the batch can go on after it: the reader is then moved past the row's last line. Else raise
    (the batch ends there, as every path ends it). ``first``: the row's first line as the reader
    counts them (it has read to ``reader.line_num``); ``offset`` lines come before."""
    last = reader.line_num
    end = check.row_end(first, last) if check is not None else None
    if end is None:
        raise csv_failed(name, offset + last, exc) from None
    reader.skip(end - last)
    return InputError(f"cannot be read as CSV ({exc})")


class CsvReader:
    """The csv module's reader (``rows``) over a text stream, and the stream itself, so that the
    lines left of a row it refused can be passed over (``skip``); ``line_num`` counts them too."""

    def __init__(self, fh: IO[bytes], encoding: str) -> None:
        import csv

        self.text = io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")
        self.source: Iterator[str] = iter(self.text)  # what the csv module reads its lines from
        self.rows = csv.reader(self.source)
        self.skipped = 0

        self.limit = csv.field_size_limit()
        self.quoted = False  # a quote was seen: from there on the csv module reads every row

    @property
    def line_num(self) -> int:
        return int(self.rows.line_num) + self.skipped

    def plain_lines(self, n: int) -> list[str] | None:
        """Up to ``n`` lines, without their line ends, when none holds a quote or is longer than a
        cell may be: each is then one row, its cells split at commas, as the csv module would read
        it. None when one does: those lines go back to the csv module (``rows``), and the rest of
        the file with them."""
        from itertools import chain, islice

        if self.quoted:
            return None
        lines = list(islice(self.text, n))  # as the csv module gets them: \n, \r and \r\n end a line
        if not lines:
            return lines
        text = "".join(lines)
        if '"' in text or max(map(len, lines)) > self.limit:
            import csv

            self.quoted = True
            self.skipped = self.line_num
            self.source = chain(lines, self.text)
            self.rows = csv.reader(self.source)
            return None
        self.skipped += len(lines)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        plain = text.split("\n")
        if text.endswith("\n"):  # the last line of the file may have no line end
            plain.pop()
        return plain

    def skip(self, lines: int) -> None:
        for _ in range(lines):  # the csv reader holds no lines ahead: the next it reads is the one after
            if next(self.source, None) is None:
                break
            self.skipped += 1


_FIELD_END = re.compile(r"[,\r\n]")


def _row_ends_here(line: str, quoted: bool) -> bool | None:
    """Run the csv module's reader (excel dialect, not strict) over one physical line: whether the
    row ends with it (False: the line ends inside a quoted cell). ``quoted``: the line starts in one."""
    pos, n = 0, len(line)
    state = "quoted" if quoted else "start"
    while True:
        if state == "quoted":  # "" is a quote inside; a lone " ends the quoted part
            j = line.find('"', pos)
            if j < 0:
                return False
            pos, state = j + 1, "after quote"
        elif pos >= n:
            return True
        else:
            c = line[pos]
            if c in "\r\n":
                return True
            if state == "start":
                if c == '"':
                    pos, state = pos + 1, "quoted"
                elif c == ",":
                    pos += 1
                else:
                    state = "field"
            elif state == "after quote":
                pos += 1
                state = "quoted" if c == '"' else "start" if c == "," else "field"
            else:  # in an unquoted field (a quote here is a plain character)
                m = _FIELD_END.search(line, pos)
                if m is None or m[0] != ",":
                    return True
                pos, state = m.end(), "start"


class RowCheck:
    """Where a row the csv reader refused ends, so that the batch can go on after it. The reader
    stops at the line where a cell passes its size limit, which may lie inside a quoted cell that
    spans lines; a quote left open makes the rest of the file one cell. So the row's lines are read
    again from the file (by pread: the reader is not disturbed) and run through the csv module's
    own rules, with no size limit, to the line that ends the row; none (the end of the file, or a
    pipe), no going on.

    Lines are numbered as the csv reader numbers them from byte ``start`` of ``fd`` (1 there).
    Refused rows come in order, so the file is read once however many there are."""

    def __init__(self, fd: int, start: int = 0) -> None:
        self.fd, self.offset, self.line = fd, start, 1  # byte offset of physical line ``line``

    @classmethod
    def of(cls, fh: IO[bytes]) -> RowCheck | None:
        try:
            return cls(fh.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            return None

    def row_end(self, first: int, last: int) -> int | None:
        """The line that ends the row starting on line ``first``, which the reader refused on line
        ``last``; None when no line does (or the lines cannot be read again)."""
        if first < self.line or last < first:
            return None
        quoted = False
        try:
            end = os.fstat(self.fd).st_size
            text = io.TextIOWrapper(read_range(self.fd, self.offset, end), encoding="utf-8", newline="")
            for line in text:  # as the csv reader's file gives them: \n, \r and \r\n end a line
                self.offset += len(line.encode("utf-8"))
                self.line += 1
                if self.line <= first:
                    continue
                if _row_ends_here(line, quoted):
                    return self.line - 1 if self.line - 1 >= last else None
                quoted = True
        except (OSError, ValueError):  # not a file pread can read (a pipe): no going on
            return None
        return None


class FileRange(io.RawIOBase):
    """Bytes ``start`` to ``end`` of an open file, read with pread (the file offset is untouched)."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        super().__init__()
        self.fd, self.pos, self.end = fd, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.end - self.pos)
        if n <= 0:
            return 0
        data = os.pread(self.fd, n, self.pos)
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


READ_BYTES = 1 << 18


def read_range(fd: int, start: int, end: int) -> IO[bytes]:
    """A buffered reader over bytes ``start`` to ``end`` of ``fd``."""
    return io.BufferedReader(FileRange(fd, start, end), READ_BYTES)


def take_rows(reader: CsvReader, n: int) -> tuple[list[list[str]], Exception | None]:
    """Up to ``n`` rows, and the csv error that stopped it early (the rows before it still count)."""
    from itertools import islice

    rows: list[list[str]] = []
    try:
        # list.extend keeps what it appended when the iterator raises, so a refused row keeps the rows
        # before it (tests/test_batch.py holds this)
        rows.extend(islice(reader.rows, n))
    except csv_error() as exc:
        return rows, exc
    return rows, None
