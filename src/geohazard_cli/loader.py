"""Safe reading of YAML/JSON data files, with errors that name the file and line.

Decided on purpose:
- only the safe loader (C-accelerated when present): ``!!python/...`` tags are an error, never run;
- a file with a NUL byte, or not UTF-8, is "binary" and refused before parsing;
- aliases are allowed (profiles use them to share measures) but the expanded size of the document
  is bounded, so an alias bomb ("billion laughs") is refused in linear time;
- the top level must be a mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from geohazard_cli.errors import ConfigError, GeohazardError, InputError

MAX_NODES = 200_000  # expanded nodes: far above any real plan or incident file
MAX_BYTES = 16 * 1024 * 1024


def read_text(path: Path, error: type[GeohazardError] = ConfigError, data: bytes | None = None) -> str:
    """Read a data file as UTF-8 text (BOM allowed); refuse binary files."""
    if data is None:
        try:
            if path.stat().st_size > MAX_BYTES:
                raise error(f"{path}: larger than {MAX_BYTES // 1024 // 1024} MiB; not a data file")
            data = path.read_bytes()
        except FileNotFoundError:
            raise error(f"{path}: no such file") from None
        except IsADirectoryError:
            raise error(f"{path}: is a directory, expected a YAML or JSON file") from None
        except OSError as exc:
            raise error(f"{path}: cannot be read ({exc.strerror})") from None
    if b"\x00" in data:
        raise error(f"{path}: is a binary file, expected UTF-8 YAML or JSON text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(
    text: str, name: str, error: type[GeohazardError] = ConfigError, require_mapping: bool = True
) -> Any:
    """Parse YAML text safely; ``name`` is the file name used in messages."""
    import yaml

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
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(problem):
            tag = str(problem).split("tag", 1)[-1].strip(" '")
            problem = f"tag {tag} is not allowed (plain YAML only)"
        raise error(f"{where}: {problem}") from None
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


def load_json(text: str, name: str, error: type[GeohazardError] = InputError) -> Any:
    """Parse JSON with exact decimals; NaN/Infinity are refused."""
    import json  # here, not at the top: most commands never read JSON (start-up cost)

    def _const(token: str) -> Any:
        raise ValueError(f"{token} is not a number")

    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_const)
    except json.JSONDecodeError as exc:
        raise error(f"{name}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise error(f"{name}: invalid JSON ({exc})") from None
    except RecursionError:
        raise error(f"{name}: nested too deeply") from None


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


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """1-based line of the key path ``loc`` in YAML ``text`` (for error messages), if found."""
    import yaml

    try:
        node = yaml.compose(text, Loader=_yaml_loader())
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if str(k.value) == str(part):
                    found = (k, v)
                    break
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


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
