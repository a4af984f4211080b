"""Every command has help text, and `--help` works for each (sqlite-utils' test_docs habit)."""

from typing import Any

import pytest
import typer

from geohazard_cli.cli import app


def _commands(cmd: Any, ctx: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    # Through the groups' public list_commands/get_command: the root loads its commands on demand.
    out = [(path, cmd)]
    for name in getattr(cmd, "list_commands", lambda _ctx: [])(ctx):
        out.extend(_commands(cmd.get_command(ctx, name), ctx, (*path, name)))
    return out


_ROOT = typer.main.get_command(app)
ALL = _commands(_ROOT, _ROOT.make_context("geohazard", ["--help"], resilient_parsing=True))


def test_the_commands_of_the_issues_exist() -> None:
    names = {" ".join(p) for p, _ in ALL}
    assert {"classify"} <= names


@pytest.mark.parametrize(("path", "cmd"), ALL, ids=[" ".join(p) or "geohazard" for p, _ in ALL])
def test_command_has_help(cli, path: tuple[str, ...], cmd: Any) -> None:  # type: ignore[no-untyped-def]
    assert (cmd.help or "").strip(), f"geohazard {' '.join(path)} has no help text"
    r = cli(*path, "--help")
    assert r.exit_code == 0
    assert "Usage:" in r.stdout


def test_bare_geohazard_prints_its_help(cli) -> None:  # type: ignore[no-untyped-def]
    for group in ((), ("incident",), ("drill",)):
        r = cli(*group)
        assert (r.exit_code, r.stderr) == (0, "")
        assert r.stdout.startswith(f"Usage: geohazard{''.join(' ' + g for g in group)} [OPTIONS] COMMAND")


def test_the_lazy_table_names_each_command_once() -> None:
    from geohazard_cli.cli import COMMANDS

    top = [path[0] for path, _ in ALL if len(path) == 1]
    assert top == list(COMMANDS)


@pytest.mark.parametrize("command", ["classify", "report-form", "warning", "incident"])
def test_only_the_invoked_module_is_imported(command: str) -> None:
    import subprocess
    import sys

    probe = ("import sys; from geohazard_cli.cli import run; run([sys.argv[1], '--help']); "
             "print(sorted(m for m in sys.modules if m.startswith('geohazard_cli.cli.')))")
    done = subprocess.run([sys.executable, "-c", probe, command], capture_output=True, text=True, check=True)
    from geohazard_cli.cli import COMMANDS
    from geohazard_cli.cli.incident import INCIDENT_COMMANDS

    module = COMMANDS[command].partition(":")[0]
    # A group's help lists its commands' one-line help, so a lazy group imports its commands' modules.
    # (incident_common takes the clock helpers from cli.clock, which the sheets share.)
    listed = {f"geohazard_cli.cli.{spec.partition(':')[0]}" for spec in INCIDENT_COMMANDS.values()} \
        | {"geohazard_cli.cli.incident_common", "geohazard_cli.cli.clock"} if command == "incident" else set()
    assert done.stdout.splitlines()[-1] == repr(sorted({"geohazard_cli.cli._common", f"geohazard_cli.cli.{module}",
                                                        *listed}))
