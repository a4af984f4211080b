"""`geohazard rules diff OLD NEW`: what a rule revision changes, in the rules and in past records."""

import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, HelpfulGroup, TextJson, command_app

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile
    from geohazard_cli.rules_regrade import Regrade

rules_app = command_app(
    name="rules",
    cls=HelpfulGroup,
    help="The plan profiles (rules/): compare two of them, and what the change does to records and drills.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)



@rules_app.callback()
def _group() -> None:
    """Plan profiles (a group even with one command, so `rules diff` stays `rules diff`)."""


_PROFILE_HELP = "a profile name in rules/ (shizhong-2023, national-2006) or a rules YAML file."
OldArg = Annotated[str, typer.Argument(metavar="OLD", help=f"The profile before: {_PROFILE_HELP}", show_default=False)]
NewArg = Annotated[str, typer.Argument(metavar="NEW", help=f"The profile after: {_PROFILE_HELP}", show_default=False)]


@rules_app.command("diff")
def diff_cmd(
    old: OldArg,
    new: NewArg,
    batch: Annotated[Path | None, typer.Option(
        "--batch", help="Grade every record of this JSONL or CSV file (as classify --batch reads it) under both "
        "profiles and list those whose grade or level changes.", show_default=False)] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="The same for the incidents of a journal (a file or a postgresql:// URL), on their "
        "current figures.", show_default=False)] = None,
    drill: Annotated[Path | None, typer.Option(
        "--drill", help="Run this drill scenario under both profiles (its own plan: is not used) and show "
        "which expectations move.",
        show_default=False)] = None,
    clauses: Annotated[bool, typer.Option(
        "--clauses", help="List every change of a clause number alone (text; by default they are counted "
        "per section, JSON always lists them).")] = False,
    format: Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")] = TextJson.text,
    config_dir: ConfigDirOpt = None,
) -> int:
    """Compare two plan profiles: bounds, grades, levels, measures, leads, decisions, dispatch and
    deadlines, each with its clause; with --batch, --db or --drill, which records or drill
    expectations the change moves (up or down) instead.

    Example: geohazard rules diff shizhong-2023 my-revision.yaml --batch incidents-2025.csv
    """
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.errors import InputError

    if sum(x is not None for x in (batch, db, drill)) > 1:
        raise InputError("--batch, --db, --drill: give at most one (records from a file, a journal, or a drill)")
    cfg = resolve_dir(config_dir)
    a, b = _profile(old, "OLD", cfg), _profile(new, "NEW", cfg)
    head = {"old": _header(a), "new": _header(b)}
    as_json = format is TextJson.json
    if drill is not None:
        return _drill(drill, a, b, cfg, head, as_json)
    if batch is not None or db is not None:
        return _records(batch, db, a, b, head, as_json)
    from geohazard_cli.rules_diff import counts_by_section, profile_changes

    changes = profile_changes(a, b)
    if as_json:
        from geohazard_cli.cli._common import emit_json

        emit_json({**head, "changes": changes, "counts": {"changes": len(changes), **counts_by_section(changes)}})
    else:
        _print_changes(changes, a, b, clauses)
    return 0


def _profile(arg: str, which: str, cfg: Path) -> "Profile":
    """OLD or NEW: a rules file when it looks like a path, else a profile name in the config dir."""
    from geohazard_cli.config import available_plans, rules_path
    from geohazard_cli.errors import InputError, NotFoundError
    from geohazard_cli.rules import load_profile

    if arg.lower().endswith((".yaml", ".yml")) or "/" in arg or os.sep in arg:
        path = Path(arg)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "no such file"
            raise InputError(f"{which}: {arg}: {what} (a rules YAML file, or a profile name: "
                             f"{', '.join(available_plans(cfg)) or 'none'})")
    else:
        try:
            path = rules_path(arg, None, cfg)
        except NotFoundError as exc:
            raise NotFoundError(f"{which}: {str(exc).removeprefix('--plan: ')}") from None
    return load_profile(path)


def _header(p: "Profile") -> dict[str, Any]:
    from geohazard_cli.rules_diff import profile_header

    return profile_header(p)


def _title(p: "Profile") -> str:
    return f"{p.short_title}({p.id})"


# --- the rules ---------------------------------------------------------------------------------


def _print_changes(changes: list[dict[str, Any]], a: "Profile", b: "Profile", clauses: bool) -> None:
    """Each section's changes; a change of a clause number alone is counted, not listed, unless
    --clauses (two plans with the same bounds under other clause numbers would bury the rest)."""
    from geohazard_cli.rules_diff import SECTION_TITLES

    out = sys.stdout
    out.write(f"规则对比:{_title(a)} → {_title(b)}\n")
    if not changes:
        out.write("两个预案的规则相同(分级标准、等级、响应级别、措施、指挥、决策、调度、时限均无变化)\n")
        return
    folded = 0
    for key, title in SECTION_TITLES.items():
        mine = [c for c in changes if c["section"] == key]
        if not mine:
            continue
        only_clause = [c for c in mine if c["path"].endswith(".source")]
        shown = mine if clauses else [c for c in mine if not c["path"].endswith(".source")]
        out.write(f"\n{title}({len(mine)}处):\n")
        for c in shown:
            out.write(f"  {_change_line(c, a, b)}\n")
        if not clauses and only_clause:
            folded += len(only_clause)
            out.write(f"  另有{len(only_clause)}处仅条款编号不同\n")
    out.write(f"\n共{len(changes)}处变化")
    out.write(f"(其中{folded}处仅条款编号不同,加 --clauses 逐条列出)\n" if folded else "\n")


def _change_line(c: dict[str, Any], a: "Profile", b: "Profile") -> str:
    lead = c["path"].startswith("grades[") and c["path"].endswith(".lead")
    old = _shown(c["old"], a.leads if lead else None)
    new = _shown(c["new"], b.leads if lead else None)
    clause = f" [{c['source']}]" if c["source"] and not c["path"].endswith(".source") else ""
    if c["change"] == "added":
        return f"{c['label']}:新增 {new}{clause}"
    if c["change"] == "removed":
        return f"{c['label']}:删除 {old}{clause}"
    return f"{c['label']}:{old} → {new}{clause}"


def _shown(value: Any, leads: Any = None) -> str:
    if value is None:
        return "(无)"
    if leads is not None and value in leads:
        return f"{leads[value].name}({value})"
    if isinstance(value, dict):
        if "text" in value and isinstance(value["text"], str):
            return _short(value["text"])
        return _short(", ".join(f"{k}: {_shown(v)}" for k, v in value.items()))
    if isinstance(value, list):
        return "[" + "、".join(_shown(v) for v in value) + "]"
    return _short(str(value))


def _short(text: str, width: int = 72) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- records: a file or a journal ----------------------------------------------------------------


def _records(batch: Path | None, db: str | None, a: "Profile", b: "Profile", head: dict[str, Any],
             as_json: bool) -> int:
    from geohazard_cli.rules_regrade import Regrade

    regrade = Regrade(a, b)
    if batch is not None:
        source: dict[str, Any] = {"batch": str(batch)}
        with BatchRecords(batch) as records:
            _stream(records, regrade, {**head, "records": source}, as_json, a, b)
    else:
        records = _journal_records(db or "")
        _stream(iter(records), regrade, {**head, "records": {"db": _shown_db(db or "")}}, as_json, a, b)
    if regrade.bad:
        from geohazard_cli.batch.reference import bad_records

        raise bad_records(regrade.bad, regrade.records)
    return 0


class BatchRecords:
    """The records of a batch file as classify --batch reads them: (line, record) pairs, streaming."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: IO[bytes] | None = None

    def __enter__(self) -> Any:
        from geohazard_cli.batch.readers import (
            RowCheck,
            check_suffix,
            check_utf8,
            open_input,
            records_csv,
            records_jsonl,
        )

        check_suffix(self.path)
        self.fh = open_input(self.path)
        if self.path.suffix.lower() == ".csv":
            check_utf8(self.fh, str(self.path))
            return ((line, rec, None) for line, rec in records_csv(self.fh, str(self.path), RowCheck.of(self.fh)))
        return ((line, rec, None) for line, rec in records_jsonl(self.fh))

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None and self.fh is not sys.stdin.buffer:
            self.fh.close()


def _journal_records(db: str) -> list[tuple[None, dict[str, Any], int]]:
    """Each incident of the journal, on its current figures (its state), with its id."""
    from geohazard_cli.errors import InputError
    from geohazard_cli.fields import AMOUNT_FIELDS, COUNT_FIELDS
    from geohazard_cli.responses import listing
    from geohazard_cli.rules_regrade import journal_record
    from geohazard_cli.storage import open_journal, shown

    spec: str | Path = db if db.startswith(("postgresql://", "postgres://")) else Path(db)
    j = open_journal(spec, "--db", create=False, readonly=True)
    if j is None:
        raise InputError(f"--db: {shown(spec)}: no journal there (a journal file or a postgresql:// URL)")
    try:
        states = listing(j, None)
    finally:
        j.close()
    fields = (*COUNT_FIELDS, *AMOUNT_FIELDS)
    return [(None, journal_record(s.incident, fields), s.id) for s in states if s.response == "incident"]


def _shown_db(db: str) -> str:
    from geohazard_cli.storage import shown

    return shown(db)


def _stream(records: Any, regrade: "Regrade", head: dict[str, Any], as_json: bool, a: "Profile",
            b: "Profile") -> None:
    """Compare record by record, writing each change as it is found (memory stays flat); bad records
    are spooled to a temporary file for the JSON ``errors`` list."""
    import tempfile

    from geohazard_cli.fastjson import orjson

    out = sys.stdout.buffer
    if as_json:
        out.write(orjson.dumps(head)[:-1] + b',"changed":[')
    else:
        where = head["records"]
        out.write(f"规则对比:{_title(a)} → {_title(b)};记录:{where.get('batch') or where.get('db')}\n".encode())
    first = True
    with tempfile.TemporaryFile() as errors:
        for line, record, rid in records:
            change = regrade.compare(record, line)
            if change is None:
                continue
            if rid is not None:
                change = {"id": rid, **change}
            if "error" in change:
                if as_json:
                    errors.write(orjson.dumps(change) + b"\n")
                else:
                    out.write(f"  {_where(change)}:有误:{change['error']}\n".encode())
                continue
            if as_json:
                out.write((b"\n" if first else b",\n") + orjson.dumps(change))
            else:
                out.write(_record_text(change).encode())
            first = False
        counts = regrade.counts()
        if as_json:
            out.write(b'\n],"errors":[')
            errors.seek(0)
            for i, row in enumerate(errors):
                out.write((b"\n" if i == 0 else b",\n") + row.rstrip(b"\n"))
            out.write(b'\n],"counts":' + orjson.dumps(counts) + b"}\n")
        else:
            out.write(_counts_text(counts).encode())
    out.flush()


def _where(change: dict[str, Any]) -> str:
    parts = []
    if change.get("line") is not None:
        parts.append(f"第{change['line']}行")
    if change.get("id") is not None:
        parts.append(f"id {change['id']}")
    return " ".join(parts)


_ARROW = {"up": "升", "down": "降", "changed": "变", "same": "不变"}


def _record_text(c: dict[str, Any]) -> str:
    x, y = c["before"], c["after"]
    lines = [f"  {_where(c)}:{x['grade_name']} {x['response_level_name']} → {y['grade_name']} "
             f"{y['response_level_name']}(等级{_ARROW[c['grade']]},响应{_ARROW[c['level']]})"]
    lines.append(f"      之前:{';'.join(x['deciding_text'])}")
    lines.append(f"      之后:{';'.join(y['deciding_text'])}")
    return "\n".join(lines) + "\n"


def _counts_text(n: dict[str, Any]) -> str:
    lines = [f"\n共{n['records']}条记录:等级或响应级别变化{n['changed']}条"
             f"(等级升{n['grade']['up']}、降{n['grade']['down']};响应级别升{n['level']['up']}、降{n['level']['down']}),"
             f"未变{n['unchanged']}条,有误{n['bad']}条"]
    for row in n["by_change"]:
        g0, g1 = row["grade_name"]
        l0, l1 = row["response_level"]
        lines.append(f"  {g0} → {g1},{l0} → {l1}:{row['count']}条")
    return "\n".join(lines) + "\n"


# --- a drill under both profiles ------------------------------------------------------------------


def _drill(file: Path, a: "Profile", b: "Profile", cfg: Path, head: dict[str, Any], as_json: bool) -> int:
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.deadlines import load as load_local
    from geohazard_cli.drill import StepError, locate, read_scenario, schedule
    from geohazard_cli.drill_run import run
    from geohazard_cli.errors import InputError
    from geohazard_cli.rules_regrade import drill_moves

    scenario, text = read_scenario(file)
    roster, local = load_roster(cfg), load_local(cfg)
    runs = []
    for which, profile in (("OLD", a), ("NEW", b)):
        try:
            runs.append(run(schedule(scenario, profile.timezone), profile, roster=roster, local=local))
        except StepError as exc:
            raise InputError(f"{which} {profile.id}: {locate(exc, str(file), text)}") from None
    moves = drill_moves(*runs)
    if as_json:
        from geohazard_cli.cli._common import emit_json

        emit_json({**head, "drill": str(file), **moves})
        return 0
    from geohazard_cli.drill_run import show

    out = sys.stdout
    passed = {True: "通过", False: "未通过"}
    c = moves["counts"]
    out.write(f"演练 {moves['name']}({file}):{_title(a)} {passed[moves['passed']['before']]}"
              f"(未达预期{c['failed_before']}步) → {_title(b)} {passed[moves['passed']['after']]}"
              f"(未达预期{c['failed_after']}步)\n")
    for s in moves["steps"]:
        if not s["moved"]:
            continue
        out.write(f"\n第{s['number']}步 {s['kind']} {s['offset']}\n")
        out.write(f"  之前:{s['before']['summary']}\n  之后:{s['after']['summary']}\n")
        for key, word in (("grade", "等级"), ("response_level", "响应级别"), ("proposed_level", "建议响应级别")):
            x, y = s["before"].get(key), s["after"].get(key)
            if x != y:
                out.write(f"  {word}:{x or '(无)'} → {y or '(无)'}\n")
        for ch in s["checks"]:
            if ch["moved"]:
                mark = {True: "✓", False: "✗"}
                out.write(f"  {ch['key']}:期望 {show(ch['expected'])};之前 {show(ch['before']['actual'])} "
                          f"{mark[ch['before']['ok']]};之后 {show(ch['after']['actual'])} {mark[ch['after']['ok']]}\n")
    out.write(f"\n共{c['steps']}步,{c['moved']}步有变化\n")
    return 0
