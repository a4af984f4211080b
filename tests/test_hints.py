"""The next-step commands a command prints work as printed: pasted, they reach the same journal."""

from __future__ import annotations

import shlex
from pathlib import Path

from geohazard_cli.cli.incident_common import db_flag


def _hint(stdout: str, prefix: str) -> list[str]:
    line = next(x for x in stdout.splitlines() if prefix in x)
    return shlex.split(line.split(prefix, 1)[1].strip(" │"))


def test_printed_ack_and_decide_lines_carry_the_journal(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "duty room").mkdir()
    db = str(tmp_path / "duty room" / "j.db")  # a space: the printed line quotes it
    r = cli("incident", "open", "--db", db, "--evacuees", "140", "--deaths", "1", "--at", "2026-07-21 09:40",
            "--occurred-at", "2026-07-21 09:30")
    assert r.exit_code == 0, r.stderr
    ack = _hint(r.stdout, "记录叫应: geohazard ")
    assert ack[:5] == ["incident", "ack", "1", "--db", db]
    placeholders = {"单位": "区应急局", "接听人": "李四", "经办人": "张三"}
    pasted = [placeholders.get(a, a) for a in ack] + ["--at", "2026-07-21 09:45"]
    r = cli(*pasted)
    assert r.exit_code == 0, r.stderr
    r = cli("incident", "update", "1", "--db", db, "--evacuees", "600", "--at", "2026-07-21 10:00")
    decide = _hint(r.stdout, "决定后记录: geohazard ")
    assert decide[:5] == ["incident", "decide", "1", "--db", db]
    r = cli(*decide, "--at", "2026-07-21 10:05")
    assert r.exit_code == 0, r.stderr


def test_without_db_the_lines_name_none_and_a_password_is_never_printed() -> None:
    assert db_flag(None) == ""
    assert db_flag("postgresql://duty:s3cret@db.example/geohazard") == " --db postgresql://duty@db.example/geohazard"
    assert db_flag("postgresql://duty@db/geohazard?sslmode=require&password=s3cret") == (
        " --db 'postgresql://duty@db/geohazard?sslmode=require'")
    assert db_flag("postgresql://duty@db/geohazard?password=s3cret&sslmode=require") == (
        " --db 'postgresql://duty@db/geohazard?sslmode=require'")
