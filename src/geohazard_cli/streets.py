"""Short street names (七里山 -> 七里山街道办事处): the one resolver ``warning --area`` and every
``--unit`` (incident ack, notify send, drill ack steps) use.

Pure: the streets are the roster's 街道办事处 (units of kind ``street``), the suffixes the profile's
``warning.streets.suffixes`` (街道办事处, 街道, 街办, ...).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol, TypeVar

from geohazard_cli.errors import InputError


class Named(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...


U = TypeVar("U", bound=Named)


def squash(name: str) -> str:
    """NFKC, casefolded, without spaces: how names are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name).strip().casefold())


def match_street(suffixes: Sequence[str], typed_name: str, streets: Sequence[U], field: str) -> U | None:
    """The street a short form names (七里山 -> 七里山街道办事处), None for a name that is clearly
    not a street's; InputError (one line: the candidates, or the closest street) for an ambiguous
    short form or a near miss of a street name."""
    ends = sorted({squash(x) for x in suffixes}, key=len, reverse=True)

    def core(name: str) -> str:
        n = squash(name)
        for suffix in ends:
            if n.endswith(suffix):
                return n[: -len(suffix)]
        return n

    names: dict[str, tuple[str, U]] = {}  # squashed name or alias -> (as written, unit)
    for u in streets:
        for n in (u.name, *getattr(u, "aliases", ())):
            names.setdefault(squash(n), (n, u))
    typed, wanted = squash(typed_name), core(typed_name)
    hits: dict[str, U] = {}  # a short form: the start of a street's name
    for n, u in names.values():
        if wanted and core(n).startswith(wanted):
            hits.setdefault(u.key, u)
    if len(hits) == 1 and len(wanted) >= 2:  # one character is too little to go on
        return next(iter(hits.values()))
    if hits:
        raise InputError(f'{field}: "{typed_name}" could be {"、".join(u.name for u in hits.values())}; '
                         "give the street's name")
    inside = {u.key: u for n, u in names.values() if wanted and wanted in core(n)}  # 里山: the end of two
    if inside:
        first = next(iter(inside.values())).name
        raise InputError(f'{field}: "{typed_name}" is part of {"、".join(u.name for u in inside.values())}, not a '
                         f'street\'s name; give the street\'s name from its start (e.g. "{core(first)}" for {first})')
    close = difflib.get_close_matches(typed, list(names), n=1, cutoff=0.75)
    if not close and len(wanted) >= 3:  # a one-character slip in a short form (七理山 for 七里山)
        close = [k for k, (n, _) in names.items()
                 if len(core(n)) == len(wanted) and sum(a != b for a, b in zip(core(n), wanted, strict=True)) == 1][:1]
    street_like = any(typed.endswith(suffix) for suffix in ends)
    if not close and not street_like:
        return None
    if close:
        hint = f'did you mean "{names[close[0]][0]}"?'
    else:
        known = "、".join(dict.fromkeys(u.name for _, u in names.values()))
        hint = f"the roster's 街道办事处: {known}" if known else "the roster lists none"
    raise InputError(f'{field}: "{typed_name}" is not a 街道办事处 of the roster ({hint})')
