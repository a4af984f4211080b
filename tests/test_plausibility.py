"""Plausibility: past the jurisdiction's scale (limits.warn) a figure is graded with a warning that
shows it; past limits.count/amount it is refused. Both sides of each ceiling, in both profiles."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from geohazard_cli.errors import ConfigError
from geohazard_cli.intake import implausible
from geohazard_cli.rules import Profile, load_profile

RULES = Path(__file__).resolve().parents[1] / "rules"
NATIONAL = "超过全国性重大地质灾害的规模(1000万人、1万亿元),请核对是否录入有误"

# profile file, the scale it warns past (people, yuan), its line
SCALES = [
    ("shizhong-2023.yaml", 100_000, Decimal("10000000000"), "超过本区规模(10万人、100亿元),请核对是否录入有误"),
    ("national-2006.yaml", 10_000_000, Decimal("1000000000000"),
     "超过全国性重大地质灾害的规模(1000万人、1万亿元),请核对是否录入有误"),
]


@pytest.mark.parametrize(("name", "count", "amount", "text"), SCALES)
def test_each_profile_sets_its_own_scale(name: str, count: int, amount: Decimal, text: str) -> None:
    p = load_profile(RULES / name)
    assert p.limits.warn is not None
    assert (p.limits.warn.count, p.limits.warn.amount, p.limits.warn.text, p.limits.warn.local) == (
        count, amount, text, True)
    assert (p.limits.count, p.limits.amount) == (1_500_000_000, Decimal("100000000000000"))


@pytest.mark.parametrize(("name", "count", "amount", "text"), SCALES)
@pytest.mark.parametrize("field", ["evacuees", "deaths", "missing", "injured"])
def test_count_scale_both_sides(name: str, count: int, amount: Decimal, text: str, field: str) -> None:
    p = load_profile(RULES / name)
    assert implausible({field: count}, [field], p) == []
    [line] = implausible({field: count + 1}, [field], p)
    assert line.startswith(f"{field}: {count + 1}人 (") and line.endswith(f"人: {text}")


@pytest.mark.parametrize(("name", "count", "amount", "text"), SCALES)
@pytest.mark.parametrize("field", ["potential_loss", "direct_loss"])
def test_amount_scale_both_sides(name: str, count: int, amount: Decimal, text: str, field: str) -> None:
    p = load_profile(RULES / name)
    assert implausible({field: amount}, [field], p) == []
    [line] = implausible({field: amount + Decimal("0.01")}, [field], p)
    assert line.endswith(f"元: {text}") and "is more than" in line


def test_only_the_figures_typed_are_warned_of(shizhong: Profile) -> None:
    values = {"evacuees": 200_000, "deaths": 1}
    assert implausible(values, ["deaths"], shizhong) == []  # an earlier report's figure: said then


@pytest.mark.parametrize(("name", "flag", "value", "shown"), [
    ("shizhong-2023.yaml", "--evacuees", "100000", None),
    ("shizhong-2023.yaml", "--evacuees", "100001", "warning: --evacuees: 100001人 (10.0001万人) is more than 10万人: "
                                                   "超过本区规模(10万人、100亿元),请核对是否录入有误\n"),
    ("shizhong-2023.yaml", "--direct-loss", "100亿", None),
    ("shizhong-2023.yaml", "--direct-loss", "100.0001亿", "warning: --direct-loss: 100.0001亿元 is more than 100亿元: "
                                                          "超过本区规模(10万人、100亿元),请核对是否录入有误\n"),
    ("national-2006.yaml", "--evacuees", "100001", None),
    ("national-2006.yaml", "--evacuees", "10000000", None),
    ("national-2006.yaml", "--evacuees", "10000001", "warning: --evacuees: 10000001人 (1000.0001万人) is more than "
                                                     f"1000万人: {NATIONAL}\n"),
    ("national-2006.yaml", "--potential-loss", "1万亿", None),
    ("national-2006.yaml", "--potential-loss", "10000.01亿", "warning: --potential-loss: 1.000001万亿元 is more than "
                                                            f"1万亿元: {NATIONAL}\n"),
])
def test_classify_grades_and_warns_with_the_figure(cli, name: str, flag: str, value: str,  # type: ignore[no-untyped-def]
                                                  shown: str | None) -> None:
    r = cli("classify", "--rules", str(RULES / name), flag, value, "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["grade"] == "extra_large"  # graded as given
    assert r.stderr == (shown or "")


@pytest.mark.parametrize("name", ["shizhong-2023.yaml", "national-2006.yaml"])
@pytest.mark.parametrize(("flag", "ok", "refused", "message"), [
    ("--evacuees", "1500000000", "1500000001", 'is more than 1,500,000,000: more than plausible, likely a typo'),
    ("--direct-loss", "100万亿", "100.0001万亿", "is more than 100万亿元: past any real loss, likely a typo"),
])
def test_refusal_ceiling_both_sides(cli, name: str, flag: str, ok: str, refused: str,  # type: ignore[no-untyped-def]
                                    message: str) -> None:
    assert cli("classify", "--rules", str(RULES / name), flag, ok, "--format", "json").exit_code == 0
    r = cli("classify", "--rules", str(RULES / name), flag, refused, "--format", "json")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f'geohazard: error: {flag}: "{refused}" {message}\n'


def test_file_figures_are_named_by_file_and_key(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "i.yaml"
    f.write_text("direct_loss: 500亿\n", encoding="utf-8")
    r = cli("classify", "--file", str(f), "--format", "json")
    assert r.exit_code == 0 and r.stderr.startswith(f"warning: {f}: direct_loss: 500亿元 is more than 100亿元: ")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    count: 100000    #", "    count: 1500000000    #",
     "limits.warn.count: 1500000000 is not below limits.count"),
    ("    amount: 100亿    #", "    amount: 100万亿    #",
     "limits.warn.amount: 100000000000000 is not below limits.amount"),
    ("    local: true\n    count: 100000", "    count: 100000", "limits.warn.local"),
])
def test_unsound_scale_is_refused(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = (RULES / "shizhong-2023.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "p.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert expected in str(info.value)


def test_scale_just_below_the_ceiling_is_sound(tmp_path: Path) -> None:
    text = (RULES / "shizhong-2023.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("    count: 100000    #", "    count: 1499999999    #", 1), encoding="utf-8")
    p = load_profile(path)
    assert p.limits.warn is not None and p.limits.warn.count == 1_499_999_999
