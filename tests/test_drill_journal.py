"""A drill rehearses exactly what the journal records: every shipped drill's steps are replayed into
a real journal file through the commands an officer types (`warning --record`, `incident open`,
`update`, `ack`, `close`, at the same times), and after each step the drill's pending units, grade
and level must equal what `incident show --format json` reports, and what is late what `incident due`
reports at the same time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli.cli._common import load_config
from geohazard_cli.contacts_load import load_roster
from geohazard_cli.drill import read_scenario, schedule
from geohazard_cli.drill_run import run

ROOT = Path(__file__).resolve().parents[1]
DRILLS = sorted((ROOT / "drills").glob("*.yaml"))


def _flags(figures: dict[str, Any]) -> list[str]:
    out = []
    for key, value in figures.items():
        out += ["--" + key.replace("_", "-"), value.isoformat() if hasattr(value, "isoformat") else str(value)]
    return out


@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_every_drill_step_matches_the_journal(path: Path, cli, cfg: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario, _ = read_scenario(path)
    _, profile = load_config(None, scenario.plan, None)
    roster = load_roster(cfg)
    from geohazard_cli.deadlines import load

    drilled = run(schedule(scenario, profile.timezone), profile, roster, load(cfg))
    db = str(tmp_path / "journal.sqlite3")
    open_ids: dict[str, int] = {}  # response kind -> id, as the drill keeps them

    def ok(*args: str) -> Any:
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
        return json.loads(r.stdout) if "json" in args else r.stdout

    def shown(rid: int) -> dict[str, Any]:
        return dict(ok("incident", "show", str(rid), "--db", db, "--format", "json"))

    def journal_pending() -> list[str]:
        names = [p["unit"] for kind in ("warning", "incident") if kind in open_ids
                 for p in shown(open_ids[kind])["pending"]]
        return list(dict.fromkeys(names))

    for step, result in zip(scenario.steps, drilled.steps, strict=True):
        at = result.at.isoformat()
        if step.kind == "warning":
            assert step.warning is not None
            areas = [a for area in step.warning.area for a in ("--area", area)]
            out = ok("warning", step.warning.level, *areas, "--record", "--db", db, "--sent", at, "--exercise",
                     "--format", "json")
            open_ids["warning"] = out["id"]
        elif step.kind == "report":
            figures = {"reported_at": result.at, **(step.report or {})}
            out = ok("incident", "open", *_flags(figures), "--exercise", "--at", at, "--db", db, "--format", "json")
            open_ids["incident"] = out["id"]
        elif step.kind == "update":
            ok("incident", "update", str(open_ids["incident"]), *_flags(step.update or {}), "--at", at, "--db", db,
               "--format", "json")
        elif step.kind == "decide":
            assert step.decide is not None
            ok("incident", "decide", str(open_ids["incident"]), "--level", step.decide.level, "--by",
               step.decide.by or profile.decisions.decider, "--at", at, "--db", db, "--format", "json")
        elif step.kind == "submit":
            assert step.submit is not None
            recipients = [a for to in step.submit.to for a in ("--to", to)]
            ok("incident", "report", str(open_ids["incident"]), "--kind", step.submit.report, *recipients,
               "--at", at, "--db", db, "--format", "json")
        elif step.kind == "ack":
            for spec in step.ack or []:
                # As an officer would: record the answer on each open response still waiting for it.
                waiting = [rid for rid in open_ids.values()
                           if any(spec.unit in (p["unit"], p["unit_key"]) or p["unit"].startswith(spec.unit)
                                  for p in shown(rid)["pending"])]
                for rid in waiting or [max(open_ids.values())]:
                    ok("incident", "ack", str(rid), "--unit", spec.unit, "--outcome", spec.outcome or "接通",
                       "--at", at, "--db", db, "--format", "json")
        if step.kind == "terminate":
            assert result.result["unacknowledged"] == journal_pending()
            for rid in open_ids.values():
                reason = (step.terminate.reason if step.terminate else None) or "演练结束"
                confirm = step.terminate.confirm if step.terminate else None
                confirmed = ["--confirm-all"] if confirm == "all" else [f"--confirm={n}" for n in confirm or []]
                ok("incident", "close", str(rid), *confirmed, "--reason", reason, "--at", at, "--db", db,
                   "--format", "json")
            open_ids.clear()
            continue
        if "unacknowledged" in result.result:
            assert result.result["unacknowledged"] == journal_pending(), (result.number, step.kind)
        late = ok("incident", "due", "--db", db, "--at", at, "--format", "json")
        assert result.result["overdue"] == list(dict.fromkeys(r["unit"] for r in late["overdue"])), result.number
        assert result.result["due"] == [r["report_name"] for r in late["reports_due"]], result.number
        if step.kind in ("report", "update", "decide"):
            now = shown(open_ids["incident"])
            # An update's result is the assessment: the level it calls for is proposed until decided.
            level = now["proposed_level"] or now["response_level"] if step.kind == "update" else now["response_level"]
            assert result.result["response_level"] == level
            if step.kind != "decide":
                assert result.result["grade"] == now["grade"]
            assert result.result["call_list"] == [e["unit"] for e in now["call_list"]["entries"]]
