"""`geohazard sites`: the hazard-site register (隐患点): import it, grade it, map it."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, HelpfulGroup, PlanOpt, RulesOpt, SitesOpt, command_app

if TYPE_CHECKING:
    from typing import BinaryIO

    from geohazard_cli.rules import Profile
    from geohazard_cli.sites import Block, Register
    from geohazard_cli.sites_grade import Graded, Hit

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
    if output is None:
        from geohazard_cli.config import is_shipped

        if is_shipped(cfg):
            raise InputError(f"sites import: no --output and no --config-dir: the config dir in force is the shipped "
                             f"copy ({cfg}), which a reinstall replaces; give --output FILE (then --sites FILE), "
                             f"or --config-dir DIR or ${'GEOHAZARD_CONFIG_DIR'} for the bureau's own copy")
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
    from geohazard_cli.cli._common import load_config
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.sites import load_bounds
    from geohazard_cli.sites_grade import grade_file

    cfg, profile = load_config(config_dir, plan, rules)
    path = _register_path(cfg, sites)
    roster, bounds = load_roster(cfg), load_bounds(cfg)
    # A chunk of sites at a time, into a spool (the output file's temporary, or a temporary file
    # copied to stdout at the end): memory stays bounded, and a fatal problem anywhere writes nothing.
    with _Spool(output) as out, _Spool(None) as body:
        if format is GradeFormat.json:
            out.write('{\n  "plan": ' + _nested(profile.id, 1) + ',\n  "file": ' + _nested(str(path), 1)
                      + ',\n  "sites": [')
        elif format is GradeFormat.csv:
            out.write(",".join(_csv_header()) + "\n")
        render = {GradeFormat.csv: _csv_chunk, GradeFormat.json: _json_chunk, GradeFormat.text: _text_chunk}[format]
        count, tally, warnings, fatal = grade_file(path, profile, roster, bounds, render,
                                                   body if format is GradeFormat.text else out)
        fatal.raise_any()
        counts = tally.result()
        if format is GradeFormat.json:
            out.write(("\n  ]" if count else "]") + ',\n  "counts": ' + _nested(counts, 1) + ',\n  "warnings": '
                      + _nested([p.model_dump() for p in warnings], 1) + "\n}\n")
        elif format is GradeFormat.text:
            out.write(_head(count, counts, profile, str(path)))
            out.copy(body)
            if warnings:
                out.write(f"\n注意: {len(warnings)}项待补充(占位的姓名或号码,不拨打);geohazard check 逐条列出\n")
        out.commit()
    return 0


def _register_path(cfg: Path, sites: Path | None) -> Path:
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.sites import SITES_FILE, sites_path

    path = sites_path(cfg, sites)
    if path is None:
        raise NotFoundError(f"no hazard-site register: {cfg / SITES_FILE} does not exist; give --sites FILE, or "
                            "write one with 'geohazard sites import FILE.csv' (see examples/sites.yaml)")
    return path


class _Spool:
    """Text written (as UTF-8) to a temporary file: ``--output``'s (renamed over it on commit) or
    one copied to stdout on commit. Not committed (an error): nothing is written."""

    def __init__(self, output: Path | None) -> None:
        from typing import BinaryIO

        self.output = output
        self.tmp: str | None = None
        self.fh: BinaryIO

    def __enter__(self) -> "_Spool":
        import os
        import tempfile

        from geohazard_cli.errors import InputError

        if self.output is None:
            self.fh = tempfile.TemporaryFile("w+b")
            return self
        target = self.output.resolve()
        if target.is_dir():
            raise InputError(f"--output: {self.output} is a directory; give a file name")
        if not target.parent.is_dir():
            raise InputError(f"--output: {target.parent} does not exist")
        try:
            fd, self.tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as exc:
            raise InputError(f"--output: {self.output}: cannot write there ({exc.strerror})") from None
        self.fh = os.fdopen(fd, "wb")
        return self

    def write(self, text: str) -> None:
        self.fh.write(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        self.fh.write(data)

    def write_file(self, fh: "BinaryIO") -> None:
        from geohazard_cli.forking import copy_part

        copy_part(fh, self.fh)

    def tell(self) -> int:
        return self.fh.tell()

    def truncate(self, at: int) -> None:
        self.fh.seek(at)
        self.fh.truncate()

    def copy(self, other: "_Spool") -> None:
        import shutil

        other.fh.seek(0)
        shutil.copyfileobj(other.fh, self.fh, 1 << 20)

    def commit(self) -> None:
        import os
        import sys

        if self.output is None:
            self.fh.seek(0)
            sys.stdout.flush()
            stdout = getattr(sys.stdout, "buffer", None)
            if stdout is None:  # (a text-only stream)
                import codecs

                decode = codecs.getincrementaldecoder("utf-8")().decode
                while chunk := self.fh.read(1 << 20):
                    sys.stdout.write(decode(chunk))
            else:
                from geohazard_cli.forking import copy_part

                self.fh.flush()
                copy_part(self.fh, stdout)  # (in the kernel when stdout is a file or a pipe)
                stdout.flush()
            sys.stdout.flush()
            return
        self.fh.close()
        assert self.tmp is not None
        os.replace(self.tmp, self.output.resolve())
        self.tmp = None

    def __exit__(self, *exc: object) -> None:
        from pathlib import Path

        self.fh.close()
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)


def _nested(value: Any, depth: int) -> str:
    """``value`` as JSON indented by 2 (orjson), to sit ``depth`` levels down in a document."""
    from geohazard_cli.fastjson import orjson

    text: str = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    return text.replace("\n", "\n" + "  " * depth)


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


def _csv_header() -> "tuple[str, ...]":
    from geohazard_cli.sites_grade import CSV_HEADER

    return CSV_HEADER


def _csv_chunk(block: "Block", hits: "list[Hit]", first: bool) -> str:
    """A chunk's graded sites as CSV lines (by ``csv`` when some cell needs quoting)."""
    from geohazard_cli.sites_grade import graded_csv

    text = graded_csv(block, hits)
    if text is None:
        import csv
        import io

        buf = io.StringIO()
        from geohazard_cli.sites_grade import graded_rows

        csv.writer(buf, lineterminator="\n").writerows(graded_rows(block, hits))
        text = buf.getvalue()
    return text


def _json_chunk(block: "Block", hits: "list[Hit]", first: bool) -> str:
    from geohazard_cli.sites_grade import Graded

    text = _nested([_row(Graded(s, *h)) for s, h in zip(block.sites(), hits, strict=True)], 1)
    return ("" if first else ",") + text[1:-4]


def _text_chunk(block: "Block", hits: "list[Hit]", first: bool) -> str:
    from geohazard_cli.sites_grade import Graded

    return "".join(_site_line(Graded(s, *h)) + "\n" for s, h in zip(block.sites(), hits, strict=True))


def _head(count: int, counts: dict[str, Any], profile: "Profile", file: str) -> str:
    from geohazard_cli.money import format_wan

    names = {g.key: g.name for g in profile.grades} | {"ungraded": "未定级"}
    lines = [f"隐患点分级({file},{count}处;按{profile.short_title}附件2险情分级)"]
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
    return "\n".join(lines) + "\n\n"


def _site_line(g: "Graded") -> str:
    from geohazard_cli.money import format_wan

    s = g.site
    figures = "、".join(x for x in (f"威胁{s.threatened}人" if s.threatened is not None else "",
                                     f"潜在损失{format_wan(s.potential_loss)}" if s.potential_loss is not None
                                     else "") if x) or "无险情数字"
    return f"{s.id}  {g.grade_name or '未定级'}  {s.street} {s.name}({s.hazard_type_name};{figures})"


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
    from geohazard_cli.sites import load_bounds
    from geohazard_cli.sites_grade import grade_sites
    from geohazard_cli.sites_map import geojson, map_context

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
