"""construct.py: data a model has validated, rebuilt without validating, must be that model exactly;
and the cached path must really skip validation (the schemas are not even built)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from geohazard_cli import cache
from geohazard_cli.construct import construct, plain

ROOT = Path(__file__).resolve().parents[1]
PROFILES = sorted(p for p in (ROOT / "rules").glob("*.yaml") if p.name != "profiles.yaml")


def test_the_roster_round_trips() -> None:
    """The roster commands read (plain objects, from the cached data) is the one the schema
    validates from contacts.yaml; the cached data is valid input to the schema too."""
    from geohazard_cli.contacts import Roster
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.contacts_schema import RosterSchema
    from geohazard_cli.loader import load_yaml

    roster = load_roster(ROOT)
    text = (ROOT / "contacts.yaml").read_text(encoding="utf-8")
    schema = RosterSchema.model_validate(load_yaml(text, "contacts.yaml"))
    assert Roster(plain(schema)) == roster
    assert roster.units[0].dial == "0531-82722671"
    assert RosterSchema.model_validate(plain(schema)) == schema


def test_the_runtime_roster_has_the_schemas_fields() -> None:
    """contacts.py (what commands read) mirrors contacts_schema.py (what validates the file), class
    by class."""
    from geohazard_cli import contacts, contacts_schema

    pairs = [(contacts.Roster, contacts_schema.RosterSchema)] + [
        (getattr(contacts, name), getattr(contacts_schema, name))
        for name in ("Duty", "Holder", "Command", "Office", "Unit", "Group", "RosterWording")]
    for runtime, schema in pairs:
        assert runtime._fields == tuple(schema.model_fields), runtime.__name__
    nodes = {c.__name__ for c in contacts.Node.__subclasses__() if c.__module__ == contacts.__name__}
    assert nodes - {"Problem"} == {r.__name__ for r, _ in pairs}  # Problem: what checks report, no file's


def test_the_runtime_dispatch_section_has_the_schemas_fields() -> None:
    """dispatch.py's section (what commands read) mirrors dispatch_schema.py (what validates it)."""
    from geohazard_cli import dispatch, dispatch_schema

    names = ("EngageRule", "LevelDispatch", "ReportSection", "Dispatch")
    for name in names:
        assert getattr(dispatch, name)._fields == tuple(getattr(dispatch_schema, name).model_fields), name
    section_nodes = {c.__name__ for c in dispatch.Node.__subclasses__() if c.__module__ == dispatch.__name__}
    assert section_nodes - {"CallList", "CallEntry", "BackupNumber"} == set(names)


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_each_profile_section_round_trips(path: Path) -> None:
    from geohazard_cli import warning_schema
    from geohazard_cli.dispatch import Dispatch
    from geohazard_cli.dispatch_schema import Dispatch as DispatchSchema
    from geohazard_cli.rules import Profile, load_profile
    from geohazard_cli.warning_rules import WarningSection, load_section

    profile = load_profile(path)
    schema = DispatchSchema.model_validate(profile.dispatch)
    assert construct(DispatchSchema, plain(schema)) == schema
    dispatch = Dispatch(plain(schema))  # what commands read: the validated data as plain objects
    from geohazard_cli.dispatch import dispatch_of

    assert dispatch_of(profile) == dispatch
    assert dispatch_of(profile) is dispatch_of(profile)
    in_memory = Profile(profile.data)  # not read from a file: validated, never from the file's cache
    assert dispatch_of(in_memory) == dispatch
    if profile.warning:
        section = load_section(profile, path.name, path.read_text(encoding="utf-8"))
        validated = warning_schema._Holder.model_validate({"warning": profile.warning}).warning
        assert WarningSection(plain(validated)) == section  # the nodes: the schema's data as it is
        assert section.model_dump() == plain(validated)  # and back, by the file's keys ("from")
        assert load_section(profile, path.name) == section


def test_the_runtime_warning_section_has_the_schemas_fields() -> None:
    """warning_rules.py's section (what commands read) mirrors warning_schema.py (what validates it),
    class by class, each alias too."""
    from geohazard_cli import warning_rules, warning_schema

    schemas = {c.__name__: c for c in warning_schema.BaseModel.__subclasses__()
               if c.__module__ == warning_schema.__name__ and c.__name__ != "_Holder"}
    nodes = {c.__name__: c for c in warning_rules.Node.__subclasses__() if c.__module__ == warning_rules.__name__}
    assert set(nodes) == set(schemas)
    for name, schema in schemas.items():
        runtime = nodes[name]
        assert runtime._fields == tuple(schema.model_fields), name
        assert {f: runtime._aliases.get(f, f) for f in runtime._fields} == {
            f: info.alias or f for f, info in schema.model_fields.items()}, name


def test_a_changed_copy_of_a_profile_is_validated_not_served_from_the_file() -> None:
    from geohazard_cli.dispatch import dispatch_of
    from geohazard_cli.errors import ConfigError
    from geohazard_cli.rules import load_profile

    profile = load_profile(ROOT / "rules" / "shizhong-2023.yaml")
    dispatch_of(profile)
    broken = profile.model_copy({"dispatch": {**profile.dispatch, "levels": {"I": {"text": "x"}}}})
    with pytest.raises(ConfigError, match=r"dispatch\.levels\.I"):
        dispatch_of(broken)


class Kind(Enum):
    A = "a"


class Leaf(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)
    amount: Decimal
    kind: Kind
    name: str = Field(alias="名称")


class Tree(BaseModel):
    model_config = ConfigDict(defer_build=True)
    leaves: list[Leaf]
    by_key: dict[str, Leaf] = {}
    pair: tuple[str, ...] = ()
    maybe: Leaf | None = None
    children: list[Tree] = []


def test_construct_converts_as_validation_does() -> None:
    data = {"leaves": [{"amount": "1.50", "kind": "a", "名称": "x"}], "by_key": {"k": {"amount": 2, "kind": "a",
                                                                                     "名称": "y"}},
            "pair": ["p", "q"], "maybe": None, "children": [{"leaves": []}]}
    built = construct(Tree, data)
    assert built == Tree.model_validate(data)
    assert built.leaves[0].amount == Decimal("1.50") and isinstance(built.by_key["k"].amount, Decimal)
    assert built.leaves[0].kind is Kind.A and built.pair == ("p", "q")
    assert plain(built) == {"leaves": [{"amount": "1.50", "kind": "a", "名称": "x"}],
                            "by_key": {"k": {"amount": "2", "kind": "a", "名称": "y"}}, "pair": ["p", "q"],
                            "maybe": None, "children": [{"leaves": [], "by_key": {}, "pair": [], "maybe": None,
                                                         "children": []}]}


PROBE = """
import json, sys
from pathlib import Path
from geohazard_cli.contacts_load import load_roster
from geohazard_cli.contacts_schema import RosterSchema
from geohazard_cli.dispatch import dispatch_of
from geohazard_cli.dispatch_schema import Dispatch
from geohazard_cli.rules import load_profile
from geohazard_cli.warning_rules import load_section
from geohazard_cli.warning_schema import _Holder as WarningSection
root = Path(sys.argv[1])
roster = load_roster(root)
profile = load_profile(root / "rules" / "shizhong-2023.yaml")
dispatch_of(profile), load_section(profile, profile.id)
print(json.dumps({"built": [m.__name__ for m in (RosterSchema, Dispatch, WarningSection) if m.__pydantic_complete__],
                  "dial": roster.find("区应急局").dial}))
"""


def test_a_cached_run_builds_no_schema(tmp_path: Path) -> None:
    """The second run reads the roster and the profile's sections from the cache: no model's schema
    is built (the first run validates, and builds them)."""
    env = dict(os.environ, **{cache.ENV_CACHE_DIR: str(tmp_path / "cache")})

    def run() -> dict[str, object]:
        done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], env=env, capture_output=True, text=True,
                              check=True)
        return dict(json.loads(done.stdout))

    first, second = run(), run()
    assert first["built"] == ["RosterSchema", "Dispatch", "_Holder"]  # _Holder validates the warning section
    assert second == {"built": [], "dial": first["dial"]} and first["dial"]


def test_commands_sharing_a_cache_agree_with_a_cold_one(tmp_path: Path) -> None:
    """Entries of one file written by different commands never stand in for each other: a warning,
    a call sheet and a drill print the same with a cache warmed by journal commands as with none."""
    env = dict(os.environ, NO_COLOR="1", **{cache.ENV_CACHE_DIR: str(tmp_path / "cache")})
    env.pop("GEOHAZARD_CONFIG_DIR", None)
    db = str(tmp_path / "j.sqlite3")

    def cli(*args: str, cold: bool = False) -> str:
        e = dict(env, **{cache.ENV_CACHE_DIR: "off"}) if cold else env
        done = subprocess.run([sys.executable, "-c", "from geohazard_cli.cli import main; main()", *args], env=e,
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("incident", "open", "--evacuees", "140", "--location", "七里山街道", "--db", db)
    cli("incident", "ack", "1", "--unit", "七里山", "--outcome", "接通", "--db", db)
    cli("warning", "blue", "--area", "七里山街道", "--record", "--db", db, "--format", "json")
    for args in (("warning", "red", "--area", "七里山街道", "--format", "json", "--sent", "2026-07-21 08:30"),
                 ("callsheet", "--evacuees", "140", "--location", "七里山街道", "--format", "json"),
                 ("drill", "run", str(ROOT / "drills" / "qilishan-escalation.yaml"), "--format", "json")):
        assert cli(*args) == cli(*args) == cli(*args, cold=True), args


@pytest.mark.parametrize("path", sorted((ROOT / "drills").glob("*.yaml")), ids=lambda p: p.stem)
def test_each_shipped_drill_round_trips(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from geohazard_cli import loader
    from geohazard_cli.drill import Scenario, read_scenario

    scenario, _ = read_scenario(path)
    assert construct(Scenario, plain(scenario)) == scenario

    def no_yaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again: the scenario was not cached")

    monkeypatch.setattr(loader, "load_yaml", no_yaml)
    again = read_scenario(path)[0]  # the second read: from the cache (its YAML dates too)
    assert again == scenario and again.start == scenario.start
