"""`geohazard drill run FILE` and `geohazard drill new [FILE]`: scripted drills (§7.7)."""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geohazard_cli.cli._common import ConfigDirOpt, HelpfulGroup, PlanOpt, RulesOpt, command_app

if TYPE_CHECKING:
    from geohazard_cli.contacts import Roster
    from geohazard_cli.drill_run import DrillRun
    from geohazard_cli.rules import Profile

STARTER = "drill-new.yaml"  # in the config dir's templates/
REPORT_FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


class DrillFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


drill_app = command_app(
    name="drill",
    cls=HelpfulGroup,
    help="Scripted drills (§7.7): run a scenario on a drill clock and check each step.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@drill_app.command("run")
def run_cmd(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML), e.g. drills/qilishan-escalation.yaml.",
                                         show_default=False)],
    format: Annotated[DrillFormat, typer.Option("--format", "-f", help="Output format.")] = DrillFormat.text,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the drill report to this file: Markdown (.md) or HTML "
                     "(.html), by suffix.", show_default=False),
    ] = None,
    config_dir: ConfigDirOpt = None,
    plan: PlanOpt = None,
    rules: RulesOpt = None,
) -> int:
    """Run a drill scenario and check every step's expectations.

    Steps run on the drill clock (no waiting; the same file gives the same result). --plan and
    --rules override the scenario's plan. Exit 0 when every expectation held, 1 when any did
    not (the failing steps are named), 2 when the scenario is malformed.
    Example: geohazard drill run drills/qilishan-escalation.yaml
    """
    from geohazard_cli.cli._common import emit_json, load_config, write_output
    from geohazard_cli.config import templates_dir
    from geohazard_cli.drill import StepError, locate, locate_key, read_scenario, schedule
    from geohazard_cli.drill_run import run
    from geohazard_cli.errors import ExpectationFailed, InputError, NotFoundError

    report_fmt = None
    if report is not None:
        report_fmt = REPORT_FORMATS.get(report.suffix.lower())
        if report_fmt is None:
            raise InputError(f'--report: "{report}" must end in .md or .html (the format goes by suffix)')
    scenario, text = read_scenario(file)
    name = str(file)
    if plan is not None or rules is not None or scenario.plan is None:  # the flags win over the file
        cfg, profile = load_config(config_dir, plan, rules)
    else:
        try:
            cfg, profile = load_config(config_dir, scenario.plan, None)
        except NotFoundError as exc:
            raise NotFoundError(f"{locate_key(name, text, ['plan'])}: plan: {str(exc).removeprefix('--plan: ')}"
                                ) from None
    try:
        drill = schedule(scenario, profile.timezone)
        from geohazard_cli.deadlines import load as load_local

        result = run(drill, profile, roster=_roster(cfg), local=load_local(cfg), templates=templates_dir(cfg))
    except StepError as exc:
        raise locate(exc, name, text) from None

    if format is DrillFormat.json:
        emit_json(result.model_dump(mode="json"))
    elif format is DrillFormat.markdown:
        write_output(_render(templates_dir(cfg), "markdown", result, profile), None)
    else:
        print_run(result)
    if report is not None and report_fmt is not None:
        write_output(_render(templates_dir(cfg), report_fmt, result, profile), report)
    if not result.passed:
        failed = ", ".join(f"step {s.number} ({s.kind})" for s in result.steps if not s.ok)
        raise ExpectationFailed(f"{name}: {len(result.failed)} of {len(result.steps)} steps did not go as "
                                f"expected: {failed}")
    return 0


@drill_app.command("new")
def new_cmd(
    file: Annotated[Path | None, typer.Argument(help="Write the starter scenario here (default: stdout); "
                                                "an existing file is never overwritten.",
                                                show_default=False)] = None,
    config_dir: ConfigDirOpt = None,
) -> int:
    """Write a commented starter scenario (to FILE, or stdout).

    Edit it, then run it with: geohazard drill run FILE. An existing FILE is never overwritten.
    """
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.config import templates_dir
    from geohazard_cli.errors import ConfigError, InputError
    from geohazard_cli.loader import read_text

    text = read_text(templates_dir(resolve_dir(config_dir)) / STARTER, ConfigError)
    if file is None:
        import sys

        sys.stdout.write(text)
        return 0
    if file.exists():
        raise InputError(f"{file}: already exists; choose another name (drill new never overwrites)")
    _write_new(file, text)
    import sys

    print(f"wrote {file}; run it with: geohazard drill run {file}", file=sys.stderr)
    return 0


def _write_new(target: Path, text: str) -> None:
    """Write atomically and only if ``target`` does not exist (a hard link refuses to replace)."""
    import os
    import tempfile

    from geohazard_cli.errors import InputError

    try:
        fd, tmp = tempfile.mkstemp(dir=target.resolve().parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{target}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.link(tmp, target)
    except FileExistsError:
        raise InputError(f"{target}: already exists; choose another name (drill new never overwrites)"
                         ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _roster(cfg: Path) -> "Roster":
    """The contacts roster: who each level and warning calls, and who may answer."""
    from geohazard_cli.contacts_load import load_roster

    return load_roster(cfg)


def _render(templates: Path, fmt: str, result: "DrillRun", profile: "Profile") -> str:
    from geohazard_cli.drill_run import show
    from geohazard_cli.render import render

    return render(templates, "drill-report", fmt, run=result, profile=profile, show=show)


def print_run(r: "DrillRun") -> None:
    """Each step: time, what happened, level change with the units newly to call, expectations."""
    from geohazard_cli.cli.term import Line, Term
    from geohazard_cli.drill_run import show

    con = Term()

    def say(text: "str | Line" = "", style: str = "") -> None:
        con.line([(text, style)] if isinstance(text, str) else text, wrap=False)

    say(f"演练: {r.name}", "bold")
    say(f"预案: {r.plan_title} ({r.plan})    开始: {r.start.isoformat(timespec='minutes')}")
    if r.description:
        say(r.description.strip())
    for s in r.steps:
        say()
        say([(f"步骤 {s.number}  {s.offset:>7}  {s.at.strftime('%m-%d %H:%M')}  {s.kind}  ", ""),
             ("✓ 符合预期" if s.ok else "✗ 不符合预期", "green" if s.ok else "bold red")])
        if s.note:
            say(f"  {s.note}", "dim")
        say(f"  {s.summary}")
        if s.called:
            say("  叫应:", "bold")
            for unit in s.called:
                say(f"    - {unit.unit}  {unit.dial or unit.phone or '(无号码)'}")
        ch = s.level_change
        if ch is not None:
            arrow = {"start": "启动", "up": "升级", "down": "降级", "end": "终止"}[ch.direction]
            before, after = ch.previous_level_name or "无", ch.level_name or "终止"
            mark = "▲" if ch.direction in ("start", "up") else "▼"
            what = f"建议响应{arrow}(待决定)" if ch.proposed else f"响应{arrow}"
            who = f"({ch.by}决定)" if ch.by else ""
            say(f"  {mark} {what}: {before} → {after}{who}", "bold yellow")
            if ch.newly_called:
                ahead = ch.proposed and ch.direction != "start"  # (a report's units are called at once)
                say("    建议级别新增叫应单位(准备):" if ahead else "    新增叫应单位:", "bold")
                for unit in ch.newly_called:
                    say(f"    - {unit.unit}  {unit.dial or unit.phone or '(无号码)'}")
            if ch.dropped:
                say(f"    不再需要: {'、'.join(ch.dropped)}")
        if s.messages:
            say(f"  通知(dry-run,未发送,已记录): {len(s.messages)} 条,如: {s.messages[0]['text']}", "dim")
        for c in s.checks:
            if c.ok:
                say(f"  ✓ {c.key} = {show(c.expected)}")
            else:
                say(f"  ✗ {c.key} = {show(c.expected)}  (实际: {show(c.actual)})", "red")
    say()
    if r.passed:
        say(f"结果: 全部符合预期 ({len(r.steps)} 步)", "bold green")
    else:
        failed = "、".join(f"步骤 {n}" for n in r.failed)
        say(f"结果: {len(r.failed)} 步不符合预期: {failed}", "bold red")
