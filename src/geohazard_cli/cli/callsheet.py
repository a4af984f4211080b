"""`geohazard callsheet`, `report-form`, `roster`, `check`: who to call, what to report, and whether
the config is sound."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, PlanOpt, RulesOpt, incident_options

if TYPE_CHECKING:
    from geohazard_cli.contacts import RosterWording


class DocFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"


class ListFormat(StrEnum):
    text = "text"
    json = "json"


OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.",
                 show_default=False),
]
DocFormatOpt = Annotated[
    DocFormat,
    typer.Option("--format", "-f",
                 help="text (80 columns), markdown, html (a complete A4 document) or json."),
]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("callsheet")(callsheet)
    app.command("report-form")(report_form)
    app.command("roster")(roster)
    app.command("check")(check)


def _render(cfg: Path, name: str, fmt: DocFormat, context: dict[str, Any], output: Path | None) -> None:
    from geohazard_cli.cli._common import emit_json, write_output

    if fmt is DocFormat.json:
        if output is None:
            emit_json(context)
            return
        from geohazard_cli.fastjson import orjson

        write_output(orjson.dumps(context, option=orjson.OPT_INDENT_2).decode() + "\n", output)
        return
    from geohazard_cli.config import templates_dir
    from geohazard_cli.render import render
    from geohazard_cli.textlayout import TEXT_HELPERS

    text = render(templates_dir(cfg), name, fmt.value, **context, **TEXT_HELPERS)
    write_output(text, output)


@incident_options
def callsheet(
    figures: dict[str, Any],
    format: DocFormatOpt = DocFormat.text,
    output: OutputOpt = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Call sheet (叫应单) for an incident: grade, level, lead, measures, reporting, and every unit to
    call with its number, why it is called and its duties, with columns for the 叫应 loop.

    Marked 内部资料 (it holds numbers). Example: geohazard callsheet --evacuees 140 --location 七里山街道
    --format html -o sheet.html
    """
    from geohazard_cli.cli._common import incident_values, load_config
    from geohazard_cli.contacts import load_roster
    from geohazard_cli.dispatch import resolve_call_list
    from geohazard_cli.documents import callsheet_context
    from geohazard_cli.grading import grade

    cfg, profile = load_config(config_dir, plan, rules)
    roster_ = load_roster(cfg)
    assessment = grade(incident_values(figures, profile), profile)
    call_list = resolve_call_list(assessment, profile, roster_)
    _render(cfg, "callsheet", format, callsheet_context(assessment, profile, call_list), output)
    return 0


@incident_options
def report_form(
    figures: dict[str, Any],
    format: DocFormatOpt = DocFormat.text,
    output: OutputOpt = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """The upward report (速报单, §3.2.1) to 区政府 and 市应急局: what is known, blanks for the rest,
    recipients, whether reporting straight to the province applies (§3.2.2), and the deadline.

    Example: geohazard report-form --deaths 1 --location 七里山街道 --reported-at "2026-07-21 09:40"
    """
    from geohazard_cli.cli._common import incident_values, load_config
    from geohazard_cli.documents import report_form_context
    from geohazard_cli.grading import grade

    cfg, profile = load_config(config_dir, plan, rules)
    assessment = grade(incident_values(figures, profile), profile)
    _render(cfg, "report-form", format, report_form_context(assessment, profile), output)
    return 0


def roster(
    query: Annotated[
        str | None,
        typer.Argument(help="Match unit names, aliases, work groups, posts and duties "
                       "(e.g. 卫生, 医疗卫生组).", show_default=False),
    ] = None,
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.text,
    config_dir: ConfigDirOpt = None,
) -> int:
    """List the roster (contacts.yaml): unit, number, work groups and posts; QUERY filters it.

    Example: geohazard roster 医疗卫生组
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.contacts import load_roster
    from geohazard_cli.errors import NotFoundError

    r = load_roster(resolve_dir(config_dir))
    units = r.search(query or "")
    if not units:
        close = r.closest_names(query or "")
        hint = f" (closest: {'、'.join(close)})" if close else ""
        raise NotFoundError(f'roster: nothing matches "{query}"{hint}; '
                            "try a unit, work group, post or number, or \'geohazard roster\' for all")
    rows = []
    for u in units:
        rows.append({
            "key": u.key, "name": u.name, "aliases": u.aliases, "kind": u.kind, "phone": u.phone,
            "dial": u.dial, "phone_missing": u.phone_gap(),
            "in_plan": u.in_plan, "source": u.source,
            "groups": [{"name": g.name, "lead": leads} for g, leads in r.groups_of(u)],
            "roles": r.roles_of(u),
            "duties": [d.model_dump() for d in u.duties],
        })
    if format is ListFormat.json:
        emit_json(rows)
        return 0
    _print_roster(rows, query, r.wording)
    return 0


def _print_roster(rows: list[dict[str, Any]], query: str | None, wording: "RosterWording") -> None:
    from rich.table import Table
    from rich.text import Text

    from geohazard_cli.cli._common import console

    out = console()
    table = Table(title=f"{wording.title}{f' · {query}' if query else ''}", title_justify="left",
                  header_style="bold", show_lines=False)
    table.add_column("单位", overflow="fold", min_width=12)
    table.add_column("电话", no_wrap=True)
    table.add_column("工作组 / 职务", overflow="fold")
    gaps = []
    notes: dict[str, int] = {}  # provenance (source) of units the plan does not name -> note number
    for row in rows:
        groups = [wording.group_lead_short.format(group=g["name"]) if g["lead"] else g["name"]
                  for g in row["groups"]]
        roles = [r.split(":")[0] for r in row["roles"]]
        name = row["name"]
        if not row["in_plan"]:
            no = notes.setdefault(row["source"], len(notes) + 1)
            name += f" [注{no}]"
        if not row["dial"]:
            gaps.append(f"{row['name']}: {row['phone_missing'] or '号码缺失,请补充'}")
        table.add_row(name, row["dial"] or Text("无号码", style="bold red"), "、".join(roles + groups) or "—")
    out.print(table)
    for source, no in notes.items():
        out.print(Text(f"[注{no}] {source}"))
    if gaps:
        out.print(Text("无号码:", style="bold"))
        for gap in gaps:
            out.print(Text(f"  {gap}"))


def check(
    config_dir: ConfigDirOpt = None,
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.text,
    notices: Annotated[bool, typer.Option("--notices", help="List every notice (known gaps such as units "
                                          "without a number), not just a one-line summary.")] = False,
) -> int:
    """Validate the config a command would use: every profile in rules/, contacts.yaml, the dispatch
    sections, the templates (compile and render a sample incident). Lists every problem with file,
    line, key path and unit; exit 0 when sound, 2 otherwise. Known gaps (units without a number) are
    notices: summarised in one line, listed with --notices (JSON always lists them).

    Example: geohazard check --config-dir ./my-config
    """
    from geohazard_cli.checks import notice_summary, run_checks
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir

    cfg = resolve_dir(config_dir)
    problems, found = run_checks(cfg)
    if format is ListFormat.json:
        emit_json({"config_dir": str(cfg), "sound": not problems,
                   "problems": [p.model_dump() for p in problems],
                   "notices": [p.model_dump() for p in found]})
    else:
        for p in problems:
            print(f"error: {p}")
        if notices:
            for p in found:
                print(f"notice: {p}")
        elif found:
            print(f"notice: {notice_summary(found)}; --notices lists them")
        verdict = "sound" if not problems else f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        print(f"{cfg}: {verdict}; {len(found)} notice{'s' if len(found) != 1 else ''}")
    return 0 if not problems else 2
