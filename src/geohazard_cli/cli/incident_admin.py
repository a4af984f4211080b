"""`geohazard incident check|backup|migrate`: the journal's health, a copy of it, a copy to another backend."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geohazard_cli.cli._common import TextJson, command_app
from geohazard_cli.cli.incident_common import (
    DbOpt,
    FormatOpt,
    journal_for,
    say,
)

if TYPE_CHECKING:
    pass

app = command_app()


# --- the journal's health ---------------------------------------------------------------------

@app.command("check")
def check(
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """Check the journal: the backend's own checks (SQLite: integrity_check and foreign_key_check;
    PostgreSQL: the schema version and the triggers that keep events append-only), every row read
    back, every stored state against its events replayed. Exit 2 on any damage. Reads only.
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.journal_check import check as check_journal
    from geohazard_cli.storage import locate, shown

    j = journal_for(db, create=False, readonly=True)
    if j is None:
        raise NotFoundError(f"the journal {shown(locate(db)[0])} does not exist yet (nothing to check)")
    try:
        report = check_journal(j)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json(report.plain())
    else:
        from geohazard_cli.cli.term import Term

        out = Term()
        out.print(f"日志 {report.path}(schema {report.schema_version})", style="bold", wrap=False)
        if report.backend == "sqlite":
            out.print(f"SQLite integrity_check: {'; '.join(report.integrity)}", wrap=False)
            out.print(f"SQLite foreign_key_check: {'; '.join(report.foreign_keys) or 'ok'}", wrap=False)
        else:
            for name, label in (("schema_version", "schema version"), ("append_only", "append-only triggers")):
                if name in report.server:
                    out.print(f"PostgreSQL {label}: {report.server[name]}", wrap=False)
        out.print(f"已检查: {report.responses} 个响应, {report.events} 条事件;搁置 {len(report.set_aside)} 条;"
                  f"状态与事件不符 {len(report.disagreements)} 个")
        for damage in (*report.set_aside, *report.disagreements):
            out.print(f"  {damage.text()}", style="yellow", wrap=False)
        out.print("结论: 有损坏" if report.damaged else "结论: 完好", style="bold")
    if report.damaged:
        say(f"error: the journal {report.path} is damaged: {len(report.set_aside)} row(s) set aside, "
             f"{len(report.disagreements)} stored state(s) disagree with their events"
             + ("" if report.integrity == ["ok"] and not report.foreign_keys else ", SQLite's checks failed")
             + ("" if all(v == "ok" for v in report.server.values()) else
                f", PostgreSQL's: {'; '.join(v for v in report.server.values() if v != 'ok')}"))
        return 2
    return 0


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy (replaced whole if "
                                         "it exists; written 0600).", show_default=False)],
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """Copy the journal with SQLite's online backup: a consistent copy while others write. Reads only.

    Example: geohazard incident backup /mnt/usb/journal-2026-07-21.sqlite3
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import NotFoundError
    from geohazard_cli.journal_check import backup as backup_journal
    from geohazard_cli.storage import locate, shown

    j = journal_for(db, create=False, readonly=True)
    if j is None:
        raise NotFoundError(f"the journal {shown(locate(db)[0])} does not exist yet (nothing to back up)")
    try:
        written, size = backup_journal(j, file)
    finally:
        j.close()
    if format is TextJson.json:
        emit_json({"source": j.where, "backup": str(written), "bytes": size})
        return 0
    from geohazard_cli.cli.term import Term

    Term().print(f"已备份: {j.where} → {written}({size} 字节;可用 --db {written} 查看)", wrap=False)
    return 0


# --- copying between backends -------------------------------------------------------------------

@app.command("migrate")
def migrate(
    to: Annotated[str, typer.Option("--to", metavar="URL|FILE", help="Where to copy the journal: a "
                                    "postgresql:// URL (a bureau's shared server) or a journal file (an offline "
                                    "field post). Created if need be.", show_default=False)],
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
) -> int:
    """Copy the journal (--db) to another, SQLite or PostgreSQL, losing nothing: responses and events are
    matched by their uid, so a second run adds nothing; counts and a checksum of the events are compared.

    Example: geohazard incident migrate --to postgresql://duty@db.bureau.lan/geohazard
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.errors import InputError, NotFoundError
    from geohazard_cli.journal_copy import copy
    from geohazard_cli.storage import locate, open_journal, shown

    spec, _ = locate(db)
    if shown(spec) == shown(to) or (not isinstance(spec, str) and Path(to).resolve() == Path(spec).resolve()):
        raise InputError(f"--to: {shown(to)} is the journal itself; give another")
    src = journal_for(db, create=False)
    if src is None:
        raise NotFoundError(f"the journal {shown(spec)} does not exist yet (nothing to copy)")
    try:
        dst = open_journal(to, "--to")
        assert dst is not None
        try:
            done = copy(src, dst)  # type: ignore[arg-type]
        finally:
            dst.close()
    finally:
        src.close()
    if format is TextJson.json:
        emit_json(done.plain())
        return 0
    from geohazard_cli.cli.term import Term

    Term().print(f"已复制: {done.source} → {done.target}\n"
                    f"响应 {done.responses} 个(新写入 {done.new_responses}),事件 {done.events} 条(新写入 "
                    f"{done.new_events});两边事件一致(SHA-256 {done.checksum[:16]}…)", wrap=False)
    return 0
