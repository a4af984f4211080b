"""Shared fixtures: the shipped profiles, and an in-process CLI runner that goes through the one
error boundary (``geohazard_cli.cli.run``) so exit codes and messages are what a user sees."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from geohazard_cli.config import config_dir
from geohazard_cli.rules import Profile, load_profile

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["shizhong-2023", "national-2006"]

# Hypothesis' too_slow health check times the drawing of examples: on a loaded 2-core CI machine a
# stall fails a property that holds (seen: four sampled_from draws took a second). It says nothing
# about the code under test, so it is off; every other health check and the properties stay.
settings.register_profile("geohazard", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("geohazard")


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
    shutil.copy(cfg / "district.yaml", dst / "district.yaml")
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


# --- a private PostgreSQL server for the journal's second backend -------------------------------

@dataclasses.dataclass
class PgServer:
    """A server started for this test session: initdb in a temporary directory, a unix socket only."""

    base: Path
    bindir: Path
    as_postgres: list[str]  # the prefix that runs a server command as its owner (root: runuser)
    user: str = "geohazard"
    schemas: int = 0

    @property
    def socket(self) -> Path:
        return self.base / "sock"

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, db: str = "geohazard", user: str | None = None, password: str | None = None,
            schema: str | None = None) -> str:
        who = user or self.user
        if password is not None:
            who += f":{password}"
        url = f"postgresql://{who}@/{db}?host={self.socket}"
        return url + (f"&options=-csearch_path%3D{schema}" if schema else "")

    def pg_ctl(self, *args: str) -> None:
        import subprocess

        subprocess.run([*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-s", *args],
                       check=True, stdout=subprocess.DEVNULL, timeout=60)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.base / "log"), "-w", "-o",
                    f"-k {self.socket} -c listen_addresses='' -c fsync=off -c max_connections=60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def sql(self, statement: str, db: str = "geohazard") -> list[Any]:
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def fresh(self) -> str:
        """The URL of a new, empty journal (a schema of its own in the one test database)."""
        import os

        self.schemas += 1
        name = f"t{os.getpid()}_{self.schemas}"
        self.sql(f"CREATE SCHEMA {name}")
        return self.url(schema=name)


def _pg_bindir() -> Path:
    import glob
    import shutil

    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not dirs:
        pytest.fail("PostgreSQL is not installed (run scripts/install-test-deps)")
    return Path(dirs[-1])


@pytest.fixture(scope="session")
def pg_server() -> Any:
    """One private PostgreSQL server per test process, stopped and removed at the end. As root it runs
    as the ``postgres`` OS user (postgres refuses to run as root)."""
    import os
    import shutil
    import subprocess
    import tempfile

    bindir = _pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="ghpg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    server = PgServer(base, bindir, prefix)
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(server.data), "-U", server.user, "-A", "trust",
                        "-E", "UTF8", "--no-sync", "--no-instructions"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)
        # a user with a password, to see a wrong one refused; everyone else trusted on the socket
        hba = server.data / "pg_hba.conf"
        subprocess.run([*prefix, "sh", "-c", f"printf 'local all duty scram-sha-256\\nlocal all all trust\\n' > {hba}"],
                       check=True)
        os.makedirs(server.socket, exist_ok=True)
        if prefix:
            os.chown(server.socket, pw.pw_uid, pw.pw_gid)
        server.start()
        server.sql("CREATE DATABASE geohazard", db="postgres")
        server.sql("CREATE ROLE duty LOGIN PASSWORD 'right-password'")
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A new, empty PostgreSQL journal."""
    return pg_server.fresh()
