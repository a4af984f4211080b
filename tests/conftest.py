"""Shared fixtures: the shipped profiles, and an in-process CLI runner that goes through the one
error boundary (``geohazard_cli.cli.run``) so exit codes and messages are what a user sees."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from geohazard_cli.config import config_dir
from geohazard_cli.rules import Profile, load_profile

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["shizhong-2023", "national-2006"]


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep every cache a test run makes out of the user's ~/.cache: the profile cache (cache.py)
    and, through XDG_CACHE_HOME, what fontconfig, Chromium and Mesa write for the print test.
    Subprocesses inherit both (tests that build an environment from scratch pass them on)."""
    import os

    os.environ["GEOHAZARD_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def cfg() -> Path:
    return config_dir(None)


@pytest.fixture
def copy(cfg: Path, tmp_path: Path) -> Path:
    """A writable copy of the shipped config dir (rules, templates, contacts.yaml)."""
    import shutil

    dst = tmp_path / "cfg"
    dst.mkdir()
    shutil.copytree(cfg / "rules", dst / "rules")
    shutil.copytree(cfg / "templates", dst / "templates")
    shutil.copy(cfg / "contacts.yaml", dst / "contacts.yaml")
    return dst


@pytest.fixture(scope="session", params=PROFILES)
def profile(request: pytest.FixtureRequest, cfg: Path) -> Profile:
    return load_profile(cfg / "rules" / f"{request.param}.yaml")


@pytest.fixture(scope="session")
def shizhong(cfg: Path) -> Profile:
    return load_profile(cfg / "rules" / "shizhong-2023.yaml")


@pytest.fixture(scope="session")
def national(cfg: Path) -> Profile:
    return load_profile(cfg / "rules" / "national-2006.yaml")


@dataclasses.dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """cli("classify", "--deaths", "3") -> Result, run in-process through the error boundary."""
    from geohazard_cli.cli import run

    def invoke(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            import io
            import sys

            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8"))
        capsys.readouterr()
        code = run(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke
