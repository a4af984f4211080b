"""The Jinja2 environment shared by every rendered document (call sheets, reports, warnings).

Templates live in the config dir's ``templates/`` (so a district can restyle without code).
HTML templates (``*.html.j2``) are autoescaped: whatever the officer typed is shown, never
interpreted. Text and Markdown templates are not escaped (there is nothing to interpret), but
Markdown gets an ``md`` filter that neutralises table pipes and line breaks in cell text.
A template is data a district edits, not code: the environment is Jinja2's sandbox, so
``{{ cycler.__init__.__globals__.os }}`` is a template error, never a shell; ``check`` reports such
a template (``unsafe_access``) even where no sample incident reaches the line.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from geohazard_cli.errors import ConfigError

SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


def environment(templates: Path) -> Any:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from geohazard_cli.money import format_wan

    env = SandboxedEnvironment(
        loader=_cached_loader(str(templates)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def wan(value: Any) -> str:
        return "" if value is None else format_wan(Decimal(str(value)))

    def md(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    env.filters["wan"] = wan
    env.filters["md"] = md
    env.filters["blank"] = lambda v, width=8: "＿" * width if v is None or v == "" else v
    return env


_compiled: dict[tuple[str, int, int], Any] = {}  # (template file, its length, its text's CRC) -> code


def _cached_loader(directory: str) -> Any:
    """A ``FileSystemLoader`` that keeps what Jinja2 compiles a template to, as the bytecode of its
    Python source (marshal), in cache.py, keyed on the template file, its text, this module's
    source, Jinja2's version and the interpreter's: a run then neither compiles the template (its
    lexer, parser and code generator were ~100 ms of a call sheet) nor that source (~5 ms). Includes
    go through it too. The code is kept for the process, keyed on the template's text as read each
    time, so an edit is seen."""
    import marshal
    import sys
    import zlib

    import jinja2

    from geohazard_cli.cache import cached_data

    class CachedLoader(jinja2.FileSystemLoader):
        def load(self, environment: Any, name: str, globals: Any = None) -> Any:
            source, filename, uptodate = self.get_source(environment, name)
            assert filename is not None  # a FileSystemLoader's templates are files

            def generate() -> bytes:
                python = str(environment.compile(source, name, filename, raw=True))
                return marshal.dumps(compile(python, filename, "exec"))

            digest = (filename, len(source), zlib.crc32(source.encode()))
            code = _compiled.get(digest)  # this process compiled this very text already (a drill's messages)
            if code is None:
                # bytecode is this interpreter's own: its version is part of the key
                data = cached_data(Path(filename), generate, computed_by=__name__,
                                   key_extra=("jinja2", jinja2.__version__, sys.version, *digest[1:]))
                code = _compiled[digest] = marshal.loads(data)
            return environment.template_class.from_code(environment, code, environment.make_globals(globals),
                                                        uptodate)

    return CachedLoader(directory)


def unsafe_access(env: Any, source: str) -> tuple[int, str] | None:
    """The first place a template reaches for a private attribute (``x.__class__``, ``x["_y"]``,
    ``x|attr("__init__")``), with its line: what the sandbox refuses when the line runs."""
    from jinja2 import nodes

    for node in env.parse(source).find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name: object
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem):
            name = node.arg.value if isinstance(node.arg, nodes.Const) else None
        else:
            arg = node.args[0] if node.name == "attr" and node.args else None
            name = arg.value if isinstance(arg, nodes.Const) else None
        if isinstance(name, str) and name.startswith("_"):
            return node.lineno, name
    return None


def render(templates: Path, name: str, fmt: str, **context: Any) -> str:
    """Render ``{name}.{suffix}.j2`` for ``fmt`` (text, markdown, html) with ``context``."""
    import jinja2

    filename = f"{name}.{SUFFIX[fmt]}.j2"
    env = environment(templates)
    try:
        template = env.get_template(filename)
        return str(template.render(**context))
    except jinja2.TemplateNotFound:
        raise ConfigError(f"{templates / filename}: template not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or filename}:{exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{templates / filename}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{templates / filename}: template error: {exc.message}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{templates / filename}: template error: {exc}") from None
