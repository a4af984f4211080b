"""The rules loader refuses unsound profiles, naming the file, key path and line."""

from pathlib import Path

import pytest

from geohazard_cli.errors import ConfigError
from geohazard_cli.rules import load_profile

SHIPPED = Path(__file__).resolve().parents[1] / "rules" / "shizhong-2023.yaml"


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{grade: medium, from: 100, below: 500,", "{grade: medium, from: 101, below: 500,",
         "indicators.0 (evacuees).bands.1.from: gap between 100 and 101"),
        ("{grade: medium, from: 100, below: 500,", "{grade: medium, from: 99, below: 500,",
         "indicators.0 (evacuees).bands.1.from: 99 overlaps the band before it (below 100)"),
        ("{grade: extra_large, from: 30,", "{grade: extra_large, from: 30, below: 100,",
         "indicators.2 (deaths).bands: the last band must have no upper bound (gap above 100)"),
        ("{grade: small, below: 3,", "{grade: small, from: 1, below: 3,",
         "indicators.2 (deaths).bands.0.from: the first band must start at 0, not 1 (gap below it)"),
        ("{grade: large, from: 10, below: 30,", "{grade: medium, from: 10, below: 30,",
         "indicators.2 (deaths).bands.2.grade: medium does not rise above the band before it"),
        ("{grade: large, from: 10, below: 30,", "{grade: huge, from: 10, below: 30,",
         "indicators.2 (deaths).bands.2.grade: 'huge' is not a grade (small, medium, large, extra_large)"),
        ("{key: medium, name: 中型, level: II,", "{key: medium, name: 中型, level: V,",
         "grades.1 (medium).level: 'V' is not a key of levels (I, II, III)"),
        ("- {grade: medium, from: 500万, below: 5000万,", "- {grade: medium, from: 500万万, below: 5000万,",
         'indicators.1.bands.1.from: "500万万" is not an amount'),
    ],
)
def test_unsound_profile(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = broken(tmp_path, old, new)
    message = error_of(path)
    assert message.startswith(f"{path}")
    assert expected in message


def test_error_names_the_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "  - key: deaths\n", "  - key: deaths\n    colour: red\n")
    line = path.read_text(encoding="utf-8").splitlines().index("    colour: red") + 1
    assert error_of(path) == f"{path}:{line}: indicators.2.colour: unknown key"


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "title: 济南市市中区突发地质灾害应急预案\n", "title: [unclosed\n")
    assert error_of(path).startswith(f"{path}:")
    assert "expected" in error_of(path) or "while parsing" in error_of(path) or "flow" in error_of(path)


def test_level_order_follows_grades(tmp_path: Path) -> None:
    path = broken(tmp_path, "{key: small, name: 小型, level: III,", "{key: small, name: 小型, level: I,")
    assert "response levels must not get lower as grades rise" in error_of(path)


def test_shipped_profiles_load(profile) -> None:  # type: ignore[no-untyped-def]
    assert [g.key for g in profile.grades] == ["small", "medium", "large", "extra_large"]
    assert [i.key for i in profile.indicators] == ["evacuees", "potential_loss", "deaths", "direct_loss"]


def test_advisory_placeholders_are_checked(tmp_path: Path) -> None:
    path = broken(tmp_path, "等级将升至{grade_name}", "等级将升至{grade}")
    assert "advisories.0.text: only {grade_name} may be filled in (found ['grade'])" in error_of(path)


def test_profile_knows_its_file(tmp_path: Path) -> None:
    path = tmp_path / "other-name.yaml"
    path.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(path).source_file == str(path.resolve())


def test_unsound_profile_at_run_time_names_the_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from geohazard_cli.config import config_dir

    cfg = tmp_path / "cfg"
    shutil.copytree(config_dir(None) / "rules", cfg / "rules")
    path = cfg / "rules" / "shizhong-2023.yaml"
    text = path.read_text(encoding="utf-8")
    old = "{grade: medium, from: 100, below: 500,"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, "{grade: medium, from: 120, below: 500,"), encoding="utf-8")
    r = cli("classify", "--deaths", "1", "--config-dir", str(cfg))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: {path}:{line}: indicators.0 (evacuees).bands.1.from: gap between 100 "
                        "and 120 (geohazard check --config-dir DIR lists every problem)\n")


def test_bad_default_names_profiles_yaml(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from geohazard_cli.config import config_dir

    cfg = tmp_path / "cfg"
    shutil.copytree(config_dir(None) / "rules", cfg / "rules")
    (cfg / "rules" / "profiles.yaml").write_text("default: foo\n", encoding="utf-8")
    r = cli("classify", "--deaths", "1", "--config-dir", str(cfg))
    assert r.stderr == (f'geohazard: error: {cfg / "rules" / "profiles.yaml"}: default: "foo" is not a profile in '
                        f"{cfg / 'rules'} (known: national-2006, shizhong-2023)\n")


def test_the_runtime_profile_has_the_schemas_fields() -> None:
    """rules.Profile (what commands read) mirrors rules_schema (what validates a file), class by class."""
    from geohazard_cli import rules, rules_schema

    pairs = [(rules.Profile, rules_schema.ProfileSchema)] + [
        (getattr(rules, name), getattr(rules_schema, name))
        for name in ("Clause", "Band", "Indicator", "GradeDef", "Lead", "LevelDef", "AdvisoryRule", "HazardType",
                     "HazardTypes", "Limits", "Plausible", "ReportStep", "Deadline", "SkipLevel", "Reporting",
                     "Decisions", "Termination", "Task", "Section", "Definition", "SummaryReport", "Uncertain",
                     "UncertainWording")]
    for runtime, schema in pairs:
        assert runtime._fields == tuple(schema.model_fields), runtime.__name__
    assert {c.__name__ for c in rules.Node.__subclasses__() if c.__module__ == rules.__name__} == \
        {r.__name__ for r, _ in pairs}
