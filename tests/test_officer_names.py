"""Input as an officer types it: short street names wherever a unit is named (as in warning --area),
and times without their date read on the drill clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli import responses
from geohazard_cli.contacts_load import load_roster
from geohazard_cli.drill import parse_scenario, schedule
from geohazard_cli.drill_run import run
from geohazard_cli.errors import InputError, NotFoundError
from geohazard_cli.rules import Profile

T0 = "2026-07-21 09:40"


@pytest.fixture(scope="module")
def roster(cfg: Path) -> Any:
    return load_roster(cfg)


@pytest.mark.parametrize("typed", ["七里山", "七里山街道", "七里山街道办事处", "七里山街办", "七里山 ", "七里"])
def test_short_street_name_is_the_street(typed: str, roster: Any, shizhong: Profile) -> None:
    key, name = responses.resolve_unit(typed, roster, [], responses.street_suffixes(shizhong))
    assert name == "七里山街道办事处" and roster.by_key[key].name == name


def test_ambiguous_short_name_lists_the_candidates(roster: Any, shizhong: Profile) -> None:
    with pytest.raises(InputError) as exc:
        responses.resolve_unit("七", roster, [], responses.street_suffixes(shizhong))
    assert str(exc.value) == '--unit: "七" could be 七里山街道办事处、七贤街道办事处; give the street\'s name'


def test_the_middle_of_street_names_lists_them(roster: Any, shizhong: Profile) -> None:
    with pytest.raises(InputError) as exc:
        responses.resolve_unit("里山", roster, [], responses.street_suffixes(shizhong))
    assert str(exc.value).startswith('--unit: "里山" is part of 七里山街道办事处、六里山街道办事处, not a street')


def test_near_miss_of_a_street_names_it(roster: Any, shizhong: Profile) -> None:
    with pytest.raises(InputError, match=r'"七理山" is not a 街道办事处 of the roster \(did you mean "七里山'):
        responses.resolve_unit("七理山", roster, [], responses.street_suffixes(shizhong))


def test_unknown_unit_still_names_the_closest(roster: Any, shizhong: Profile) -> None:
    with pytest.raises(NotFoundError, match="unknown unit"):
        responses.resolve_unit("区应急办", roster, [], responses.street_suffixes(shizhong))


def test_warning_and_ack_read_a_short_name_alike(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "j.sqlite3")
    w = cli("warning", "orange", "--area", "七里山", "--record", "--db", db, "--sent", T0, "--format", "json")
    assert w.exit_code == 0, w.stderr
    warned = [c["unit"] for c in json.loads(w.stdout)["contacts"]]
    assert "七里山街道办事处" in warned
    r = cli("incident", "ack", "1", "--unit", "七里山", "--outcome", "接通", "--db", db, "--at", T0,
            "--format", "json")
    assert r.exit_code == 0, r.stderr
    ack = json.loads(r.stdout)["ack"]
    assert ack["details"]["unit"] == "七里山街道办事处" and ack["details"]["on_call_list"] is True


def test_ack_ambiguous_short_name_is_one_line_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "j.sqlite3")
    assert cli("incident", "open", "--deaths", "1", "--db", db, "--at", T0).exit_code == 0
    r = cli("incident", "ack", "1", "--unit", "七", "--outcome", "接通", "--db", db, "--at", T0)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == ("geohazard: error: --unit: \"七\" could be 七里山街道办事处、七贤街道办事处; "
                        "give the street's name\n")


def _drill(steps: list[dict[str, object]]) -> Any:
    scenario = parse_scenario({"name": "t", "start": "2026-07-21T08:30:00+08:00", "plan": "shizhong-2023",
                               "steps": steps}, "t.yaml", None)
    return schedule(scenario)


def test_drill_ack_takes_a_short_street_name(shizhong: Profile, roster: Any) -> None:
    d = _drill([{"at": "+0m", "warning": {"level": "orange", "area": ["七里山"]}},
                {"at": "+2m", "ack": "七里山", "expect": {}}])
    r = run(d, shizhong, roster)
    assert not r.failed
    assert "七里山街道办事处" not in r.steps[1].result["unacknowledged"]


def test_drill_time_without_date_is_on_the_drill_clock(shizhong: Profile) -> None:
    d = _drill([{"at": "09:00", "report": {"evacuees": 60, "reported_at": "08:50", "occurred_at": "7月21日 8:20"}}])
    assert d.times[0].isoformat() == "2026-07-21T09:00:00+08:00"
    incident = run(d, shizhong).steps[0].result["incident"]
    assert incident["reported_at"] == "2026-07-21T08:50:00+08:00"
    assert incident["occurred_at"] == "2026-07-21T08:20:00+08:00"
