"""`geohazard classify`: figures in, grade and response level out, with why."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from geohazard_cli.cli._common import ConfigDirOpt, PlanOpt, RulesOpt, SiteIncidentCommand, command_app, figures


class ClassifyFormat(StrEnum):
    text = "text"
    json = "json"


app = command_app()


# SiteIncidentCommand adds the incident flags (--evacuees, --direct-loss, ... one per field of
# fields.FIELDS), --file, --site and --sites after these options; figures(ctx) reads them.
@app.command("classify", cls=SiteIncidentCommand)
def classify(
    ctx: typer.Context,
    format: Annotated[ClassifyFormat, typer.Option("--format", "-f", help="Output format.")] = ClassifyFormat.text,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="Grade every record of a JSONL or CSV file (by suffix; '-' reads JSONL "
                     "from stdin); one JSON line out per record.", show_default=False),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", min=1, max=64, help="Processes for --batch over a large file (default: the CPUs, "
                     "at most 2; 1: one process).", show_default=False),
    ] = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Grade an incident (§4, 附件2): grade, response level, deciding indicator, lead, reporting.

    Example: geohazard classify --evacuees 140 --deaths 1
    """
    given = figures(ctx)
    if batch is not None:
        from geohazard_cli.cli._common import load_config
        from geohazard_cli.errors import InputError

        _, profile = load_config(config_dir, plan, rules)
        if any(v is not None for v in given.values()):
            raise InputError("--batch: cannot be combined with incident figures or --file")
        from geohazard_cli.batch import run_batch

        return run_batch(batch, profile, jobs=jobs)
    if jobs is not None:
        from geohazard_cli.errors import InputError

        raise InputError("--jobs: only with --batch (the processes a batch may use)")
    # One incident is graded as plain data (grading.assess, which grading.grade() wraps in the
    # models), so start-up defines no pydantic model.
    from geohazard_cli.cli._common import emit_model_json, load_config, sheet_values
    from geohazard_cli.grading import assess

    cfg, profile = load_config(config_dir, plan, rules)
    assessment = assess(sheet_values(given, profile, cfg), profile)
    if format is ClassifyFormat.json:
        emit_model_json(assessment)
    else:
        from geohazard_cli.cli.panels import print_assessment

        print_assessment(assessment, profile.timezone)
    return 0
