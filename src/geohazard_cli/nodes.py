"""Read-only plain objects built from data already validated or computed by our own code: the
runtime plan profile (rules.py, from the schema's validated data) and an assessment (models.py,
from grading.assess). Cheap to define and to build (a class of ``__slots__``, no schema), with the
few methods of a pydantic model the commands use: ``model_dump`` (``mode="json"``: decimals as
text, times as ISO 8601, as pydantic writes them) and ``model_copy(update=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

Convert = dict[str, Callable[[Any], Any]]
_N = TypeVar("_N", bound="Node")


def decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def list_of(cls: type[Node]) -> Callable[[Any], Any]:
    return lambda items: [item if isinstance(item, cls) else cls(item) for item in items]


def dict_of(cls: type[Node]) -> Callable[[Any], Any]:
    return lambda items: {key: item if isinstance(item, cls) else cls(item) for key, item in items.items()}


def node(cls: type[Node]) -> Callable[[Any], Any]:
    return lambda item: item if isinstance(item, cls) else cls(item)


def _dump(value: Any, mode: str) -> Any:
    if isinstance(value, Node):
        return value.model_dump(mode=mode)
    if isinstance(value, list):
        return [_dump(v, mode) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, mode) for k, v in value.items()}
    if mode == "json" and isinstance(value, Decimal):
        return str(value)
    dump = getattr(value, "model_dump", None)  # a pydantic model held in a node (an Incident)
    if dump is not None:
        return dump(mode=mode, by_alias=True)  # as the file names it (a warning's activation "from")
    return value


class Node:
    """Fields named by ``_fields``, read-only, built from a mapping without validating it: each
    value as given, or through ``_convert`` (nested nodes, decimals); ``_defaults`` for the fields
    the data may leave out."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _convert: ClassVar[Convert] = {}  # field -> from its plain data to its value
    _defaults: ClassVar[dict[str, Any]] = {}
    _aliases: ClassVar[dict[str, str]] = {}  # field -> its key in the data and the dump ("from" for from_)

    def __init__(self, data: Mapping[str, Any]) -> None:
        convert = self._convert
        defaults = self._defaults
        aliases = self._aliases
        for name in self._fields:
            key = aliases.get(name, name)
            if key not in data and name in data:
                key = name
            value = data[key] if key in data or name not in defaults else defaults[name]
            f = convert.get(name)
            object.__setattr__(self, name, value if f is None or value is None else f(value))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self._fields)})"

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        """The fields as a dict, as the schema model dumps them (``mode="json"``: decimals as text)."""
        aliases = self._aliases
        return {aliases.get(f, f): _dump(getattr(self, f), mode) for f in self._fields}

    def model_copy(self: _N, update: Mapping[str, Any]) -> _N:
        """A copy with some fields replaced (values as they are: nothing converted or checked)."""
        copy = object.__new__(type(self))
        for f in self._fields:
            object.__setattr__(copy, f, update[f] if f in update else getattr(self, f))
        return copy
