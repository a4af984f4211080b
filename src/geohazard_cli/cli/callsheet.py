"""`geohazard callsheet` and `report-form`: who to call, and what to report upward."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, PlanOpt, RulesOpt, SiteIncidentCommand, command_app, figures


class DocFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
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


callsheet_app = command_app()
report_form_app = command_app()


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


# SiteIncidentCommand adds the incident flags (one per field of fields.FIELDS), --file, --site and --sites.
@callsheet_app.command("callsheet", cls=SiteIncidentCommand)
def callsheet(
    ctx: typer.Context,
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
    from geohazard_cli.cli._common import load_config, sheet_values
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.dispatch import resolve_call_list
    from geohazard_cli.documents import callsheet_context
    from geohazard_cli.grading import grade

    cfg, profile = load_config(config_dir, plan, rules)
    roster_ = load_roster(cfg)
    given = figures(ctx)
    from_site: dict[str, Any] = {}  # (what --site filled, told by sheet_values)
    assessment = grade(sheet_values(given, profile, cfg, from_site), profile)
    call_list = resolve_call_list(assessment, profile, roster_)
    from geohazard_cli.cli._common import say_unmatched_location

    say_unmatched_location(assessment.incident.location, roster_)
    site = None
    if given.get("site") is not None:  # (the register read once: sheet_values read it already)
        from geohazard_cli.cli._common import site_of

        site = site_of(given, profile)
    _render(cfg, "callsheet", format, callsheet_context(assessment, profile, call_list, site, from_site or None),
            output)
    return 0


# SiteIncidentCommand adds the incident flags (one per field of fields.FIELDS), --file, --site and --sites.
@report_form_app.command("report-form", cls=SiteIncidentCommand)
def report_form(
    ctx: typer.Context,
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
    from geohazard_cli.cli._common import load_config, sheet_values
    from geohazard_cli.documents import report_form_context
    from geohazard_cli.grading import grade

    cfg, profile = load_config(config_dir, plan, rules)
    from_site: dict[str, Any] = {}  # (what --site filled, told by sheet_values)
    assessment = grade(sheet_values(figures(ctx), profile, cfg, from_site), profile)
    _render(cfg, "report-form", format, report_form_context(assessment, profile, from_site or None), output)
    return 0
