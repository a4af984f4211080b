"""`geohazard incident watch`: the live board of the open responses (叫应 and deadlines), refreshed
from the journal so another officer's `ack` shows without a restart: every --interval, and as soon as
another writer commits (``Storage.wait_change``: LISTEN/NOTIFY on PostgreSQL, SQLite's data_version).

The frame is data (``board.frame``, over the same states and ``deadlines.due`` as `incident due`);
this module reads the journal (read-only, one read transaction per refresh), turns a frame into
styled lines and shows them: rich Live on a terminal, plain text when piped or with NO_COLOR's
colours off (every overdue row also says 逾期 in words).
"""

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, TextJson, command_app
from geohazard_cli.cli.incident_common import DbOpt, FormatOpt, journal_for, tz_text, when_of
from geohazard_cli.timeline import minutes_text

if TYPE_CHECKING:
    from geohazard_cli.lifecycle import State
    from geohazard_cli.storage import Storage as Journal

app = command_app()

OVERDUE, WAITING, DONE, HEAD, NOTE = "bold red", "yellow", "green", "bold", "dim"
BEL = "\a"


class Source:
    """Where the board's frames come from: the journal (kept open read-only; opened once it exists),
    the config dir's deadlines and profiles (loaded once), and the clock (``at``: fixed, for drills)."""

    def __init__(self, db: str | None, config_dir: Path | None, at: str | None) -> None:
        from geohazard_cli.cli.incident_clock import profiles_in
        from geohazard_cli.config import config_dir as resolve_dir
        from geohazard_cli.deadlines import load

        cfg = resolve_dir(config_dir)
        self.db, self.at = db, at
        self.local = load(cfg)
        self.profile_of = profiles_in(cfg)
        self.journal: Journal | None = None
        self.clock(None)  # a mistyped --at is refused before the board starts

    def clock(self, states: "list[State] | None") -> Any:
        tz = tz_text(states[0].opened_at) if states else "+08:00"
        return when_of(self.at, tz, skew_minutes=10**6)  # --at is the clock itself: any time may be shown

    def states(self) -> "tuple[list[State], list[str]]":
        """The open responses now, and the rows this read set aside (each said on the board)."""
        if self.journal is None:
            self.journal = journal_for(self.db, create=False, readonly=True)
            if self.journal is None:
                return [], []
            self.journal.wait_change(0)  # watching from before the first read: no commit is missed
        j = self.journal
        j.set_aside = []
        with j.transaction(write=False):
            states = j.states("open")
        return states, [d.text() for d in dict.fromkeys(j.set_aside)]

    def frame(self) -> dict[str, Any]:
        from geohazard_cli.board import frame
        from geohazard_cli.deadlines import due

        states, notices = self.states()
        at = self.clock(states)

        def decider_of(plan: str) -> str | None:
            profile = self.profile_of(plan)
            return profile.decisions.decider if profile is not None else None

        def grade_names(plan: str) -> dict[str, str] | None:
            profile = self.profile_of(plan)
            return {g.key: g.name for g in profile.grades} if profile is not None else None

        f = frame(states, due(states, at, self.local, self.profile_of), at, decider_of, grade_names)
        f["notices"] = notices
        f["journal"] = self.journal is not None
        return f

    def wait(self, seconds: float) -> None:
        """Until the next refresh: ``seconds``, or sooner when another officer writes to the journal
        (PostgreSQL: LISTEN/NOTIFY; SQLite: its data_version looked at every quarter second)."""
        if self.journal is None:
            time.sleep(seconds)
        else:
            self.journal.wait_change(seconds)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


# --- rendering: a frame -> (text, style) lines ------------------------------------------------------

def _hm(iso: str | None) -> str:
    return iso[11:16] if iso else "—"


def _calls(u: dict[str, Any]) -> str:
    from geohazard_cli.timeline import OUTCOME_LABELS

    if not u["attempts"]:
        return "未呼叫"
    outcome = OUTCOME_LABELS.get(u["last_outcome"] or "", u["last_outcome"] or "")
    return f"已拨{u['attempts']}次,末次{outcome} {_hm(u['called_at'])}({u['minutes_since_call']}分钟前)"


def _unit_line(u: dict[str, Any]) -> tuple[str, str]:
    dial = f"  {'再拨' if u['attempts'] else '拨'} {u['next_number']}" if u["next_number"] else ""
    if u["standing"] == "overdue":
        return f"  【逾期 {minutes_text(u['minutes_late'])}】 {u['unit']}  {_calls(u)}{dial}", OVERDUE
    left = f"剩 {u['minutes_left']}分" if u["minutes_left"] is not None else "待应答"
    return f"  {left}  {u['unit']}  {_calls(u)}{dial}", WAITING


def _unit_lines(units: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """A line per unit called this round; the units not yet called, and those answered, each a line
    per group (same standing and minutes), so the board fits a terminal."""
    out: list[tuple[str, str]] = []
    groups: dict[tuple[str, int | None], list[str]] = {}
    answered = []
    for u in units:
        if u["standing"] == "answered":
            answered.append(f"{u['unit']} {_hm(u['answered_at'])}")
        elif u["attempts"]:
            out.append(_unit_line(u))
        else:
            groups.setdefault((u["standing"], u["minutes_late"] if u["standing"] == "overdue" else u["minutes_left"]),
                              []).append(u["unit"])
    for (standing, minutes), names in groups.items():
        if standing == "overdue":
            late = minutes_text(minutes or 0)
            out.append((f"  【逾期 {late}】 未呼叫({len(names)}): " + "、".join(names), OVERDUE))
        else:
            left = f"剩 {minutes_text(minutes)}" if minutes is not None else "待应答"
            out.append((f"  {left}  未呼叫({len(names)}): " + "、".join(names), WAITING))
    if answered:
        out.append((f"  已应答({len(answered)}): " + "、".join(answered), DONE))
    return out


def _level(r: dict[str, Any]) -> str:
    if r["kind"] == "warning":
        return f"{r['level_name']}预警" if r["level_name"] and not r["level_name"].endswith("预警") else r["level_name"]
    pending = f",待{r['decider']}决定" if r["decider"] else ""
    who = f"{r['decided_by']}决定" if r["decided_by"] else f"接报级别{pending}"
    return f"现行 {r['level_name']}({who})"


def frame_lines(f: dict[str, Any], interval: float | None = None) -> list[tuple[str, str]]:
    """The board as lines, each with its rich style ("" none): the text alone reads the same."""
    from geohazard_cli.board import reported_text
    from geohazard_cli.deadlines import FILENAME

    head = f"叫应看板 {f['at'][:10]} {f['at'][11:19]} · 开放响应 {len(f['responses'])} · 逾期 {f['overdue']}"
    if interval is not None:
        head += f" · 每{interval:g}秒刷新,Ctrl-C 退出"
    out = [(head, HEAD)]
    out += [(f"注意: {n}", NOTE) for n in f.get("notices", [])]
    if not f.get("journal", True):
        out.append(("日志尚不存在(第一次 incident open 或 warning --record 后出现)", NOTE))
    elif not f["responses"]:
        out.append(("没有开放的响应", NOTE))
    if not f["configured"]:
        out.append((f"注意: 配置目录中没有 {FILENAME},不计时限,只列叫应情况", NOTE))
    for r in f["responses"]:
        mark = "【演练】" if r["exercise"] else ""
        where = f" {r['location']}" if r["location"] else ""
        out.append(("", ""))
        out.append((f"{mark}{r['kind_name']} #{r['id']}{where} · {_level(r)}", HEAD))
        if r.get("reported"):
            figures, grade = reported_text(r["reported"])
            out.append((f"  报告数为范围或估计: {figures} · 等级 {grade}", WAITING))
        if r["proposed"]:
            p = r["proposed"]
            decider = f"待{p['decider']}决定" if p["decider"] else "待决定"
            out.append((f"  建议 {p['level_name']}({decider};备好该级别的呼叫名单)", WAITING))
        limit = f" · 应答时限 {r['answer_minutes']} 分钟(本局规定)" if r["answer_minutes"] else ""
        out.append((f"  本轮叫应 {_hm(r['round_started_at'])} 起 · 已应答 {r['answered']}/{len(r['units'])}"
                    f"{limit}", ""))
        out += _unit_lines(r["units"])
        for d in r["reports"]:
            rule = d.get("deadline") or {}  # whose deadline: the bureau's, or the plan's clause
            whose = "(本局规定)" if rule.get("local") else f"({rule['clause']})" if rule.get("clause") else ""
            if d["overdue"]:
                late = minutes_text(d["minutes_late"])
                out.append((f"  【逾期 {late}】 {d['report_name']} 应于 {_hm(d['due_at'])} 前{whose}", OVERDUE))
            else:
                left = minutes_text(d["minutes_left"])
                out.append((f"  剩 {left}  {d['report_name']} 应于 {_hm(d['due_at'])} 前{whose}", WAITING))
    return out


def renderable(lines: list[tuple[str, str]]) -> Any:
    from rich.console import Group
    from rich.text import Text

    return Group(*(Text(text, style=style or "", overflow="fold") for text, style in lines))


# --- the command ------------------------------------------------------------------------------------

@app.command("watch")
def watch(
    interval: Annotated[float, typer.Option(
        "--interval", min=0.2, max=3600, help="Seconds between refreshes from the journal.")] = 5.0,
    once: Annotated[bool, typer.Option(
        "--once", help="Print one frame and exit (plain text when piped): for scripts and tests.")] = False,
    bell: Annotated[bool, typer.Option(
        "--bell", help="Ring the terminal bell when something becomes overdue (once, when it does).")] = False,
    at: Annotated[str | None, typer.Option(
        "--at", help="A fixed clock for drills and tests (default: now, moving): ISO 8601 or '2026-07-21 "
        "09:40'.", show_default=False)] = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
) -> int:
    """A live board of the open responses: each one's level in force and a proposed level (建议, with
    who decides), each unit's 叫应 this round (answered, or calls so far, the last outcome, minutes
    since the call), countdowns to the answer and report (速报/续报) deadlines, overdue rows in red and
    marked 逾期. Refreshed from the journal every --interval seconds, and at once when another
    officer writes (PostgreSQL: LISTEN/NOTIFY; SQLite: polled every 0.25 s); Ctrl-C exits.

    Example: geohazard incident watch --bell
    """
    from geohazard_cli.board import overdue_keys

    source = Source(db, config_dir, at)
    try:
        if format is TextJson.json:  # one frame, as data
            from geohazard_cli.cli._common import emit_json

            emit_json(source.frame())
            return 0
        if once:
            _show_once(source.frame())
            return 0
        seen = frozenset(overdue_keys(f := source.frame()))
        ring = bell and bool(seen)  # the board starting over late rows: they became overdue unseen
        import signal

        def _stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt  # `kill`/`timeout`: leave as Ctrl-C does (Live restores the cursor)

        signal.signal(signal.SIGTERM, _stop)
        if sys.stdout.isatty():
            _live(source, f, interval, bell, ring, seen)
        else:
            _log(source, f, interval, bell, ring, seen)
    except KeyboardInterrupt:
        return 0
    finally:
        source.close()
    return 0


def _show_once(f: dict[str, Any]) -> None:
    lines = frame_lines(f)
    if not sys.stdout.isatty():
        print("\n".join(text for text, _ in lines))
        return
    from geohazard_cli.cli.term import Term

    Term().lines([[(text, style)] for text, style in lines])


def _ring(on: bool) -> None:
    if on:
        sys.stdout.write(BEL)
        sys.stdout.flush()


def _live(source: Source, f: dict[str, Any], interval: float, bell: bool, ring: bool,
          seen: frozenset[tuple[int, str, str]]) -> None:
    from rich.console import Console
    from rich.live import Live

    from geohazard_cli.board import overdue_keys

    # the board redraws in place: rich's Live (the only command that imports rich); markup off
    console = Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False, markup=False)
    with Live(renderable(frame_lines(f, interval)), console=console, auto_refresh=False,
              redirect_stdout=False, redirect_stderr=False) as live:
        while True:
            _ring(ring)
            source.wait(interval)
            f = source.frame()
            now = overdue_keys(f)
            ring, seen = bell and bool(now - seen), now
            live.update(renderable(frame_lines(f, interval)), refresh=True)


def _log(source: Source, f: dict[str, Any], interval: float, bell: bool, ring: bool,
         seen: frozenset[tuple[int, str, str]]) -> None:
    """Piped: a plain frame each time the board changes (the clock line aside)."""
    from geohazard_cli.board import overdue_keys

    shown: list[str] | None = None
    while True:
        lines = [text for text, _ in frame_lines(f, interval)]
        if shown is None or lines[1:] != shown[1:]:
            print("\n".join(lines) + "\n", flush=True)
            shown = lines
        _ring(ring)
        source.wait(interval)
        f = source.frame()
        now = overdue_keys(f)
        ring, seen = bell and bool(now - seen), now
