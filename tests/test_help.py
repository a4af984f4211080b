"""Every command has help text, and `--help` works for each (sqlite-utils' test_docs habit)."""

from typing import Any

import pytest
import typer

from geohazard_cli.cli import app


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, cmd)]
    for name, sub in getattr(cmd, "commands", {}).items():
        out.extend(_commands(sub, (*path, name)))
    return out


ALL = _commands(typer.main.get_command(app))


def test_the_commands_of_the_issues_exist() -> None:
    names = {" ".join(p) for p, _ in ALL}
    assert {"classify"} <= names


@pytest.mark.parametrize(("path", "cmd"), ALL, ids=[" ".join(p) or "geohazard" for p, _ in ALL])
def test_command_has_help(cli, path: tuple[str, ...], cmd: Any) -> None:  # type: ignore[no-untyped-def]
    assert (cmd.help or "").strip(), f"geohazard {' '.join(path)} has no help text"
    r = cli(*path, "--help")
    assert r.exit_code == 0
    assert "Usage:" in r.stdout


def test_every_command_is_in_the_lazy_table() -> None:
    # run() registers only the invoked command's module: a command missing from COMMANDS would
    # still be listed by --help but could never be run.
    from geohazard_cli.cli import COMMANDS

    top = {name for path, _ in ALL if len(path) == 1 for name in path}
    assert top == set(COMMANDS)


@pytest.mark.parametrize("command", ["classify", "report-form", "warning", "incident"])
def test_only_the_invoked_module_is_registered(command: str) -> None:
    from geohazard_cli.cli import COMMANDS, build_app

    built = typer.main.get_command(build_app(command))
    names = set(getattr(built, "commands", {}))
    assert command in names
    assert names == {c for c, module in COMMANDS.items() if module == COMMANDS[command]}
