"""Options and helpers shared by commands: config selection, incident input, output.

Imports here stay light (typer and stdlib): this module is on every command's start-up path.
"""

import functools
import inspect
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from geohazard_cli.models import Incident
    from geohazard_cli.rules import Profile

ConfigDirOpt = Annotated[
    Path | None,
    typer.Option("--config-dir", help="Directory holding rules/, contacts.yaml, templates/ "
                 "(default: $GEOHAZARD_CONFIG_DIR, else the copy shipped with the tool).",
                 show_default=False),
]
PlanOpt = Annotated[
    str | None,
    typer.Option("--plan", help="Plan profile in rules/ (shizhong-2023, national-2006; default: rules/profiles.yaml).",
                 show_default=False),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", help="Load this rules file instead of a named profile.", show_default=False),
]


class TextJson(StrEnum):
    text = "text"
    json = "json"


# Incident input: (parameter name, help). Every figure is taken as text and parsed by intake.py so
# that "500万", "１４０" and bad input get the same treatment and messages everywhere.
INCIDENT_PARAMS: list[tuple[str, str]] = [
    ("evacuees", "需搬迁转移人数: people to evacuate (险情)."),
    ("potential_loss", "潜在经济损失: potential loss (险情); yuan, or 500万 / 1.2亿."),
    ("deaths", "死亡人数: deaths (灾情)."),
    ("direct_loss", "直接经济损失: direct loss (灾情); yuan, or 500万 / 1.2亿."),
    ("missing", "失踪人数: missing (not graded; an advisory says if it would raise the grade)."),
    ("injured", "受伤人数: injured."),
    ("households", "受威胁户数: households threatened."),
    ("threatened", "受威胁人数: people threatened."),
    ("hazard_type", "灾害类型: as the profile's hazard_types name it (district plan §1.3: 崩塌 滑坡 泥石流 "
                    "地面塌陷 地裂缝, or collapse, landslide, ...)."),
    ("location", "地点: where."),
    ("reported_at", "报告时间: ISO 8601 or '2026-07-21 09:40' (no offset = +08:00)."),
    ("occurred_at", "发生时间: when it happened."),
    ("scale", "规模: scale of the hazard body, as text."),
    ("cause", "引发原因: cause."),
    ("trend", "发展趋势: trend."),
    ("measures_taken", "已采取措施: measures taken."),
    ("suggestions", "意见建议: suggestions."),
    ("reporter", "报告人: who reported it."),
    ("notes", "备注: notes."),
    ("id", "An identifier echoed in the output."),
]
FILE_HELP = "Incident file (YAML or JSON, '-' for stdin) with the same fields in snake_case; flags override it."

F = TypeVar("F", bound=Callable[..., Any])


def incident_options(func: F) -> F:
    """Add the incident input flags (and --file) to a command; it receives them as ``figures``."""
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.name != "figures"]
    extra = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[str | None, typer.Option("--" + name.replace("_", "-"), help=help_,
                                                          show_default=False, rich_help_panel="Incident")],
        )
        for name, help_ in INCIDENT_PARAMS
    ]
    extra.append(inspect.Parameter(
        "file", inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[str | None, typer.Option("--file", help=FILE_HELP, show_default=False,
                                                      rich_help_panel="Incident")],
    ))

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        figures = {name: kwargs.pop(name) for name, _ in INCIDENT_PARAMS}
        figures["file"] = kwargs.pop("file")
        return func(figures=figures, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=params + extra)  # type: ignore[attr-defined]
    del wrapper.__wrapped__  # typer must see the new signature, not the original
    return wrapper  # type: ignore[return-value]


def load_config(config_dir: Path | None, plan: str | None, rules: Path | None) -> "tuple[Path, Profile]":
    """The config dir in force and the profile chosen from it (rules.load_profile: from the cache
    when it can, with neither YAML nor a pydantic model loaded)."""
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.config import rules_path
    from geohazard_cli.errors import InputError
    from geohazard_cli.rules import load_profile

    if plan is not None and rules is not None:
        raise InputError("--plan and --rules: give one of them (a profile name, or a rules file)")
    cfg = resolve_dir(config_dir)
    return cfg, load_profile(rules_path(plan, rules, cfg))


def read_incident_file(spec: str, error_name: str = "--file") -> tuple[dict[str, Any], str]:
    """Read ``--file`` (path or '-'); returns the raw mapping and a display name."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.loader import load_json, load_yaml, read_text

    if spec == "-":
        data = sys.stdin.buffer.read()
        name = "<stdin>"
        text = read_text(Path(name), InputError, data=data)
        is_json = text.lstrip().startswith("{")
    else:
        path = Path(spec)
        name = spec
        text = read_text(path, InputError)
        is_json = path.suffix.lower() == ".json"
    if is_json:
        raw = load_json(text, name, InputError)
        if not isinstance(raw, dict):
            raise InputError(f"{name}: the top level is a {type(raw).__name__}; expected an object of fields")
    else:
        raw = load_yaml(text, name, InputError)
    return raw, name


def incident_values(
    figures: dict[str, Any], profile: "Profile", base: "Mapping[str, Any] | Incident | None" = None
) -> dict[str, Any]:
    """The incident from ``--file`` (if any) overlaid by the flags, as its fields (intake.parse_values;
    ``models.Incident(**...)`` makes the model). ``base`` supplies the figures not given."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import flag_name, parse_values

    flags = {k: v for k, v in figures.items() if k != "file" and v is not None}
    spec = figures.get("file")
    if spec is not None:
        raw, name = read_incident_file(spec)
        from_file = parse_values(raw, profile, where=name, base=base, require_figure=not flags)
        return parse_values(flags, profile, name=flag_name, base=from_file)
    if not flags and base is None:
        raise InputError("no incident given: pass figures such as --evacuees 140 --deaths 1, or --file PATH")
    return parse_values(flags, profile, name=flag_name, base=base)


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (UTF-8, no ASCII escaping)."""
    from geohazard_cli.fastjson import orjson

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    sys.stdout.flush()


def emit_model_json(data: Any) -> None:
    """``emit_json`` for data holding Decimal and datetime values (grading.assess's dict): written as
    ``Model.model_dump(mode="json")`` through ``emit_json`` would write it (Decimal as text, times in
    ISO 8601 with ``Z`` for UTC), byte for byte. pydantic-core does it: typer has loaded it already,
    so neither orjson nor the json module is imported."""
    from pydantic_core import to_json

    sys.stdout.buffer.write(to_json(data, indent=2) + b"\n")
    sys.stdout.flush()


def console() -> Any:
    """A rich console for stdout; plain text when NO_COLOR is set or stdout is not a terminal."""
    from rich.console import Console

    # Text people typed or files hold is shown as text: markup is off everywhere ("[/x]" is a name).
    return Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False, markup=False)


def write_output(text: str, output: Path | None) -> None:
    """Write rendered text to ``--output`` atomically (nothing half-written), or to stdout."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    import tempfile

    from geohazard_cli.errors import InputError

    target = output.resolve()
    if target.is_dir():
        raise InputError(f"--output: {output} is a directory; give a file name (e.g. {output}/sheet.html)")
    if not target.parent.is_dir():
        raise InputError(f"--output: {target.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"--output: {output}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
