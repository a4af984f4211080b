"""The typer app and the one error boundary. Each command lives in a sibling module, named once in
``COMMANDS`` and imported only when it is invoked (or listed by --help); heavy imports (jinja2,
sqlite; rich for `incident watch`'s live board) happen inside the command that needs them."""

import contextlib
import errno
import sys
from typing import Annotated, Any

import typer

from geohazard_cli.cli._common import LazyGroup

# Every top-level command: its name -> "module:attribute" of the typer app that defines it (one
# command, or a group of them). A new command is one line here and its module.
COMMANDS = {
    "classify": "classify:app",
    "callsheet": "callsheet:callsheet_app",
    "report-form": "callsheet:report_form_app",
    "roster": "roster:app",
    "check": "check:app",
    "warning": "warning:app",
    "drill": "drill:drill_app",
    "incident": "incident:incident_app",
    "sites": "sites:app",
    "cap": "cap:cap_app",
    "rules": "rules:rules_app",
}


class RootGroup(LazyGroup):
    """The root: the commands of ``COMMANDS``."""

    table = COMMANDS


_DEBUG = False


def _version(value: bool) -> None:
    if value:
        from geohazard_cli import __version__

        print(f"geohazard {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on internal errors.")] = False,
) -> None:
    global _DEBUG
    _DEBUG = debug


def build_app() -> typer.Typer:
    """The app: the root options, and every command of ``COMMANDS`` loaded on demand."""
    app = typer.Typer(
        name="geohazard",
        cls=RootGroup,
        help="Duty-officer tool for a geohazard emergency plan (the plan profile in rules/, the roster in "
        "contacts.yaml): grade an incident, call the right units, "
        "respond to warnings, run drills, keep the incident journal.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    return app


def __getattr__(name: str) -> Any:
    """``geohazard_cli.cli.app``: the whole app (for tests and tools that list every command)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; every error a user can cause ends here as one line."""
    from geohazard_cli.errors import GeohazardError

    if sys.stdout is None or sys.stderr is None:  # started with `>&-`: nothing it says would be seen
        if sys.stderr is not None:
            print("geohazard: error: standard output is closed; run it with its output going somewhere",
                  file=sys.stderr)
        return 2
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        app = build_app()
        rv = app(args=args, standalone_mode=False, prog_name="geohazard")
        if rv == 130:  # typer turns a Ctrl-C inside a command into this code (no command returns it)
            _flush_quietly()
            print("geohazard: interrupted", file=sys.stderr)
        return rv if isinstance(rv, int) else 0
    except GeohazardError as exc:
        _flush_quietly()
        print(f"geohazard: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except typer.TyperException as exc:  # click's errors, which typer vendors (typer._click) and raises
        if hasattr(exc, "ctx"):  # a usage error (bad flag or value) knows the command it was given to
            cmd = exc.ctx.command_path if exc.ctx is not None else "geohazard"
            print(f"{cmd}: error: {exc.format_message()} (see '{cmd} --help')", file=sys.stderr)
            return 2
        print(f"geohazard: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print("geohazard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as exc:
        # rich (incident watch) turns a reader that went away (`| head`) into SystemExit(1); for a drill 1 would read
        # as "an expectation failed", so a closed pipe ends quietly instead.
        if isinstance(exc.__context__, BrokenPipeError):
            return 0
        raise
    except OSError as exc:
        if exc.errno in _FULL:
            return _cannot_write(exc)
        if _DEBUG or "--debug" in (argv if argv is not None else sys.argv):
            raise
        print(f"geohazard: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 3
    except Exception as exc:  # the one place an unexpected error is turned into a message
        if _DEBUG or "--debug" in (argv if argv is not None else sys.argv):
            raise
        print(f"geohazard: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 3


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}  # the output's disk or quota is full


def _cannot_write(exc: OSError) -> int:
    print(f"geohazard: error: cannot write the output: {exc.strerror} (free some space, or write elsewhere)",
          file=sys.stderr)
    return 2


def _flush_quietly() -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()


def main() -> None:
    code = run()
    try:  # what is still buffered, now, where a full disk can be reported (not at interpreter exit)
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        sys.stdout = None  # the reader went away: nothing more to say
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        code = _cannot_write(exc)
        sys.stdout = None
    sys.exit(code)
