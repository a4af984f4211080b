"""The journal's storage seam: one interface (``Storage``), two implementations (``journal.Journal`` on
an SQLite file, ``journal_pg.PgJournal`` on a PostgreSQL database), one factory (``open_journal``)
that picks by what ``--db`` / ``$GEOHAZARD_DB`` names. No command knows which one it talks to."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from geohazard_cli.journal import Damage
    from geohazard_cli.lifecycle import Draft, Event, State

URL_PREFIXES = ("postgresql://", "postgres://")


class Storage(Protocol):
    """What responses.py, summary.py, journal_check.py and the CLI use of an open journal."""

    how: str  # how it was chosen: --db, $GEOHAZARD_DB or default
    version: int  # the schema version it holds (0: empty)
    readonly: bool
    set_aside: list[Damage]  # what the reads so far could not use
    station: str | None  # who writes (recorded with every event): the duty station, its officer
    officer: str | None

    @property
    def where(self) -> str:
        """The journal as messages name it (a file, or a URL without its password)."""

    @property
    def state_columns(self) -> str:
        """The columns ``state`` reads (id, snapshot, call list), as this journal's schema has them."""

    def transaction(self, write: bool, change: bool = True) -> AbstractContextManager[Any]: ...

    def state(self, response_id: int) -> State: ...

    def states(self, status: str | None = None, response: str | None = None) -> list[State]: ...

    def events(self, response_id: int) -> list[Event]: ...

    def read_events(self, response_id: int) -> tuple[list[Event], list[Damage]]: ...

    def writable(self, response_id: int, at: datetime | None = None) -> State: ...

    def create(self, drafts: Sequence[Draft]) -> tuple[State, list[Event]]: ...

    def append(self, state: State, drafts: Sequence[Draft]) -> tuple[State, list[Event]]: ...

    def wait_change(self, seconds: float) -> bool:
        """Block up to ``seconds`` until another writer commits to the journal; True when one did (the
        live board refreshes then). The first call also starts watching (PostgreSQL: LISTEN)."""

    def close(self) -> None: ...


def is_url(spec: str | Path | None) -> bool:
    return isinstance(spec, str) and spec.startswith(URL_PREFIXES)


def locate(option: str | Path | None) -> tuple[str | Path, str]:
    """The journal in force and how it was chosen: --db, $GEOHAZARD_DB, or the user data dir. A
    ``postgresql://`` URL stays text; anything else is a file."""
    from geohazard_cli.journal import ENV_DB, db_path

    if is_url(option):
        return str(option), "--db"
    if option is None and is_url(os.environ.get(ENV_DB)):
        return os.environ[ENV_DB], ENV_DB
    return db_path(Path(option) if option is not None else None)


def shown(spec: str | Path) -> str:
    """The journal as a message names it: a file, or a URL without its password."""
    if is_url(spec):
        from geohazard_cli.journal_pg import redact

        return redact(str(spec))
    return str(spec)


def open_journal(spec: str | Path, how: str = "--db", create: bool = True, readonly: bool = False,
                 waiting: Callable[[str], None] | None = None) -> Storage | None:
    """Open the journal ``spec`` names (``None``: it does not exist and not ``create``): PostgreSQL
    for a ``postgresql://`` URL, else the SQLite file."""
    if is_url(spec):
        from geohazard_cli.journal_pg import PgJournal

        return PgJournal.open(str(spec), how, create=create, readonly=readonly, waiting=waiting)
    from geohazard_cli.journal import Journal

    return Journal.open(Path(spec), how, create=create, readonly=readonly, waiting=waiting)
