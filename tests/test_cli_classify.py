"""`geohazard classify` end to end, in-process through the error boundary, plus one subprocess
smoke test of the installed command."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli.intake import TIME_EXAMPLES

BAD = Path(__file__).parent / "data" / "bad"
COUNT = "a whole number of people, 0 or more (examples: 140, 1,000, １４０)"
AMOUNT = "(examples: 3000000, 3,000,000, 500万, 1.2亿)"


def test_brief_example_json(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--evacuees", "140", "--deaths", "1", "--format", "json")
    assert r.exit_code == 0 and r.stderr == ""
    data = json.loads(r.stdout)
    assert data["grade"] == "medium"
    assert data["grade_name"] == "中型"
    assert data["response_level"] == "II"
    assert data["deciding"] == ["evacuees"]
    assert data["not_reported"] == ["potential_loss", "direct_loss"]
    assert data["lower_bound"] is True
    assert data["lead"]["name"] == "市指挥部"
    assert data["skip_level_report"]["applies"] is True
    assert data["incident"]["evacuees"] == 140 and data["incident"]["deaths"] == 1
    basis = {b["indicator"]: b for b in data["basis"]}
    assert basis["evacuees"] == {
        "indicator": "evacuees", "name": "需搬迁转移人数", "category": "险情", "unit": "人", "reported": True,
        "value": 140, "value_text": "140人", "grade": "medium", "grade_name": "中型",
        "bound": {"lower": "100", "upper": "500", "text": "100人以上、500人以下"}, "source": "4(3); 附件2",
    }
    assert basis["potential_loss"]["reported"] is False and basis["potential_loss"]["value"] is None


def test_money_is_exact_text_in_json(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--direct-loss", "4999999.99", "--format", "json")
    data = json.loads(r.stdout)
    assert data["incident"]["direct_loss"] == "4999999.99"
    assert data["grade"] == "medium"


def test_text_panel(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--evacuees", "140", "--deaths", "1", "--potential-loss", "３００万",
            "--hazard-type", "landslide", "--location", "七里山街道")
    assert r.exit_code == 0
    out = r.stdout
    for expected in ("中型(至少)", "II级响应", "市指挥部", "需搬迁转移人数", "140人", "300万元",
                     "100人以上、500人以下", "未报告", "直接经济损失", "越级上报:适用", "滑坡", "七里山街道"):
        assert expected in out, expected
    assert "\x1b[" not in out  # not a terminal: plain text


def test_national_profile(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--deaths", "12", "--plan", "national-2006", "--format", "json")
    data = json.loads(r.stdout)
    assert (data["plan"], data["grade"], data["response_level"]) == ("national-2006", "large", "II")


def test_rules_file_option(cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--deaths", "3", "--rules", str(cfg / "rules" / "national-2006.yaml"), "--format", "json")
    assert json.loads(r.stdout)["response_level"] == "III"


def test_config_dir_env(cli, cfg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(cfg / "rules", tmp_path / "rules")
    (tmp_path / "rules" / "profiles.yaml").write_text("default: national-2006\n", encoding="utf-8")
    monkeypatch.setenv("GEOHAZARD_CONFIG_DIR", str(tmp_path))
    r = cli("classify", "--deaths", "3", "--format", "json")
    assert json.loads(r.stdout)["plan"] == "national-2006"


def test_file_and_flags_overlay(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "incident.yaml"
    f.write_text("hazard_type: 崩塌\nevacuees: 60\npotential_loss: 300万\nreported_at: 2026-07-21 09:40\n",
                 encoding="utf-8")
    r = cli("classify", "--file", str(f), "--evacuees", "600", "--format", "json")
    data = json.loads(r.stdout)
    assert data["incident"]["evacuees"] == 600
    assert data["incident"]["potential_loss"] == "3000000"
    assert data["incident"]["reported_at"] == "2026-07-21T09:40:00+08:00"
    assert data["grade"] == "large"


def test_stdin_json(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--file", "-", "--format", "json", stdin='{"deaths": 3, "direct_loss": 4999999.99}')
    data = json.loads(r.stdout)
    assert data["incident"]["direct_loss"] == "4999999.99" and data["grade"] == "medium"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--deaths", "-1"], f'--deaths: "-1" is negative; expected {COUNT}'),
        (["--evacuees", "1.5"], f'--evacuees: "1.5" is not {COUNT}'),
        (["--evacuees", "nan"], f'--evacuees: "nan" is not {COUNT}'),
        (["--direct-loss", "nan"], f'--direct-loss: "nan" is not an amount {AMOUNT}'),
        (["--direct-loss", "inf"], f'--direct-loss: "inf" is not an amount {AMOUNT}'),
        (["--direct-loss", "1e400"], f'--direct-loss: "1e400" is not an amount {AMOUNT}'),
        (["--potential-loss", "abc万"], f'--potential-loss: "abc万" is not an amount {AMOUNT}'),
        (["--potential-loss", "5万万"], f'--potential-loss: "5万万" is not an amount {AMOUNT}'),
        (["--evacuees", "2000000000"],
         '--evacuees: "2000000000" is more than 1,500,000,000: more than plausible, likely a typo'),
        (["--hazard-type", "火山", "--deaths", "1"],
         '--hazard-type: "火山" is not a hazard type of this plan (§1.3: 崩塌 (collapse), 滑坡 (landslide), '
         "泥石流 (debris_flow), 地面塌陷 (ground_collapse), 地裂缝 (ground_fissure))"),
        (["--reported-at", "yesterday", "--deaths", "1"],
         f'--reported-at: "yesterday" is not a time ({TIME_EXAMPLES})'),
        (["--location", "七里山\x1b[31m", "--deaths", "1"],
         "--location: contains control characters; expected plain text"),
        ([], "no incident given: pass figures such as --evacuees 140 --deaths 1, or --file PATH"),
        (["--location", "七里山"], "no figure to grade on: give at least one of --evacuees (需搬迁转移人数), "
         "--potential-loss (潜在经济损失), --deaths (死亡人数), --direct-loss (直接经济损失)"),
        (["--deaths", "1", "--plan", "nowhere"], '--plan: "nowhere" is not a profile in'),
        (["--deaths", "1", "--plan", "../rules/shizhong-2023"], '--plan: "../rules/shizhong-2023" is not a profile in'),
    ],
)
def test_bad_flags(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", *args, "--format", "json")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"geohazard: error: {message}")
    assert r.stderr.count("\n") == 1


BAD_FILES = {
    "alias-bomb.yaml": ": expands to more than 200,000 values (an alias bomb?); refused",
    "python-tag.yaml": ":2: tag tag:yaml.org,2002:python/object/apply:os.system is not allowed (plain YAML only)",
    "binary.yaml": ": is a binary file, expected UTF-8 YAML or JSON text",
    "latin1.yaml": ": is not UTF-8 text (byte 24); save it as UTF-8",
    "top-list.yaml": ": the top level is a list; expected a mapping of fields",
    "unknown-field.yaml": ": casualties: unknown field (known: hazard_type, evacuees,",
    "malformed.yaml": ":3: did not find expected ',' or ']'",
    "nan.json": ": invalid JSON (NaN is not a number)",
    "big.json": f': deaths: "1E+400" is not {COUNT}',
    "big-money.json": ': direct_loss: "1E+400" is more than 100万亿元: past any real loss, likely a typo',
    "empty.yaml": ": is empty, expected a mapping of fields",
    "negative.yaml": f': evacuees: "-3" is negative; expected {COUNT}',
    "fraction.yaml": f': evacuees: "1.5" is not {COUNT}',
    "yaml-nan.yaml": f': potential_loss: "nan" is not an amount {AMOUNT}',
    "no-figure.yaml": ": no figure to grade on: give at least one of evacuees (需搬迁转移人数),",
    "hazard.json": ': hazard_type: "火山" is not a hazard type of this plan',
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files(cli, name: str) -> None:  # type: ignore[no-untyped-def]
    path = BAD / name
    r = cli("classify", "--file", str(path))
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"geohazard: error: {path}{BAD_FILES[name]}"), r.stderr
    assert r.stderr.count("\n") == 1


def test_every_bad_file_is_tested() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(BAD_FILES)


def test_python_tag_never_runs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "pwned"
    f = tmp_path / "evil.yaml"
    f.write_text(f'evacuees: 1\nx: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    assert cli("classify", "--file", str(f)).exit_code == 2
    assert not marker.exists()


def test_missing_file(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--file", "/nonexistent/x.yaml")
    assert (r.exit_code, r.stderr) == (2, "geohazard: error: /nonexistent/x.yaml: no such file\n")


def test_unknown_option_is_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--casualties", "3")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("geohazard classify: error: No such option: --casualties")
    assert r.stderr.count("\n") == 1


def test_bad_format_choice(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--deaths", "1", "--format", "xml")
    assert r.exit_code == 2 and r.stdout == ""
    assert "'xml' is not one of 'text', 'json'" in r.stderr


def test_installed_command_smoke() -> None:
    exe = shutil.which("geohazard")
    assert exe is not None, "the geohazard console script is not installed (pip install .)"
    proc = subprocess.run([exe, "classify", "--evacuees", "140", "--deaths", "1", "--format", "json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["response_level"] == "II"
    proc = subprocess.run([sys.executable, "-m", "geohazard_cli", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("geohazard ")
    proc = subprocess.run([exe, "classify", "--deaths", "x"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr


def test_text_at_80_columns_cuts_nothing(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("classify", "--evacuees", "140", "--potential-loss", "5000000.5", "--deaths", "1")
    assert r.exit_code == 0
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
    assert "…" not in r.stdout
    for whole in ("需搬迁转移人数", "500.00005万元", "500万元以上、5000万元以下", "死亡人数1人"):
        assert whole in r.stdout, whole


@pytest.mark.parametrize(("name", "content", "message"), [
    ("dup.yaml", "evacuees: 140\nevacuees: 2000\n", ":2: key 'evacuees' appears twice in one mapping; keep one"),
    ("dup.json", '{"evacuees": 140, "evacuees": 2000}',
     ": invalid JSON (key 'evacuees' appears twice in one object; keep one)"),
])
def test_duplicate_keys_refused(cli, tmp_path: Path, name: str, content: str, message: str) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    r = cli("classify", "--file", str(f))
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", f"geohazard: error: {f}{message}\n")


def test_output_to_a_directory(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("callsheet", "--deaths", "1", "--format", "html", "--output", str(tmp_path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f"geohazard: error: --output: {tmp_path} is a directory; give a file name "
                        f"(e.g. {tmp_path}/sheet.html)\n")
    assert list(tmp_path.iterdir()) == []


def test_plan_and_rules_together(cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    rules = str(cfg / "rules" / "shizhong-2023.yaml")
    r = cli("classify", "--deaths", "1", "--plan", "national-2006", "--rules", rules)
    assert (r.exit_code, r.stderr) == (2, "geohazard: error: --plan and --rules: give one of them "
                                          "(a profile name, or a rules file)\n")


def test_config_dir_without_rules(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--deaths", "1", "--config-dir", str(tmp_path))
    assert r.exit_code == 2
    assert r.stderr == (f"geohazard: error: --config-dir: {tmp_path} has no rules/ directory; a config dir holds "
                        "rules/, contacts.yaml and templates/ (copy the shipped ones to start)\n")


def test_yaml_floats_keep_every_digit(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # As a float, 4999999.999999999999 is 5000000.0: 大型 on direct loss. It is not an amount in fen.
    f = tmp_path / "x.yaml"
    f.write_text("direct_loss: 4999999.999999999999\n", encoding="utf-8")
    r = cli("classify", "--file", str(f))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (f'geohazard: error: {f}: direct_loss: "4999999.999999999999" is more precise than a fen '
                        "(0.01 yuan)\n")
    f.write_text("direct_loss: 4999999.99\n", encoding="utf-8")
    assert json.loads(cli("classify", "--file", str(f), "--format", "json").stdout)["grade"] == "medium"


def test_times_shown_in_beijing_time(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--deaths", "1", "--reported-at", "2026-07-21T01:40Z")
    assert "报告时间: 2026-07-21 09:40" in r.stdout


def test_closed_pipe_is_not_a_failure() -> None:
    # `geohazard drill run x.yaml | head -1`: exit 1 would read as "an expectation failed".
    drill = Path(__file__).resolve().parents[1] / "drills" / "qilishan-escalation.yaml"
    proc = subprocess.run(f'"{sys.executable}" -m geohazard_cli drill run "{drill}" | head -1; exit ${{PIPESTATUS[0]}}',
                          shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("演练")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_text_that_is_not_utf8_is_refused(cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    # A terminal in GBK sends bytes Python keeps as lone surrogates ("\udcff"): refused, not crashed on.
    r = cli("classify", "--location", "\udcc9\udcbd", "--deaths", "1", "--format", fmt)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ("geohazard: error: --location: is not UTF-8 text (set the terminal to UTF-8); "
                        "expected plain text\n")


def _geohazard(args: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    return subprocess.run([sys.executable, "-m", "geohazard_cli", *args], env=env, capture_output=False,
                          stderr=subprocess.PIPE, **kw)


@pytest.mark.parametrize("args", [["classify", "--deaths", "1"], ["classify", "--deaths", "1", "--format", "json"]])
def test_a_full_disk_is_said_in_one_line(args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = _geohazard(args, stdout=full)
    assert done.returncode == 2
    assert done.stderr.decode() == ("geohazard: error: cannot write the output: No space left on device "
                                    "(free some space, or write elsewhere)\n")


def test_a_closed_output_is_refused_before_anything_is_done() -> None:
    done = _geohazard(["classify", "--deaths", "1"], stdout=None, pass_fds=(), close_fds=True,
                      preexec_fn=lambda: os.close(1))
    assert done.returncode == 2
    assert done.stderr.decode() == ("geohazard: error: standard output is closed; run it with its output going "
                                    "somewhere\n")


@pytest.mark.parametrize(("text", "outcome"), [("010", 10), ("+12", 12), ("1:30", '"1:30"'), ("0x1F", '"0x1F"'),
                                               ("0b11", '"0b11"'), ("0o17", '"0o17"'), ("1_000", '"1_000"')])
def test_yaml_numbers_are_read_as_the_officer_typed_them(cli, tmp_path: Path, text: str,  # type: ignore[no-untyped-def]
                                                         outcome: int | str) -> None:
    # YAML 1.1 would read 010 as 8 and 1:30 as 90: a lower grade than the officer meant
    path = tmp_path / "f.yaml"
    path.write_text(f"deaths: {text}\n", encoding="utf-8")
    r = cli("classify", "--file", str(path), "--format", "json")
    if isinstance(outcome, int):
        assert r.exit_code == 0 and json.loads(r.stdout)["incident"]["deaths"] == outcome
    else:
        assert (r.exit_code, r.stdout) == (2, "")
        assert r.stderr.startswith(f"geohazard: error: {path}: deaths: {outcome} is not a whole number")
