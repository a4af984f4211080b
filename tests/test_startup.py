"""Start-up cost cannot creep back: what `classify --format json` imports, and the YAML cache.

Not timed (wall-clock tests are flaky); benchmarks/bench.py measures time. These tests check the
causes instead: modules that must not be imported, and a cache that must never serve stale data.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geohazard_cli import cache

ROOT = Path(__file__).resolve().parents[1]

# Runs the CLI in a fresh interpreter, then reports every module loaded (stdout goes to a file).
PROBE = """
import json, os, sys
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
saved = os.dup(1)
os.dup2(out, 1)
from geohazard_cli.cli import run
code = run(sys.argv[2:])
sys.stdout.flush()
os.dup2(saved, 1)
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

HEAVY = ("rich", "jinja2", "markupsafe", "pygments", "sqlite3", "_sqlite3")


def probe(tmp_path: Path, *args: str, cache_dir: Path | None = None) -> tuple[int, set[str], str]:
    # The child imports geohazard_cli the way this process did (installed package, or PYTHONPATH=src),
    # so the cache keys it computes match the ones the tests forge here.
    env = dict(os.environ, NO_COLOR="1")
    env.pop("GEOHAZARD_CONFIG_DIR", None)
    env[cache.ENV_CACHE_DIR] = str(cache_dir if cache_dir is not None else tmp_path / "cache")
    out = tmp_path / "stdout.txt"
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], env=env, capture_output=True,
                          text=True, check=True)
    report = json.loads(done.stdout)
    return report["code"], set(report["modules"]), out.read_text(encoding="utf-8")


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_classify_json_imports_no_rich_or_jinja2(tmp_path: Path) -> None:
    code, modules, out = probe(tmp_path, "classify", "--deaths", "12", "--format", "json")
    assert code == 0
    assert json.loads(out)["grade"] == "large"
    assert not roots(modules) & set(HEAVY), sorted(roots(modules) & set(HEAVY))


# Not needed by `classify --format json` once the cache is warm: it builds the profile from the cached
# plain data (no schema models, no import graph), grades it (grading.assess) and writes with
# pydantic-core, which typer has loaded already.
WARM_UNUSED = ("yaml", "geohazard_cli.models", "geohazard_cli.rules_schema", "geohazard_cli.loader",
               "geohazard_cli.modgraph", "pickle", "orjson", "unicodedata")


def test_classify_json_skips_yaml_and_models_once_cached(tmp_path: Path) -> None:
    first = probe(tmp_path, "classify", "--deaths", "12", "--format", "json")
    second = probe(tmp_path, "classify", "--deaths", "12", "--format", "json")
    assert "yaml" in roots(first[1])  # the first run parses and fills the cache
    assert "geohazard_cli.rules_schema" in first[1]
    assert not second[1] & set(WARM_UNUSED), sorted(second[1] & set(WARM_UNUSED))
    assert first[2] == second[2]
    assert not roots(second[1]) & set(HEAVY)


def test_classify_text_skips_the_models_once_cached(tmp_path: Path) -> None:
    probe(tmp_path, "classify", "--deaths", "12")
    code, modules, out = probe(tmp_path, "classify", "--deaths", "12")
    assert code == 0 and "大型" in out
    unused = set(WARM_UNUSED) - {"unicodedata"}  # the text's widths (textlayout)
    assert not modules & unused, sorted(modules & unused)


def test_classify_text_imports_no_jinja2_or_rich(tmp_path: Path) -> None:
    code, modules, out = probe(tmp_path, "classify", "--deaths", "12")
    assert code == 0 and "大型" in out
    assert not roots(modules) & {"rich", "jinja2", "markupsafe", "sqlite3"}  # the panel is cli/term.py's


# `incident ack`, the command of the 叫应 loop, once the caches are warm: it needs of the warning
# section only its street suffixes (a plain cache entry, not the section's models) and of the roster
# no overlay schema when there is no contacts.local.yaml; nothing parses YAML or compiles a template.
ACK_UNUSED = ("yaml", "jinja2", "geohazard_cli.warning", "geohazard_cli.warning_rules", "geohazard_cli.contacts_local",
              "geohazard_cli.rules_schema", "geohazard_cli.modgraph", "geohazard_cli.dispatch")


def test_incident_ack_imports_once_cached(tmp_path: Path) -> None:
    db = str(tmp_path / "j.sqlite3")
    code, _, _ = probe(tmp_path, "incident", "open", "--evacuees", "140", "--db", db, "--format", "json")
    assert code == 0
    # A short street name is resolved through the roster and the profile's street suffixes.
    short = ("incident", "ack", "1", "--unit", "七里山", "--outcome", "未接", "--db", db)
    first = probe(tmp_path, *short)
    assert "geohazard_cli.warning_rules" in first[1]  # the first run validates the section, fills the cache
    code, modules, out = probe(tmp_path, *short)
    assert code == 0 and "七里山街道办事处:未接" in out, out
    assert not (modules | roots(modules)) & set(ACK_UNUSED), sorted((modules | roots(modules)) & set(ACK_UNUSED))
    assert len(list((tmp_path / "cache").glob("shizhong-2023.warning-facts-*.marshal"))) == 1
    # A unit named as the call list names it needs neither the roster nor the profile's sections.
    ack = ("incident", "ack", "1", "--unit", "区应急局", "--outcome", "未接", "--db", db)
    code, modules, out = probe(tmp_path, *ack)
    assert code == 0 and "区应急局:未接" in out, out
    unused = {*ACK_UNUSED, "geohazard_cli.contacts", "geohazard_cli.contacts_load"}
    assert not (modules | roots(modules)) & unused, sorted((modules | roots(modules)) & unused)


def test_the_overlay_schema_is_imported_only_with_an_overlay(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    for name in ("rules", "templates"):
        shutil.copytree(ROOT / name, cfg / name)
    for name in ("contacts.yaml", "response.local.yaml"):
        shutil.copy(ROOT / name, cfg / name)
    args = ("callsheet", "--evacuees", "140", "--config-dir", str(cfg))
    code, modules, _ = probe(tmp_path, *args)
    assert code == 0 and "geohazard_cli.contacts_local" not in modules
    shutil.copy(ROOT / "examples" / "contacts.local.yaml", cfg / "contacts.local.yaml")
    code, modules, _ = probe(tmp_path, *args)  # the example is placeholders: it merges nothing
    assert code == 0 and "geohazard_cli.contacts_local" in modules


# --- the YAML cache ----------------------------------------------------------------------------------

@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg"
    shutil.copytree(ROOT / "rules", cfg / "rules")
    return cfg


def _grade_name(tmp_path: Path, cfg: Path, cache_dir: Path) -> str:
    _, _, out = probe(tmp_path, "classify", "--config-dir", str(cfg), "--deaths", "12", "--format", "json",
                      cache_dir=cache_dir)
    return str(json.loads(out)["grade_name"])


def test_cache_notices_an_edited_rules_file(tmp_path: Path, config_copy: Path) -> None:
    cache_dir = tmp_path / "c"
    assert _grade_name(tmp_path, config_copy, cache_dir) == "大型"
    assert len(list(cache_dir.glob("*.marshal"))) == 2  # profiles.yaml and the profile
    rules = config_copy / "rules" / "shizhong-2023.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("{key: large, name: 大型,", "{key: large, name: 大型X,"), encoding="utf-8")
    assert _grade_name(tmp_path, config_copy, cache_dir) == "大型X"


def _forged(entry_bytes: bytes) -> bytes:
    """A well-made entry for the same key and sources, with one grade renamed."""
    key, code, data = marshal.loads(entry_bytes)
    data["grades"][2]["name"] = "forged"
    return marshal.dumps((key, code, data))


def test_cache_ignores_damaged_or_foreign_entries(tmp_path: Path, config_copy: Path) -> None:
    cache_dir = tmp_path / "c"
    assert _grade_name(tmp_path, config_copy, cache_dir) == "大型"
    rules = (config_copy / "rules" / "shizhong-2023.yaml").resolve()
    entry = cache._entry(cache_dir, rules)  # the profile as plain data, which classify reads
    assert entry.is_file()
    forged = _forged(entry.read_bytes())
    entry.write_bytes(b"\x00garbage")
    assert _grade_name(tmp_path, config_copy, cache_dir) == "大型"
    # well-formed entries for the right key, but writable by others: not trusted
    entry.write_bytes(forged)
    os.chmod(entry, 0o600)
    assert _grade_name(tmp_path, config_copy, cache_dir) == "forged"  # the forgery is well made...
    entry.write_bytes(forged)
    os.chmod(entry, 0o666)
    assert _grade_name(tmp_path, config_copy, cache_dir) == "大型"  # ...but not trusted when others can write
    # A private entry in a directory others can write to (they could have swapped it in): not trusted.
    entry.write_bytes(forged)
    os.chmod(entry, 0o600)
    os.chmod(cache_dir, 0o777)
    try:
        assert _grade_name(tmp_path, config_copy, cache_dir) == "大型"
    finally:
        os.chmod(cache_dir, 0o700)
    entry.write_bytes(forged)
    os.chmod(entry, 0o600)
    assert _grade_name(tmp_path, config_copy, cache_dir) == "forged"  # the same entry, the directory private
    # An entry whose recorded sources do not match the code in force (a digest changed): a miss.
    key, code, data = marshal.loads(forged)
    stale = tuple((rel, (size + 1, crc, adler)) for rel, (size, crc, adler) in code)
    entry.write_bytes(marshal.dumps((key, stale, data)))
    os.chmod(entry, 0o600)
    assert _grade_name(tmp_path, config_copy, cache_dir) == "大型"


# Loads a profile with the package found on PYTHONPATH (a copy), and says whether the cache missed
# (the schema module had to be imported to validate the file).
LOAD = """
import sys
from pathlib import Path
import geohazard_cli
assert geohazard_cli.__file__.startswith(sys.argv[2]), geohazard_cli.__file__
from geohazard_cli.rules import load_profile
load_profile(Path(sys.argv[1]))
print("miss" if "geohazard_cli.rules_schema" in sys.modules else "hit")
"""


def test_cache_key_is_the_modules_that_compute_the_profile(tmp_path: Path) -> None:
    """The profile entry is keyed on the sources of every module of ours the schema imports, found
    from the import graph: editing any of them (in a copy of the package) is a miss, editing a
    module outside that set is a hit."""
    from geohazard_cli import rules
    from geohazard_cli.modgraph import closure, module_file

    src = tmp_path / "src"
    shutil.copytree(Path(rules.__file__).parent, src / "geohazard_cli",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    env = dict(os.environ, PYTHONPATH=str(src), **{cache.ENV_CACHE_DIR: str(tmp_path / "c")})
    rules_file = str(ROOT / "rules" / "shizhong-2023.yaml")

    def load() -> str:
        done = subprocess.run([sys.executable, "-c", LOAD, rules_file, str(src)], env=env, capture_output=True,
                              text=True, check=True)
        return done.stdout.strip()

    computing = closure(rules.SCHEMA_MODULE, src)
    # the validators' helpers the old hand-kept list missed are found; grading is not part of it
    assert {"geohazard_cli.money", "geohazard_cli.phrasing", "geohazard_cli.loader"} <= set(computing)
    assert "geohazard_cli.grading" not in computing and "geohazard_cli.rules" not in computing
    assert load() == "miss"
    assert load() == "hit"
    for name in computing:
        path = module_file(name, src)
        assert path is not None
        path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        assert load() == "miss", name
    outside = module_file("geohazard_cli.grading", src)
    assert outside is not None
    outside.write_text(outside.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load() == "hit"


def test_cache_off_and_unwritable(tmp_path: Path, config_copy: Path) -> None:
    off = probe(tmp_path, "classify", "--config-dir", str(config_copy), "--deaths", "1", "--format", "json",
                cache_dir=Path("off"))
    assert off[0] == 0 and "yaml" in roots(off[1])
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    assert _grade_name(tmp_path, config_copy, blocked / "sub") == "大型"


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cache.ENV_CACHE_DIR, "off")
    assert cache.cache_dir() is None
    monkeypatch.delenv(cache.ENV_CACHE_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "geohazard-cli"
    calls = []
    monkeypatch.setenv(cache.ENV_CACHE_DIR, str(tmp_path / "c"))
    f = tmp_path / "a.yaml"
    f.write_text("a: 1\n")
    for _ in range(2):
        assert cache.cached_data(f, lambda: calls.append(1) or {"a": 1}) == {"a": 1}
    assert calls == [1]


def test_the_suite_writes_no_cache_into_the_users_home() -> None:
    """conftest points the profile cache and XDG_CACHE_HOME (fontconfig, Chromium) at a temporary
    directory that every subprocess inherits; nothing a test run caches lands in ~/.cache."""
    home_cache = Path(os.path.expanduser("~")) / ".cache"
    for where in (cache.cache_dir(), Path(os.environ["XDG_CACHE_HOME"])):
        assert where is not None and not where.resolve().is_relative_to(home_cache.resolve()), where


# --- typer checks the options it is given -----------------------------------------------------

def test_given_options_are_still_checked_by_typer(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--deaths", "3", "--format", "xml")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr == ("geohazard classify: error: Invalid value for '--format' / '-f': Value error, "
                        "'xml' is not one of 'text', 'json'. (see 'geohazard classify --help')\n")
    assert cli("classify", "--deaths", "3", "--format", "json").exit_code == 0


def test_typer_is_not_patched() -> None:
    """The CLI uses typer's public API only (issue "One incident core"): our code imports no private
    typer module (typer vendors click as typer._click) and no click."""
    import ast

    for path in (ROOT / "src" / "geohazard_cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.startswith(("typer._", "click"))], (path, names)


def test_district_yaml_is_read_from_the_cache_with_exact_numbers(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """district.yaml (its numbers exact decimals) is kept in the cache: a warning's CAP area and
    a register's bounds need no YAML parser once it is cached, and read the same numbers."""
    from decimal import Decimal

    from geohazard_cli.config import cached_data_file

    args = ("warning", "red", "--area", "七里山街道", "--format", "cap", "--sent", "2026-07-21 08:30")
    first = probe(tmp_path, *args)
    code, modules, out = probe(tmp_path, *args)
    assert code == 0 and "yaml" not in roots(modules) and out == first[2]
    monkeypatch.setenv(cache.ENV_CACHE_DIR, str(tmp_path / "cache"))  # the entry the commands wrote
    data = cached_data_file(ROOT / "district.yaml")
    assert data["bbox"]["west"] == Decimal("116.85") and isinstance(data["cap_area"]["margin_km"], Decimal)
