"""`classify` grades on plain data (intake.parse_values, grading.assess over the profile) and
writes JSON with pydantic-core, so its start-up needs no pydantic model. These tests hold that path
to the typed one: the same bytes as ``grade(parse_incident(...)).model_dump(mode="json")`` through
``emit_json``, the same panel, the same errors."""

from __future__ import annotations

import functools
import json
import marshal
import os
import shutil
import subprocess
import sys
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import to_json

from geohazard_cli import models
from geohazard_cli.errors import InputError
from geohazard_cli.fields import FIELDS, INCIDENT_FIELDS
from geohazard_cli.grading import assess, grade
from geohazard_cli.intake import parse_incident, parse_values
from geohazard_cli.models import KIND_TYPES, Assessment, Incident, incident_stub
from geohazard_cli.rules import Profile

ROOT = Path(__file__).resolve().parents[1]


def model_json(a: Assessment) -> bytes:
    """What `classify --format json` wrote before the plain path (emit_json of model_dump)."""
    return orjson.dumps(a.model_dump(mode="json"), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"


def plain_json(data: dict[str, Any]) -> bytes:
    return to_json(data, indent=2) + b"\n"  # cli._common.emit_model_json


def test_incident_model_is_the_field_table() -> None:
    """models.Incident is built from fields.FIELDS: its fields in the table's order, each optional of
    the type of its kind, and the class type checkers read (generated) says the same."""
    assert tuple(Incident.model_fields) == Incident._fields == INCIDENT_FIELDS
    empty = Incident()
    assert all(getattr(empty, f) is None for f in INCIDENT_FIELDS)  # not reported, never zero
    with pytest.raises(TypeError, match="unknown field 'buried'"):
        Incident(buried=1)
    # From the journal's JSON each kind comes back as the type intake gives it.
    ranges = {"potential_loss": {"low": "4000000", "high": 6000000, "text": "400-600万"},
              "evacuees": {"low": 80, "high": 150, "estimate": False, "text": "80-150"}}
    back = Incident.model_validate({"evacuees": 140, "potential_loss": "5000000.5",
                                    "reported_at": "2026-07-21T01:40:00Z", "ranges": ranges})
    for f in FIELDS:
        value = getattr(back, f.name)
        assert value is None or isinstance(value, typing.get_origin(KIND_TYPES[f.kind]) or KIND_TYPES[f.kind]), f.name
    assert back.potential_loss == Decimal("5000000.5") and back.reported_at == datetime(2026, 7, 21, 1, 40, tzinfo=UTC)
    assert back.ranges is not None and back.ranges["potential_loss"].low == Decimal(4000000)
    assert isinstance(back.ranges["potential_loss"].high, Decimal) and back.ranges["evacuees"].low == 80
    assert back.model_dump(mode="json")["reported_at"] == "2026-07-21T01:40:00Z"  # as pydantic writes it
    source = Path(models.__file__).read_text(encoding="utf-8")
    begin, end = "    # --- generated from fields.FIELDS ---\n", "    # --- end ---\n"
    typed = source[source.index(begin) + len(begin):source.index(end)]
    assert typed == incident_stub(), "models.py: paste the output of `python -m geohazard_cli.models` there"


NEW_FIELD = '    Field("buried", "被埋人数", "count", "被埋人数: people buried.", sheet=14),\n'


def test_a_new_field_is_one_table_entry(tmp_path: Path) -> None:
    """Adding a field to fields.FIELDS (in a copy of the package) and nothing else gives its flag and
    help, its --file key, its batch CSV header, its JSON key and value, and its line on the call sheet."""
    src = tmp_path / "src"
    shutil.copytree(Path(models.__file__).parent, src / "geohazard_cli",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    table = src / "geohazard_cli" / "fields.py"
    text = table.read_text(encoding="utf-8")
    anchor = text.index('    Field("cause",')
    table.write_text(text[:anchor] + NEW_FIELD + text[anchor:], encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(src), GEOHAZARD_CONFIG_DIR=str(ROOT), NO_COLOR="1")

    def cli(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-c", "from geohazard_cli.cli import main; main()", *args],
                              env=env, input=stdin, capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "--buried" in cli("classify", "--help") and "被埋人数: people buried." in cli("classify", "--help")
    by_flag = json.loads(cli("classify", "--evacuees", "140", "--buried", "3", "--format", "json"))
    keys = list(by_flag["incident"])
    assert keys[keys.index("cause") - 1] == "buried" and by_flag["incident"]["buried"] == 3
    by_file = json.loads(cli("classify", "--file", "-", "--format", "json", stdin="evacuees: 140\nburied: 2\n"))
    assert by_file["incident"]["buried"] == 2
    (tmp_path / "b.csv").write_text("id,evacuees,buried\na,140,4\n", encoding="utf-8")
    assert json.loads(cli("classify", "--batch", "b.csv"))["id"] == "a"  # a known column (an unknown one is refused)
    sheet = cli("callsheet", "--evacuees", "140", "--buried", "5")
    assert "被埋人数" in sheet and "5人" in sheet
    bad = subprocess.run([sys.executable, "-c", "from geohazard_cli.cli import main; main()", "classify",
                          "--buried", "-1"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "--buried" in bad.stderr


def test_profile_is_plain_data_marshal_keeps(profile: Profile) -> None:
    """What the cache keeps of a profile is plain data, and the profile built from it is the same."""
    data = profile.data
    kept = marshal.loads(marshal.dumps(data))
    assert kept == data
    assert Profile(kept) == profile
    assert Profile(kept).indicators[0].bands[0].lower == profile.indicators[0].bands[0].lower == Decimal(0)


counts = st.one_of(st.none(), st.integers(0, 2000), st.sampled_from([2, 3, 9, 10, 29, 30, 99, 100, 499, 500]))
amounts = st.one_of(
    st.none(),
    st.integers(0, 200_000_000).map(Decimal),
    st.decimals(0, 200_000_000, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal(v) for v in ("1000000", "4999999.99", "5000000", "10000000", "50000000", "100000000")]),
)
times = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                 timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)),
                                            timezone(timedelta(hours=-3, minutes=-30))])),
)
texts = st.one_of(st.none(), st.text(max_size=20))


@st.composite
def raw_incidents(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "evacuees": draw(counts), "potential_loss": draw(amounts), "deaths": draw(counts),
        "direct_loss": draw(amounts), "missing": draw(counts), "injured": draw(counts),
        "households": draw(counts), "threatened": draw(counts),
        "reported_at": draw(times), "occurred_at": draw(times),
        "hazard_type": draw(st.none() | st.sampled_from(["landslide", "滑坡", "崩塌", "debris_flow"])),
        "id": draw(texts), "location": draw(texts), "notes": draw(texts),
    }
    if all(raw[k] is None for k in ("evacuees", "potential_loss", "deaths", "direct_loss")):
        raw["deaths"] = draw(st.integers(0, 40))
    return raw


@settings(max_examples=300, deadline=None)
@given(raw=raw_incidents())
def test_plain_path_writes_the_models_bytes(profile: Profile, raw: dict[str, Any]) -> None:
    try:
        incident = parse_incident(raw, profile)
    except InputError as exc:
        with pytest.raises(InputError) as plain_exc:
            parse_values(raw, profile)
        assert str(plain_exc.value) == str(exc)
        return
    values = parse_values(raw, profile)
    assert Incident(**values) == incident
    data = assess(values, profile)
    assert plain_json(data) == model_json(grade(incident, profile))
    assert list(data["incident"]) == list(INCIDENT_FIELDS)
    assert_typed({**data, "incident": incident})


# grading.assess's data as models.Assessment reads it, each value of its field's type: the nodes do
# not validate (our code made the data), so this schema, built from their annotations, checks it.
def _typed(annotation: Any) -> Any:
    import types
    import typing

    from geohazard_cli.nodes import Node

    if isinstance(annotation, type) and issubclass(annotation, Node):
        return _schema_of(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return list[_typed(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[args[0], _typed(args[1])]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_typed(a) for a in args)]  # noqa: UP007
    return annotation


@functools.cache
def _schema_of(cls: type) -> Any:
    import typing

    from pydantic import ConfigDict, create_model

    hints = ({f.name: KIND_TYPES[f.kind] | None for f in FIELDS} if cls is Incident
             else typing.get_type_hints(cls, vars(models)))
    spec = {f: (_typed(hints[f]), cls._defaults.get(f, ...))  # type: ignore[attr-defined]
            for f in cls._fields}  # type: ignore[attr-defined]
    return create_model(f"{cls.__name__}Schema", __config__=ConfigDict(extra="forbid", strict=True,
                                                                         arbitrary_types_allowed=True), **spec)


def assert_typed(data: dict[str, Any]) -> None:
    incident = data["incident"]
    _schema_of(Assessment).model_validate({**data, "incident": incident.model_dump()
                                           if isinstance(incident, Incident) else incident})


@pytest.mark.parametrize("raw", [{"evacuees": "80-150"}, {"evacuees": "约300人", "deaths": 2},
                                 {"potential_loss": "400-600万", "missing": 1}, {"deaths": 12}])
def test_assess_gives_each_field_its_type(profile: Profile, raw: dict[str, Any]) -> None:
    values = parse_values(raw, profile)
    data = assess(values, profile)
    assert_typed({**data, "incident": Incident(**values)})
    if raw != {"deaths": 12}:  # a range or an estimate: its ends on the basis
        assert any(b["range"] for b in data["basis"])
    reported = next(b for b in data["basis"] if b["bound"])
    wrong = {**reported, "bound": {**reported["bound"], "lower": int(reported["bound"]["lower"])}}
    with pytest.raises(ValidationError):  # the schema sees a bound made an int
        assert_typed({**data, "incident": Incident(**values), "basis": [wrong]})


def test_plain_panel_is_the_models_panel(profile: Profile, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from geohazard_cli.cli.panels import print_assessment

    monkeypatch.setenv("NO_COLOR", "1")
    raw = {"evacuees": "140", "direct_loss": "500万", "missing": "2", "injured": "1", "hazard_type": "滑坡",
           "reported_at": "2026-07-21 09:40", "id": "X1"}
    incident = parse_incident(raw, profile)
    print_assessment(grade(incident, profile), profile.timezone)
    typed = capsys.readouterr().out
    print_assessment(assess(parse_values(raw, profile), profile), profile.timezone)
    assert capsys.readouterr().out == typed
    assert "滑坡" in typed and "140人" in typed


def test_cli_json_is_the_models_json(cli, shizhong: Profile) -> None:  # type: ignore[no-untyped-def]
    args = {"evacuees": "140", "potential_loss": "4999999.99", "deaths": "0", "missing": "1",
            "occurred_at": "2026-07-21T01:00:00.5Z", "hazard_type": "崩塌", "location": "七里山"}
    r = cli("classify", *[x for k, v in args.items() for x in (f"--{k.replace('_', '-')}", v)], "--format", "json")
    assert r.exit_code == 0 and r.stderr == ""
    expected = model_json(grade(parse_incident(args, shizhong), shizhong)).decode("utf-8")
    assert r.stdout == expected
    assert '"occurred_at": "2026-07-21T01:00:00.500000Z"' in r.stdout


def test_panel_shows_text_as_typed_not_as_markup(cli) -> None:  # type: ignore[no-untyped-def]
    """rich markup in an id used to crash the panel ("[/x]": exit 3) or be rendered (":smile:")."""
    r = cli("classify", "--deaths", "1", "--id", "[/x][bold]:smile:")
    assert r.exit_code == 0 and r.stderr == ""
    assert "编号 [/x][bold]:smile:" in r.stdout.splitlines()[0]
