"""`geohazard incident`: the journal of responses (incidents and warning periods).

The group only: each command lives in one of the incident_* modules, named once here and imported
when it is invoked. What they share (options, opening the journal, the clock, text output) is
``incident_common``.
"""

from typing import Annotated

import typer

from geohazard_cli.cli._common import LazyGroup, command_app

# Every `geohazard incident` command: its name -> "module:attribute" of the typer app defining it.
INCIDENT_COMMANDS = {
    "open": "incident_write:app",
    "update": "incident_write:app",
    "decide": "incident_write:app",
    "ack": "incident_write:app",
    "close": "incident_write:app",
    "show": "incident_read:app",
    "list": "incident_read:app",
    "export": "incident_read:app",
    "due": "incident_clock:app",
    "report": "incident_clock:app",
    "amend": "incident_clock:app",
    "watch": "incident_watch:app",
    "check": "incident_admin:app",
    "backup": "incident_admin:app",
    "notify": "notify:app",
    "ack-import": "notify:app",
    "migrate": "incident_admin:app",
}


class IncidentGroup(LazyGroup):
    table = INCIDENT_COMMANDS


incident_app = command_app(
    name="incident",
    cls=IncidentGroup,
    help="The journal of responses (incidents and warning periods): open an incident, record reports, "
    "proposed and decided levels, calls and answers (叫应), close it (§6.4) and export the summary (§8(5)).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


who: dict[str, str | None] = {}  # --station / --officer of this invocation (incident_common.journal_for)


@incident_app.callback()
def _group(
    station: Annotated[str | None, typer.Option(
        "--station", help="The duty station writing (值班点; default: $GEOHAZARD_STATION, else station: in "
        "station.local.yaml in the config dir). Recorded with every event.", show_default=False)] = None,
    officer: Annotated[str | None, typer.Option(
        "--officer", help="The officer on duty writing (default: $GEOHAZARD_OFFICER, else officer: in "
        "station.local.yaml). Recorded with every event.", show_default=False)] = None,
) -> None:
    """The commands come from INCIDENT_COMMANDS (a callback makes the app a group typer can build);
    its options say who writes."""
    who.update(station=station, officer=officer)
