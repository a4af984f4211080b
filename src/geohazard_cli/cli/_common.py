"""Options and helpers shared by commands: config selection, incident input, output.

Imports here stay light (typer, stdlib and fields.py): this module is on every command's start-up path.
"""

import inspect
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

from geohazard_cli.fields import FLAG_FIELDS, flag

if TYPE_CHECKING:
    from collections.abc import Mapping

    from geohazard_cli.contacts import Roster
    from geohazard_cli.models import Incident
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Site

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
SitesOpt = Annotated[
    Path | None,
    typer.Option("--sites", help="Hazard-site register (sites.yaml, or a .csv of its columns; default: sites.yaml "
                 "in the config dir, when there is one).", show_default=False),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", help="Load this rules file instead of a named profile.", show_default=False),
]


class TextJson(StrEnum):
    text = "text"
    json = "json"


FILE_HELP = "Incident file (YAML or JSON, '-' for stdin) with the same fields in snake_case; flags override it."
_FIGURES = "geohazard.figures"  # where IncidentCommand leaves the incident flags' values (ctx.meta)


class IncidentCommand(TyperCommand):
    """A command that takes an incident: besides its own options it has one flag per field of
    ``fields.FIELDS`` (``--evacuees``, ``--direct-loss``, ...) and ``--file``, and the command reads
    their values with ``figures(ctx)``. Given as ``cls=`` to ``@app.command``.

    Every figure is taken as text and parsed by intake.py, so that "500万", "１４０" and bad input get
    the same treatment and messages everywhere. So the figure flags need nothing of typer at run
    time: ``parse_args`` takes them (``--deaths 3``, ``--deaths=3``; the last one given counts, as
    for any option) out of the arguments before typer parses the rest, and typer builds options
    only for the command's own (it builds a pydantic adapter for each one on every run). ``--help``
    lists them among the options, built by typer from the table (``_incident_flags``) only then.
    """

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=[*(params or []), *_file_flag()], **kwargs)
        self._helping = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[_FIGURES], rest = _take_figures(ctx, args, self._value_options())
        try:
            return super().parse_args(ctx, rest)
        except typer.TyperException as exc:
            if hasattr(exc, "possibilities"):  # "No such option": suggest the figure flags too
                import difflib

                known = [o for p in self.params for o in p.opts if o.startswith("--")] + list(_FLAGS)
                exc.possibilities = difflib.get_close_matches(getattr(exc, "option_name", ""), known)
            raise

    def _value_options(self) -> frozenset[str]:
        """The command's own options that take a value (whose value is never read as a figure flag)."""
        return frozenset(o for p in self.params if p.param_type_name == "option" and not getattr(p, "is_flag", False)
                         and not getattr(p, "count", False) for o in (*p.opts, *p.secondary_opts))

    def get_params(self, ctx: Any) -> list[Any]:
        params = list(super().get_params(ctx))
        if not self._helping:
            return params
        at = next(i for i, p in enumerate(params) if p.name == "file")  # the figures, then --file
        return [*params[:at], *_incident_flags(), *params[at:]]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The plan's definitions of the figures (§10.1, from the default profile's data) close the
        # help: built only when help is asked for, so no command run pays for it.
        epilog = definitions_epilog()
        if epilog:
            self.epilog = f"{self.epilog}\n\n{epilog}" if self.epilog else epilog
        self._helping = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._helping = False

    def invoke(self, ctx: Any) -> Any:
        # The flags are not parameters of the command's function: hand them over through ctx.meta.
        ctx.meta[_FIGURES]["file"] = ctx.params.pop("file")
        return super().invoke(ctx)


_FLAG_NAMES = tuple(f.name for f in FLAG_FIELDS)
_FLAGS = {flag(f.name): f for f in FLAG_FIELDS}  # "--direct-loss" -> its field
_NOT_FLAGS = ("file", "site", "sites", "config_dir")  # in figures(ctx), besides the incident flags


class SiteIncidentCommand(IncidentCommand):
    """An ``IncidentCommand`` that also takes ``--site ID`` (and ``--sites FILE``, the register): the
    site fills location, street, hazard type and the 险情 figures (威胁人数 as evacuees, potential
    loss); ``--file`` and the flags override it. ``figures(ctx)`` carries them to ``incident_values``."""

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=[*(params or []), *_site_flags()], **kwargs)

    def invoke(self, ctx: Any) -> Any:
        site = {"site": ctx.params.pop("site"), "sites": ctx.params.pop("sites"),
                "config_dir": ctx.params.get("config_dir")}
        ctx.meta[_SITE] = site
        return super().invoke(ctx)


_SITE = "geohazard.site"


def _site_flags() -> list[Any]:
    def site_flags(
        site: Annotated[str | None, typer.Option("--site", help="A hazard site's id in the register: fills "
                        "location, street, hazard type, evacuees (威胁人数) and potential loss; flags override.",
                        show_default=False)] = None,
        sites: SitesOpt = None,
    ) -> None:
        """The site flags."""

    return _typer_options(site_flags)


def definitions_epilog() -> str:
    """The figures' definitions in the default profile (§10.1 直接经济损失, ...), one paragraph each;
    "" when the profile cannot be loaded (help must still show)."""
    from geohazard_cli.clauses import definitions
    from geohazard_cli.errors import GeohazardError

    try:
        _, profile = load_config(None, None, None)
    except GeohazardError:
        return ""
    return "\n\n".join(f"{d['term']}({profile.short_title}{d['source']}):{d['text']}。"
                        for d in definitions(profile))


def figures(ctx: typer.Context) -> dict[str, Any]:
    """The incident flags of an ``IncidentCommand`` as given (None when not), and ``file`` (with a
    ``SiteIncidentCommand``: ``site``, ``sites`` and the ``config_dir`` to find the register in)."""
    return {**ctx.meta[_FIGURES], **ctx.meta.get(_SITE, {})}


def _take_figures(ctx: Any, args: list[str], value_options: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """The figure flags' values in ``args`` (None when not given), and the other arguments, in order.
    A value is the next argument whatever it looks like (``--deaths -1``), as typer takes an option's
    value; an own option's value (``--plan X``) is passed over; nothing after ``--`` is a flag."""
    values: dict[str, Any] = dict.fromkeys(_FLAG_NAMES)
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name, eq, value = arg.partition("=")
        if name in _FLAGS:
            if not eq:
                if i + 1 == len(args):
                    raise typer.BadParameter(f"none given ({_FLAGS[name].help})", ctx=ctx, param_hint=f"'{name}'")
                i += 1
                value = args[i]
            values[_FLAGS[name].name] = value
        elif arg in value_options:
            rest.extend(args[i:i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return values, rest


def _typer_options(declare: Any) -> list[Any]:
    """The options typer makes of a function's parameters (``typer.main.get_command`` is its public
    way to the command they make)."""
    template = typer.Typer(add_completion=False)
    template.command()(declare)
    return list(typer.main.get_command(template).params)


def _file_flag() -> list[Any]:
    def file_flag(
        file: Annotated[str | None, typer.Option("--file", help=FILE_HELP, show_default=False)] = None,
    ) -> None:
        """The incident file."""

    return _typer_options(file_flag)


def _incident_flags() -> list[Any]:
    """The incident flags as typer would show them, for --help: from a function made only to
    declare them, one keyword parameter per field of the table."""
    def opt(flag_: str, help_: str) -> Any:
        return Annotated[str | None, typer.Option(flag_, help=help_, show_default=False)]

    def incident_flags(**values: str | None) -> None:
        """The incident flags."""

    incident_flags.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=opt(flag(f.name), f.help))
        for f in FLAG_FIELDS
    ])
    return _typer_options(incident_flags)


class HelpfulGroup(TyperGroup):
    """A group that, given no command, prints its help and exits 0 (click 8.2+ made that an error)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            typer.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)


class LazyGroup(HelpfulGroup):
    """A group whose commands come from a table ``{name: "module:attribute"}`` of typer apps in
    ``geohazard_cli.cli``, each module imported only when its command is wanted (hatch's
    ``cli/lazy.py`` does the same for click): a run converts and imports only the invoked command.
    An app of several sibling commands (no group name of its own) gives the one of that name."""

    table: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.table)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        import importlib

        spec = self.table.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = spec.partition(":")
        command = typer.main.get_command(getattr(importlib.import_module(f"geohazard_cli.cli.{module}"), attr))
        if isinstance(command, TyperGroup) and command.name != cmd_name:  # a module of sibling commands
            return command.get_command(ctx, cmd_name)
        return command


def command_app(**settings: Any) -> typer.Typer:
    """The typer app of one command (or group) module: plain help and no completion flags, as the root."""
    return typer.Typer(add_completion=False, rich_markup_mode=None, **settings)


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
    from geohazard_cli.loader import load_json, load_yaml, read_bounded, read_text

    if spec == "-":
        name = "<stdin>"
        data = read_bounded(sys.stdin.buffer, name)
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
    figures: dict[str, Any], profile: "Profile", base: "Mapping[str, Any] | Incident | None" = None,
    from_site: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The incident from ``--file`` (if any) overlaid by the flags, as its fields (intake.parse_values;
    ``models.Incident(**...)`` makes the model). ``base`` supplies the figures not given. With
    ``--site``, ``from_site`` (when given) gains what the register filled that neither the file nor
    a flag gave (``site_sourced``: a sheet says so)."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.intake import flag_name, parse_values

    flags = {k: v for k, v in figures.items() if k not in _NOT_FLAGS and v is not None}
    spec = figures.get("file")
    site: dict[str, Any] = {}
    if figures.get("site") is not None:  # the site is the first layer; the file and the flags override it
        site = site_values(figures, profile)
        base = parse_values(site, profile, where="--site", base=base, require_figure=False)
    raw: dict[str, Any] = {}
    if spec is not None:
        raw, name = read_incident_file(spec)
        raw = _field_keys(raw, name)
        from_file = parse_values(raw, profile, where=name, base=base, require_figure=not flags)
        values = _warn_implausible(parse_values(flags, profile, name=flag_name, base=from_file), profile, flags,
                                   {k: f"{name}: {k}" for k in raw})
    elif not flags and base is None:
        raise InputError("no incident given: pass figures such as --evacuees 140 --deaths 1, or --file PATH")
    else:
        values = _warn_implausible(parse_values(flags, profile, name=flag_name, base=base), profile, flags, {})
    if site and from_site is not None:
        from_site.update(site_sourced(figures, profile, set(flags) | set(raw)) or {})
    if "evacuees" in site and "evacuees" not in flags and "evacuees" not in raw:
        # the register counts everyone a site threatens; how many actually move is the officer's to give
        print(f"note: --site {figures['site']}: 需搬迁转移人数 {site['evacuees']}人 is the site's 威胁人数 "
              "(everyone it threatens); give --evacuees for the number actually moving", file=sys.stderr)
    return values


def sheet_values(figures: dict[str, Any], profile: "Profile", cfg: Path, from_site: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """``incident_values`` for the sheets (classify, callsheet, report-form): a 报告时间 or 发生时间 in
    the future is refused as ``incident open`` refuses it (a 速报单 dated tomorrow)."""
    values = incident_values(figures, profile, from_site=from_site)
    if values.get("reported_at") is not None or values.get("occurred_at") is not None:
        from geohazard_cli.cli.clock import refuse_future, skew_of  # only when a time was given

        refuse_future(values, profile.timezone, figures, skew_of(cfg))
    return values


def _field_keys(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """A --file's keys as CSV headers read them: the field's name or the plan's term (死亡人数 for
    deaths), in any mix; two keys naming one field are refused."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.fields import HEADERS

    out: dict[str, Any] = {}
    for key, value in raw.items():
        field = HEADERS.get(key, key) if isinstance(key, str) else key
        if field in out:
            raise InputError(f"{name}: {key}: names the same field as another key ({field}); give it once")
        out[field] = value
    return out


def _warn_implausible(values: dict[str, Any], profile: "Profile", flags: "Mapping[str, Any]",
                      from_file: dict[str, str]) -> dict[str, Any]:
    """A line on stderr for each figure typed here past the jurisdiction's scale (intake.implausible):
    graded as given, shown for the officer to check."""
    from geohazard_cli.intake import flag_name, implausible

    shown = {**from_file, **{k: flag_name(k) for k in flags}}
    for line in implausible(values, shown, profile, shown.__getitem__):
        print(f"warning: {line}", file=sys.stderr)
    return values


def site_values(figures: "Mapping[str, Any]", profile: "Profile") -> dict[str, Any]:
    """What ``--site ID`` fills in, from the register (``--sites``, else the config dir's sites.yaml)."""
    return site_of(figures, profile)[0].incident_values()


def site_sourced(figures: "Mapping[str, Any]", profile: "Profile", given: set[str]) -> dict[str, Any] | None:
    """The fields ``--site`` filled that are not in ``given`` (the keys ``--file`` and the flags
    gave): a sheet says they are the register's, not reported; None when there are none."""
    from geohazard_cli.fields import FIELD_LABELS

    site, path = site_of(figures, profile)
    keys = [k for k in site.incident_values() if k not in given]
    return {"site": site.id, "register": str(path), "keys": keys,
            "fields": [FIELD_LABELS[k] for k in keys]} if keys else None


_SITE_MEMO: dict[tuple[str, int, int, str, str], "tuple[Site, Path]"] = {}  # (one register read per process and site)


def site_of(figures: "Mapping[str, Any]", profile: "Profile") -> "tuple[Site, Path]":
    """The site ``--site ID`` names, and the register it is in (``--sites``, else the config dir's
    sites.yaml)."""
    from geohazard_cli.config import config_dir
    from geohazard_cli.errors import InputError, NotFoundError
    from geohazard_cli.sites import SITES_FILE, sites_path

    cfg = config_dir(figures.get("config_dir"))
    path = sites_path(cfg, figures.get("sites"))
    if path is None:
        raise InputError(f"--site: no hazard-site register ({cfg / SITES_FILE} does not exist); give --sites FILE")
    try:
        stamp = path.stat()
        key = (str(path), stamp.st_mtime_ns, stamp.st_size, str(figures["site"]), profile.id)
    except OSError:  # (load_sites words it)
        key = (str(path), 0, 0, str(figures["site"]), profile.id)
    if key in _SITE_MEMO:
        return _SITE_MEMO[key]
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.sites import load_bounds
    from geohazard_cli.sites_load import load_sites

    register = load_sites(path, profile, load_roster(cfg), load_bounds(cfg))
    site = register.by_id().get(str(figures["site"]))
    if site is None:
        import difflib

        close = difflib.get_close_matches(str(figures["site"]), [s.id for s in register.sites], n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise NotFoundError(f'--site: "{figures["site"]}" is not a site of {path}{hint}')
    _SITE_MEMO[key] = (site, path)
    return site, path


def say_unmatched_location(location: str | None, roster: "Roster", said: set[str] | None = None) -> None:
    """On stderr: a location that names no street office (its call list calls 各街道办事处 instead,
    asking to confirm the street), with the one it probably means; once per location in ``said``."""
    from geohazard_cli.dispatch import collective_streets, local_streets, street_hint

    collective = collective_streets(roster)
    if not location or (said is not None and location in said) or collective is None or local_streets(location,
                                                                                                       roster):
        return
    if said is not None:
        said.add(location)
    hint = street_hint(location, roster)
    mean = f" (did you mean {hint.name.removesuffix('办事处')}?)" if hint is not None else ""
    print(f'warning: location "{location}" names no street office of contacts.yaml{mean}; the call list '
          f"calls {collective.name} instead and asks to confirm the street", file=sys.stderr)


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
