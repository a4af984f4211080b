"""Safe reading of YAML/JSON data files, with errors that name the file and line.

Decided on purpose:
- only the safe loader (C-accelerated when present): ``!!python/...`` tags are an error, never run;
- a file with a NUL byte, or not UTF-8, is "binary" and refused before parsing;
- aliases are allowed (profiles use them to share measures) but the expanded size of the document
  is bounded, so an alias bomb ("billion laughs") is refused in linear time;
- the top level must be a mapping;
- what is read is bounded (``MAX_BYTES`` read, not what ``stat`` says: /proc files say 0, and
  /dev/zero never ends); only a regular file is opened as a path (a FIFO nobody writes to would
  block forever, a device never ends), and stdin is read with the same bound;
- text in a file holds no control characters (ESC, C1, bidirectional overrides), written raw or
  as an escape (``"\\e"``, ``"\\u001b"``): text from files is shown to people as it is;
- a YAML integer is at most ``MAX_INT_DIGITS`` digits (``int()`` refuses more with a bare error).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from geohazard_cli.errors import ConfigError, GeohazardError, InputError

MAX_NODES = 200_000  # expanded nodes: far above any real plan or incident file
MAX_BYTES = 16 * 1024 * 1024
MAX_INT_DIGITS = 1000  # far past any figure, well under int()'s 4,300-digit limit
# As intake.CONTROL (kept here so loading a file needs no intake): C0 but tab, newline; C1; bidi.
CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_RAW_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"  # a raw CR ends a line


def read_bounded(stream: IO[bytes], name: object, error: type[GeohazardError] = InputError) -> bytes:
    """Read a stream (stdin) to its end, but never more than ``MAX_BYTES``."""
    try:
        data = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise error(f"{name}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_BYTES:
        raise error(f"{name}: larger than {MAX_BYTES // 1024 // 1024} MiB; not a data file")
    return data


def _read_file(path: Path, error: type[GeohazardError]) -> bytes:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, maybe for ever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a YAML or JSON file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{path}: is a directory, expected a YAML or JSON file")
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise error(f"{path}: is {kind}, not a regular file; expected a YAML or JSON file")
        return read_bounded(fh, path, error)


def read_text(path: Path, error: type[GeohazardError] = ConfigError, data: bytes | None = None) -> str:
    """Read a data file as UTF-8 text (BOM allowed); refuse binary files and what is no regular file."""
    if data is None:
        data = _read_file(path, error)
    if b"\x00" in data:
        raise error(f"{path}: is a binary file, expected UTF-8 YAML or JSON text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


_LOADER: Any = None


def _yaml_loader() -> Any:
    """The safe loader (C-accelerated when present), with YAML floats read as exact Decimals:
    ``direct_loss: 4999999.999999999999`` must reach the fen check with every digit, not as the
    float 5000000.0 that would cross a bound."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class ExactLoader(base):  # type: ignore[misc, valid-type]
            pass

        def exact_float(loader: Any, node: Any) -> Any:
            text = str(loader.construct_scalar(node)).replace("_", "")
            try:
                value = Decimal(text)
            except ArithmeticError:
                return yaml.SafeLoader.construct_yaml_float(loader, node)  # .inf, .nan, 1:30.5
            return value if value.is_finite() else yaml.SafeLoader.construct_yaml_float(loader, node)

        def decimal_int(loader: Any, node: Any) -> Any:
            # YAML 1.1 reads 010 as 8 (octal), 1:30 as 90, 0x1F, 0b11, 1_000: an officer typing
            # `deaths: 010` means ten. Plain digits are decimal; the other forms stay text, which
            # the figure checks then refuse in the officer's own words.
            text = str(loader.construct_scalar(node))
            digits = text[1:] if text[:1] in "+-" else text
            if not (digits.isascii() and digits.isdigit()):
                return text
            if len(digits) > MAX_INT_DIGITS:
                raise yaml.constructor.ConstructorError(
                    None, None, f"an integer of {len(digits):,} digits; at most {MAX_INT_DIGITS:,}", node.start_mark)
            return int(text, 10)

        ExactLoader.add_constructor("tag:yaml.org,2002:float", exact_float)
        ExactLoader.add_constructor("tag:yaml.org,2002:int", decimal_int)
        _LOADER = ExactLoader
    return _LOADER


def load_yaml(
    text: str, name: str, error: type[GeohazardError] = ConfigError, require_mapping: bool = True
) -> Any:
    """Parse YAML text safely; ``name`` is the file name used in messages."""
    import yaml

    _refuse_control(text, name, error)
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            if require_mapping:
                raise error(f"{name}: is empty, expected a mapping of fields")
            return None
        size = _expanded_size(node, {})
        if size > MAX_NODES:
            raise error(f"{name}: expands to more than {MAX_NODES:,} values (an alias bomb?); refused")
        duplicate = _duplicate_key(node, set())
        if duplicate is not None:
            key, line = duplicate
            raise error(f"{name}:{line}: key {key!r} appears twice in one mapping; keep one")
        escaped = _control_scalar(node, set())
        if escaped is not None:
            char, line = escaped
            raise error(f"{name}:{line}: {_control_message(char)}")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(problem):
            tag = str(problem).split("tag", 1)[-1].strip(" '")
            problem = f"tag {tag} is not allowed (plain YAML only)"
        raise error(f"{where}: {problem}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (U+FFFE...), one line
        line = text.count("\n", 0, exc.position) + 1
        raise error(f"{name}:{line}: character U+{exc.character:04X} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise error(f"{name}: invalid YAML ({exc})") from None
    except RecursionError:
        raise error(f"{name}: nested too deeply") from None
    finally:
        loader.dispose()
    if require_mapping and not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise error(f"{name}: the top level is {kind}; expected a mapping of fields")
    return data


def _expanded_size(node: Any, seen: dict[int, int]) -> int:
    key = id(node)
    if key in seen:
        return seen[key]
    seen[key] = 1  # guards against recursive aliases while we count
    value = node.value
    total = 1
    if isinstance(value, list):
        for item in value:
            if isinstance(item, tuple):
                total += _expanded_size(item[0], seen) + _expanded_size(item[1], seen)
            else:
                total += _expanded_size(item, seen)
            if total > MAX_NODES:
                break
    seen[key] = total
    return total


def _duplicate_key(node: Any, seen: set[int]) -> tuple[str, int] | None:
    """The first key repeated within one mapping (YAML keeps the last silently), with its line."""
    import yaml

    if id(node) in seen:
        return None
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                if k.value in keys:
                    return str(k.value), k.start_mark.line + 1
                keys.add(k.value)
            found = _duplicate_key(v, seen)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _duplicate_key(item, seen)
            if found is not None:
                return found
    return None


def _control_message(char: str) -> str:
    return f"contains control character U+{ord(char):04X}; expected plain text"


def _refuse_control(text: str, name: str, error: type[GeohazardError]) -> None:
    """Refuse control characters written raw in a file, naming the line (a CR is a line end here)."""
    found = re.search(_RAW_CONTROL, text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise error(f"{name}:{line}: {_control_message(found[0])}")


def _control_scalar(node: Any, seen: set[int]) -> tuple[str, int] | None:
    """The first control character a YAML escape put in a key or value ("\\e", "\\x1b"), with its line."""
    if id(node) in seen:
        return None
    seen.add(id(node))
    if isinstance(node.value, str):
        found = re.search(CONTROL, node.value)
        return (found[0], node.start_mark.line + 1) if found else None
    for item in node.value:
        for child in item if isinstance(item, tuple) else (item,):
            hit = _control_scalar(child, seen)
            if hit is not None:
                return hit
    return None


def _control_value(data: Any, path: str) -> tuple[str, str] | None:
    """The first control character in a JSON key or string (written as an escape, "\\u001b"), with its path."""
    if isinstance(data, str):
        found = re.search(CONTROL, data)
        return (found[0], path) if found else None
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        where = f"{path}.{key}" if path else str(key)
        hit = _control_value(key, where) or _control_value(value, where)
        if hit is not None:
            return hit
    return None


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice in one object; keep one")
        out[key] = value
    return out


def load_json(text: str, name: str, error: type[GeohazardError] = InputError) -> Any:
    """Parse JSON with exact decimals; NaN/Infinity are refused."""
    import json  # here, not at the top: most commands never read JSON (start-up cost)

    def _const(token: str) -> Any:
        raise ValueError(f"{token} is not a number")

    def _int(token: str) -> int:
        digits = token.lstrip("-")
        if len(digits) > MAX_INT_DIGITS:
            raise ValueError(f"an integer of {len(digits):,} digits; at most {MAX_INT_DIGITS:,}")
        return int(token)

    _refuse_control(text, name, error)
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=_int, parse_constant=_const,
                          object_pairs_hook=_unique_object)
    except json.JSONDecodeError as exc:
        raise error(f"{name}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise error(f"{name}: invalid JSON ({exc})") from None
    except RecursionError:
        raise error(f"{name}: nested too deeply") from None
    escaped = _control_value(data, "")
    if escaped is not None:
        char, path = escaped
        raise error(f"{name}: {path or '(top level)'}: {_control_message(char)}")
    return data


def load_data_file(path: Path, error: type[GeohazardError] = ConfigError) -> dict[str, Any]:
    """Load a YAML or JSON mapping from a file (JSON by suffix)."""
    text = read_text(path, error)
    if path.suffix.lower() == ".json":
        data = load_json(text, str(path), error)
        if not isinstance(data, dict):
            raise error(f"{path}: the top level is a {type(data).__name__}; expected an object of fields")
        return data
    result: dict[str, Any] = load_yaml(text, str(path), error)
    return result


def line_finder(text: str | None) -> Callable[[Sequence[str | int]], int | None]:
    """``loc -> 1-based line`` of a key path in one YAML text, composing the text once."""
    if not text:
        return lambda loc: None
    import yaml

    try:
        root = yaml.compose(text, Loader=_yaml_loader())
    except yaml.YAMLError:
        return lambda loc: None

    def find(loc: Sequence[str | int]) -> int | None:
        node, line = root, None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                hit = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
                if hit is None:
                    break
                line, node = hit[0].start_mark.line + 1, hit[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return find


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """1-based line of the key path ``loc`` in YAML ``text`` (for error messages), if found."""
    return line_finder(text)(loc)


def describe_validation_error(exc: Any, name: str, text: str | None = None) -> str:
    """One line from a pydantic ValidationError: ``file:line: key.path: message``."""
    err = exc.errors()[0]
    loc = [p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
    path = ".".join(str(p) for p in loc) or "(top level)"
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif err.get("type") == "missing":
        msg = "required key is missing"
    msg = msg.removeprefix("Value error, ")
    line = line_of(text, loc) if text else None
    where = f"{name}:{line}" if line else name
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    return f"{where}: {path}: {msg}{tail}"


if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")


def parse_model(model: type[M], text: str, name: str, path: Path | None = None) -> M:
    """A YAML config text validated against a pydantic model: ConfigError ``file:line: key: message``.
    With the ``path`` the text was read from, the parsed YAML is kept as plain data (cache.py, as
    ``profiles.yaml`` is), so a run with the file unchanged neither imports nor runs the YAML parser."""
    from pydantic import ValidationError

    if path is None:
        data = load_yaml(text, name, ConfigError)
    else:
        from geohazard_cli.cache import cached_data

        data = cached_data(path, lambda: load_yaml(text, name, ConfigError))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, name, text)) from None
