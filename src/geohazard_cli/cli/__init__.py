"""The typer app and the one error boundary. Commands live in sibling modules, each registering
itself; heavy imports (rich, jinja2, sqlite) happen inside the command that needs them."""

import contextlib
import errno
import importlib
import sys
from typing import Annotated, Any

import typer


def _defer_typer_adapters() -> None:
    """Build typer's per-option pydantic TypeAdapter only for options that were given.

    typer (0.2x) builds a TypeAdapter for every option of the invoked command on every run, even
    for options left at None (~2 ms each; classify has 26 options, so ~50 ms of a ~400 ms start-up).
    A None value coerces to None without one (typer's RuntimeParam.coerce), so defer the build to the
    first real value. Other typer versions without this machinery are left alone.
    """
    typer_core: Any = sys.modules.get("typer.core")
    build: Any = getattr(typer_core, "build_runtime_param", None)
    if build is None or getattr(build, "_geohazard_lazy", False):  # pragma: no cover - other typer
        return

    class LazyRuntimeParam:
        _geohazard_lazy = True
        __slots__ = ("descriptor", "real")

        def __init__(self, descriptor: Any) -> None:
            self.descriptor = descriptor
            self.real: Any = None

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            if value is None and not (getattr(param, "multiple", False) or getattr(param, "nargs", 1) == -1):
                return None
            if self.real is None:
                self.real = build(self.descriptor)
            return self.real.coerce(value, param=param, ctx=ctx)

        def __getattr__(self, name: str) -> Any:
            if self.real is None:
                self.real = build(self.descriptor)
            return getattr(self.real, name)

    typer_core.build_runtime_param = LazyRuntimeParam


_defer_typer_adapters()

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


# Which module registers each top-level command. Only the invoked command's module is registered
# (typer converts every registered command to click on every run: ~10 ms for all of them), so a
# new command must be listed here as well as registered in its module.
COMMANDS = {
    "classify": "classify",
    "callsheet": "callsheet",
    "report-form": "callsheet",
    "roster": "callsheet",
    "check": "callsheet",
    "warning": "warning",
    "drill": "drill",
    "incident": "incident",
}


def build_app(command: str | None = None) -> typer.Typer:
    """The app with the module of ``command`` registered, or every module when it is not known."""
    app = typer.Typer(
        name="geohazard",
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
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in names:
        importlib.import_module(f"geohazard_cli.cli.{name}").register(app)
    return app


def __getattr__(name: str) -> Any:
    """``geohazard_cli.cli.app``: the whole app (for tests and tools that list every command)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def _command_of(argv: list[str]) -> str | None:
    """The top-level command named in ``argv`` (the first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)



def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; every error a user can cause ends here as one line."""
    from typer._click import exceptions as click_exc

    from geohazard_cli.errors import GeohazardError

    if sys.stdout is None or sys.stderr is None:  # started with `>&-`: nothing it says would be seen
        if sys.stderr is not None:
            print("geohazard: error: standard output is closed; run it with its output going somewhere",
                  file=sys.stderr)
        return 2
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        app = build_app(_command_of(args))
        rv = app(args=args, standalone_mode=False, prog_name="geohazard")
        if rv == 130:  # typer turns a Ctrl-C inside a command into this code (no command returns it)
            _flush_quietly()
            print("geohazard: interrupted", file=sys.stderr)
        return rv if isinstance(rv, int) else 0
    except GeohazardError as exc:
        _flush_quietly()
        print(f"geohazard: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click_exc.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx is not None else "geohazard"
        print(f"{cmd}: error: {exc.format_message()} (see '{cmd} --help')", file=sys.stderr)
        return 2
    except click_exc.ClickException as exc:
        print(f"geohazard: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print("geohazard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as exc:
        # rich turns a reader that went away (`| head`) into SystemExit(1); for a drill 1 would read
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
