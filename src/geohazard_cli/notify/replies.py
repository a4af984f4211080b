"""An SMS platform's reply export (number, time, text) read as answers of the 叫应 loop: numbers to
units (notify.yaml ``numbers``, backups included, then the roster's numbers), texts to outcomes
(``replies.yaml``, data). Whatever does not match is listed, never dropped."""

from __future__ import annotations

import csv
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geohazard_cli.errors import ConfigError, InputError
from geohazard_cli.timeline import Outcome

if TYPE_CHECKING:
    from geohazard_cli.contacts import Roster
    from geohazard_cli.lifecycle import State
    from geohazard_cli.notify.settings import NotifyFile

FILENAME = "replies.yaml"
_TRAILING = re.compile(r"[\s。.!！,,~～]+$")


def reply_table(cfg: Path) -> tuple[dict[str, Outcome], str | None]:
    """The reply words (normalised) -> outcome, and who an imported reply is recorded as made by."""
    from geohazard_cli.config import config_dir
    from geohazard_cli.loader import load_data_file

    path = cfg / FILENAME
    if not path.is_file():
        path = config_dir(None) / FILENAME
    data = load_data_file(path)
    table = data.get("replies")
    if data.get("schema") != 1 or not isinstance(table, dict):
        raise ConfigError(f"{path}: expected schema: 1 and replies: a mapping of reply text to outcome")
    out = {}
    for text, outcome in table.items():
        try:
            out[normal(str(text))] = Outcome(str(outcome))
        except ValueError:
            raise ConfigError(f'{path}: replies: "{text}": "{outcome}" is not an outcome '
                              "(answered|no-answer|busy|other)") from None
    by = data.get("recorded_by")
    return out, str(by) if by else None


def normal(text: str) -> str:
    return _TRAILING.sub("", unicodedata.normalize("NFKC", text).strip()).casefold()


def digits(number: str) -> str:
    d = re.sub(r"\D", "", unicodedata.normalize("NFKC", number))
    return d[2:] if len(d) == 13 and d.startswith("86") else d


def read_replies(path: Path, tz: str) -> list[dict[str, Any]]:
    """The rows of a reply export: number, time, text (a header row is skipped)."""
    from geohazard_cli.intake import parse_time

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"FILE: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"FILE: {path} is not UTF-8 text (export the replies as UTF-8 CSV)") from None
    rows = []
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not any(c.strip() for c in row):
            continue
        if n == 1 and not digits(row[0]):
            continue  # the header
        if len(row) < 3:
            raise InputError(f"{path}:{n}: expected number, time, text; got {len(row)} column(s)")
        number, when, reply = row[0].strip(), row[1].strip(), ",".join(row[2:]).strip()
        rows.append({"line": n, "number": number, "at": parse_time(when, f"{path}:{n}: time", tz), "text": reply})
    return rows


def units_by_number(state: State, roster: Roster, conf: NotifyFile) -> dict[str, tuple[str, str]]:
    """Number (digits) -> (unit key, name): notify.yaml's numbers, backups included, then the call
    list's and the roster's."""
    from geohazard_cli import lifecycle

    names = {str(e.get("unit_key")): str(e.get("unit")) for e in lifecycle.entries(state)}
    out: dict[str, tuple[str, str]] = {}
    for key, numbers in conf.numbers.items():
        unit = roster.by_key.get(key)
        for number in numbers:
            out.setdefault(digits(number), (key, names.get(key) or (unit.name if unit else key)))
    for e in lifecycle.entries(state):  # (a backup is one of its numbers: sms-file may text it)
        for listed in (e.get("dial"), e.get("phone"), *lifecycle.backup_dials(e)):
            if listed:
                out.setdefault(digits(str(listed)), (str(e.get("unit_key")), str(e.get("unit"))))
    for u in roster.units:
        if u.dial:
            out.setdefault(digits(u.dial), (u.key, u.name))
            out.setdefault(digits(u.dial.partition("-")[2]), (u.key, u.name))
    out.pop("", None)
    return out


def match(rows: list[dict[str, Any]], state: State, roster: Roster, conf: NotifyFile,
          table: dict[str, Outcome]) -> tuple[list[tuple[str, str, Outcome, datetime, str]], list[dict[str, Any]]]:
    """(replies as answers, rows not understood with the reason)."""
    by_number = units_by_number(state, roster, conf)
    matched, unknown = [], []
    for r in rows:
        unit = by_number.get(digits(r["number"]))
        outcome = table.get(normal(r["text"]))
        reason = None
        if unit is None:
            reason = "unknown number"
        elif outcome is None:
            reason = "reply text not in replies.yaml"
        elif state.opened_at is not None and r["at"] < state.opened_at:
            reason = "before the response opened"
        if reason is not None:
            unknown.append({"line": r["line"], "number": r["number"], "text": r["text"], "at": r["at"].isoformat(),
                            "unit": unit[1] if unit else None, "reason": reason})
            continue
        assert unit is not None and outcome is not None
        matched.append((unit[0], unit[1], outcome, r["at"], r["number"]))
    return matched, unknown
