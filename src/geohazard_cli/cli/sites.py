"""`geohazard sites`: the hazard-site register (隐患点): import it, grade it, map it."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, HelpfulGroup, PlanOpt, RulesOpt, SitesOpt, command_app

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Graded, Register

app = command_app(
    name="sites",
    cls=HelpfulGroup,
    help="The hazard-site register (sites.yaml in the config dir, or --sites FILE): import, grade, map.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class GradeFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


class MapFormat(StrEnum):
    geojson = "geojson"
    svg = "svg"
    html = "html"


OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) "
                                                "instead of stdout.", show_default=False)]


def load(config_dir: Path | None, plan: str | None, rules: Path | None, sites: Path | None
         ) -> "tuple[Path, Profile, Register]":
    """The config dir, profile and register a command uses (``--sites``, else the config dir's)."""
    from geohazard_cli.cli._common import load_config
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.sites import SITES_FILE, load_bounds, sites_path
    from geohazard_cli.sites_load import load_sites

    cfg, profile = load_config(config_dir, plan, rules)
    path = sites_path(cfg, sites)
    if path is None:
        raise NotFoundError(f"no hazard-site register: {cfg / SITES_FILE} does not exist; give --sites FILE, or "
                            "write one with 'geohazard sites import FILE.csv' (see examples/sites.yaml)")
    return cfg, profile, load_sites(path, profile, load_roster(cfg), load_bounds(cfg))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A spreadsheet export (.csv, headers id,name,... or 编号,名称,...) "
                                         "or a GIS layer (.geojson, Point features).", show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="The register to write (default: sites.yaml in the config dir).",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing register.")] = False,
    title: Annotated[str, typer.Option("--title", help="The register's title.")] = "地质灾害隐患点",
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Write the register (sites.yaml) from a CSV or GeoJSON file, validated first: nothing is
    written when any row is wrong (each problem names the file, line and column).

    Example: geohazard sites import 隐患点.csv --config-dir ./my-config
    """
    from geohazard_cli.cli._common import load_config, write_output
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.errors import InputError
    from geohazard_cli.sites import SITES_FILE, dump_yaml, load_bounds
    from geohazard_cli.sites_load import read_register

    cfg, profile = load_config(config_dir, plan, rules)
    if file.suffix.lower() not in (".csv", ".geojson", ".json"):
        raise InputError(f"{file}: expected a .csv or .geojson file")
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    target = output if output is not None else cfg / SITES_FILE
    if target.exists() and not force:
        raise InputError(f"{target}: exists; pass --force to replace it")
    sites, problems = read_register(file, profile, load_roster(cfg), load_bounds(cfg))
    fatal = [p for p in problems if p.fatal]
    for p in problems:
        print(f"{'error' if p.fatal else 'warning'}: {p}")
    if fatal:
        raise InputError(f"{file}: {len(fatal)} problem{'s' if len(fatal) != 1 else ''}; nothing written")
    write_output(dump_yaml(sites, title), target)
    print(f"{target}: {len(sites)} site{'s' if len(sites) != 1 else ''} written")
    return 0


@app.command("grade")
def grade_cmd(
    format: Annotated[GradeFormat, typer.Option("--format", "-f", help="Output format.")] = GradeFormat.text,
    output: OutputOpt = None,
    sites: SitesOpt = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """The register graded: the 险情 grade an incident at each site would have (威胁人数 as 需搬迁转移人数,
    潜在经济损失), counts by grade and street, and the sites nearest each bound.

    Example: geohazard sites grade --sites examples/sites.yaml --format json
    """
    from geohazard_cli.sites import grade_sites, summary

    _, profile, register = load(config_dir, plan, rules, sites)
    graded = grade_sites(register.sites, profile)
    counts = summary(graded, profile)
    if format is GradeFormat.json:
        _json({"plan": profile.id, "file": register.file, "sites": [_row(g) for g in graded], "counts": counts,
               "warnings": [p.model_dump() for p in register.warnings]}, output)
        return 0
    if format is GradeFormat.csv:
        _csv(graded, output)
        return 0
    _text(graded, counts, profile, register, output)
    return 0


def _row(g: "Graded") -> dict[str, Any]:
    return {"id": g.site.id, "name": g.site.name, "street": g.site.street, "grade": g.grade,
            "grade_name": g.grade_name, "level": g.level, **g.site.as_json()}


def _json(data: Any, output: Path | None) -> None:
    from geohazard_cli.cli._common import emit_json, write_output

    if output is None:
        emit_json(data)
        return
    from geohazard_cli.fastjson import orjson

    write_output(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n", output)


def _csv(graded: "list[Graded]", output: Path | None) -> None:
    import csv
    import io

    from geohazard_cli.cli._common import write_output
    from geohazard_cli.sites import KEYS

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*KEYS, "grade", "grade_name", "level"])
    for g in graded:
        d = g.site.as_json()
        d["hazard_type"] = g.site.hazard_type_name
        w.writerow([*("" if d[k] is None else d[k] for k in KEYS), g.grade or "", g.grade_name or "", g.level or ""])
    write_output(buf.getvalue(), output)


def _text(graded: "list[Graded]", counts: dict[str, Any], profile: "Profile", register: "Register",
          output: Path | None) -> None:
    from geohazard_cli.cli._common import write_output
    from geohazard_cli.money import format_wan

    names = {g.key: g.name for g in profile.grades} | {"ungraded": "未定级"}
    lines = [f"隐患点分级({register.file},{len(graded)}处;按{profile.short_title}附件2险情分级)"]
    lines.append("按等级: " + "  ".join(f"{names[k]} {n}" for k, n in counts["by_grade"].items() if n))
    lines.append("按街道:")
    for street, by in counts["by_street"].items():
        lines.append(f"  {street}: " + "  ".join(f"{names[k]} {n}" for k, n in by.items()))
    if counts["nearest"]:
        lines.append("最接近上一级界限的隐患点:")
        for n in counts["nearest"]:
            amount = n["indicator"] == "potential_loss"
            value = format_wan(_dec(n["value"])) if amount else f"{n['value']}人"
            bound = format_wan(_dec(n["bound"])) if amount else f"{n['bound']}人"
            lines.append(f"  {n['name']} {bound}({names.get(n['grade'], n['grade'])}): {n['site']} {n['site_name']} "
                         f"{value}")
    lines.append("")
    for g in graded:
        s = g.site
        figures = "、".join(x for x in (f"威胁{s.threatened}人" if s.threatened is not None else "",
                                         f"潜在损失{format_wan(s.potential_loss)}" if s.potential_loss is not None
                                         else "") if x) or "无险情数字"
        lines.append(f"{s.id}  {g.grade_name or '未定级'}  {s.street} {s.name}({s.hazard_type_name};{figures})")
    if register.warnings:
        lines.append("")
        lines.append(f"注意: {len(register.warnings)}项待补充(占位的姓名或号码,不拨打);geohazard check 逐条列出")
    write_output("\n".join(lines), output)


def _dec(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


@app.command("map")
def map_cmd(
    format: Annotated[MapFormat, typer.Option("--format", "-f", help="geojson (a FeatureCollection QGIS opens), "
                                              "svg or html (an offline map: no tile server).")] = MapFormat.html,
    output: OutputOpt = None,
    sites: SitesOpt = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Map the register: sites coloured by grade, streets labelled, a legend and a scale bar.

    Example: geohazard sites map --sites examples/sites.yaml --format html -o sites.html
    """
    from geohazard_cli.cli._common import write_output
    from geohazard_cli.sites import geojson, grade_sites, load_bounds, map_context

    cfg, profile, register = load(config_dir, plan, rules, sites)
    graded = grade_sites(register.sites, profile)
    if format is MapFormat.geojson:
        _json(geojson(graded), output)
        return 0
    from geohazard_cli.config import templates_dir
    from geohazard_cli.render import environment

    ctx = map_context(graded, load_bounds(cfg), profile)
    text = environment(templates_dir(cfg)).get_template(f"sites-map.{format.value}.j2").render(**ctx)
    write_output(text, output)
    return 0
