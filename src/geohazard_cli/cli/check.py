"""`geohazard check`: whether a config dir (rules, contacts, dispatch, warning, templates) is sound."""

from typing import Annotated

import typer

from geohazard_cli.cli._common import ConfigDirOpt, TextJson, command_app

app = command_app()


@app.command("check")
def check(
    config_dir: ConfigDirOpt = None,
    format: Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")] = TextJson.text,
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
    from geohazard_cli.config import config_source

    cfg = resolve_dir(config_dir)
    source = config_source(config_dir)
    problems, found = run_checks(cfg)
    if format is TextJson.json:
        emit_json({"config_dir": str(cfg), "config_source": source, "sound": not problems,
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
        print(f"{cfg} ({source}): {verdict}; {len(found)} notice{'s' if len(found) != 1 else ''}")
    return 0 if not problems else 2
