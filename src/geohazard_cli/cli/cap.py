"""`geohazard cap check FILE...`: what CAP 1.2 consumers check beyond the OASIS XSD (cap_check.py)."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from geohazard_cli.cli._common import HelpfulGroup, command_app


class CheckProfile(StrEnum):
    oasis = "oasis"
    google = "google"
    ipaws = "ipaws"
    cn = "cn"


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


cap_app = command_app(
    name="cap",
    cls=HelpfulGroup,
    help="CAP 1.2 alerts: check what consumers (OASIS, Google Public Alerts, IPAWS, GB/T 35965.1) require.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@cap_app.callback()
def _group() -> None:
    """CAP 1.2 alerts (a group even with one command, so `cap check` stays `cap check`)."""


@cap_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="CAP 1.2 alert files.", show_default=False)],
    profile: Annotated[CheckProfile, typer.Option(
        "--profile", help="oasis: the CAP 1.2 rules an XSD cannot express; google, ipaws, cn: those and "
        "the consumer's own (see docs/warning.md).")] = CheckProfile.oasis,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = CheckFormat.text,
) -> int:
    """Check CAP 1.2 alerts: one line per finding with the element's path; exit 2 if any is an error.

    Example: geohazard cap check alert.xml --profile google
    """
    from geohazard_cli import cap_check
    from geohazard_cli.errors import InputError
    from geohazard_cli.loader import read_text

    results = [(str(f), cap_check.check(read_text(f, InputError), profile.value)) for f in files]
    errors = sum(1 for _, found in results for x in found if x.level == "error")
    if format is CheckFormat.json:
        from geohazard_cli.cli._common import emit_json

        emit_json({"profile": profile.value, "errors": errors,
                   "files": [{"file": name, "findings": [x.as_dict() for x in found]} for name, found in results]})
    else:
        for name, found in results:
            for x in found:
                print(f"{name}: {x.path}: {x.level}: {x.message} [{x.rule}]")
        total = sum(len(found) for _, found in results)
        print(f"{len(files)} file(s), {total} finding(s), {errors} error(s) ({profile.value})")
    return 2 if errors else 0
