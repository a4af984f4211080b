"""Data that has already passed a model's validation, made into that model again without validating.

A file's data is validated once, when it changes, and kept as plain data in ``cache.py`` (keyed on
the sources of the modules that validate it). A later run rebuilds the objects with
``construct(Model, data)``: pydantic's ``model_construct`` applied through the fields' annotations
(nested models, lists, tuples, dicts, optional values, enums and ``Decimal`` converted as
validation would), so the model's schema is never built on that path. The models that take this
path declare ``defer_build=True``: their schema is built on the first validation, not at import.

Only for data the same model has validated: nothing here checks anything. ``tests/test_construct.py``
holds every such model to ``construct(M, data) == M.model_validate(data)`` on the shipped files.
"""

from __future__ import annotations

import enum
import types
import typing
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

_M = TypeVar("_M")


def construct(model: type[_M], data: Any) -> _M:
    """``model`` from its validated data (field names or aliases as keys)."""
    return _converter(model)(data)  # type: ignore[no-any-return,arg-type]


@cache
def _converter(annotation: Any) -> Any:
    """A function turning validated data for ``annotation`` into the value validation gives."""
    from pydantic import BaseModel

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_converter(annotation)
    if origin is typing.Annotated:
        return _converter(args[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            inner = _converter(options[0])
            return None if inner is None else (lambda v: None if v is None else inner(v))
        if any(_converter(a) is not None for a in options):
            raise TypeError(f"construct: cannot tell which of {annotation} a value is")
        return None
    if origin in (list, tuple, set, frozenset) or origin is typing.Sequence:
        item = _converter(args[0]) if args else None
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            if any(_converter(a) is not None for a in args):
                raise TypeError(f"construct: fixed-length {annotation} is not supported")
            return tuple
        kind = list if origin is typing.Sequence else origin
        if item is None:
            return None if kind is list else kind
        return lambda v: kind(item(x) for x in v)
    if origin is dict:
        value = _converter(args[1]) if args else None
        return None if value is None else (lambda v: {k: value(x) for k, x in v.items()})
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation
    if annotation is Decimal:
        return lambda v: v if isinstance(v, Decimal) else Decimal(str(v))
    return None  # str, int, bool, Literal[...], Any: the data is the value


def _model_converter(model: Any) -> Any:
    fields: list[tuple[str, str, Any]] = []  # filled on first use: a model may refer to itself

    def build(data: Any) -> Any:
        if isinstance(data, model):
            return data
        if not fields:
            fields.extend((name, info.alias or name, _converter(info.annotation))
                          for name, info in model.model_fields.items())
        values = {}
        for name, alias, convert in fields:
            if alias in data:
                value = data[alias]
            elif name in data:
                value = data[name]
            else:
                continue  # model_construct fills the default
            values[name] = value if convert is None or value is None else convert(value)
        return model.model_construct(**values)

    return build


def plain(value: Any) -> Any:
    """A validated model as the data ``construct`` takes back: its fields (by alias, computed fields
    and private attributes left out), nested models likewise, tuples as lists, ``Decimal`` as text,
    enums as their values. What ``cache.py`` keeps."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return {info.alias or name: plain(getattr(value, name)) for name, info in type(value).model_fields.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


_sections: dict[tuple[int, str], tuple[Any, Any]] = {}


def profile_section(profile: Any, kind: str, model: type[_M], validate: Any, computed_by: str) -> _M:
    """A section of a rules profile (``dispatch``, ``warning``) as ``model``, validated by
    ``validate(profile)`` once per profile in a process. For a profile as ``rules.load_profile``
    read it from its file, the validated section is kept in cache.py beside the profile (``kind``
    names the entry; keyed on the sources of ``computed_by``) and rebuilt without validating:
    ``model`` is either the schema's pydantic model (rebuilt by ``construct``) or its plain twin, a
    nodes.Node class (built from the data ``validate``'s schema model gave)."""
    known = _sections.get((id(profile), kind))
    if known is not None and known[0] is profile:
        return known[1]  # type: ignore[no-any-return]
    from geohazard_cli.rules import loaded

    path = profile.loaded_from
    if path is not None and loaded(path) is profile:
        from pydantic.version import VERSION

        from geohazard_cli.cache import cached_data

        data = cached_data(path, lambda: plain(validate(profile)), computed_by=computed_by,
                           key_extra=(VERSION,), kind=kind)
        section = _rebuilt(model, data)
    else:
        section = validate(profile)
        if _is_node(model):  # the schema validated it; commands read its plain twin
            section = _rebuilt(model, plain(section))
    _sections[(id(profile), kind)] = (profile, section)  # the profile is kept: its id is not reused
    return section


def _is_node(model: Any) -> bool:
    from geohazard_cli.nodes import Node

    return isinstance(model, type) and issubclass(model, Node)


def _rebuilt(model: type[_M], data: Any) -> _M:
    """``model`` from validated plain data: a node class takes it as it is (nodes.py), a pydantic
    model through ``construct``."""
    return model(data) if _is_node(model) else construct(model, data)  # type: ignore[call-arg]
