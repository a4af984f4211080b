"""The issue "Hardening", input by input: each odd but reachable input is one line on stderr naming
the flag or file (and line) and what would be accepted, exit 2, never a traceback or a silent guess.
Whole commands, in-process through the error boundary (the ``cli`` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from geohazard_cli.intake import TIME_EXAMPLES
from geohazard_cli.loader import MAX_BYTES

DATA = Path(__file__).parent / "data" / "hardening"
COUNT = "a whole number of people, 0 or more (examples: 140, 1,000, １４０)"


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.removeprefix("geohazard: error: ").rstrip("\n")


# (command line, the whole message)
CASES = [
    # 2. silent rounding: an amount is exact or refused
    (["classify", "--potential-loss", "4999999.999999999999999999999999"],
     '--potential-loss: "4999999.999999999999999999999999" is more precise than a fen (0.01 yuan)'),
    (["classify", "--direct-loss", "499.999999999999999999999999999999万"],
     '--direct-loss: "499.999999999999999999999999999999万" is more precise than a fen (0.01 yuan)'),
    # 5. numbers that are not numbers
    (["classify", "--evacuees", "10²"],
     '--evacuees: "10²" has \'²\' (U+00B2), which is not a digit this tool reads; type ASCII or '
     "full-width digits (example: 140 or １４０)"),
    (["classify", "--evacuees", "①④⓪"],
     '--evacuees: "①④⓪" has \'①\' (U+2460), which is not a digit this tool reads; type ASCII or '
     "full-width digits (example: 140 or １４０)"),
    (["classify", "--potential-loss", "٣٠٠万"],
     '--potential-loss: "٣٠٠万" has \'٣\' (U+0663), which is not a digit this tool reads; type ASCII or '
     "full-width digits (example: 500万 or ５００万)"),
    (["classify", "--evacuees", "1", "--occurred-at", "2026-07-2¹ 09:40"],
     '--occurred-at: "2026-07-2¹ 09:40" has \'¹\' (U+00B9), which is not a digit this tool reads; type '
     "ASCII or full-width digits (example: 2026-07-21 09:40)"),
    # 6. the edge of the calendar (was OverflowError, exit 3)
    *[([cmd, *sub, "--evacuees", "1", "--occurred-at", at],
       f'--occurred-at: "{at}" is outside the years 1900-2999 ({TIME_EXAMPLES})')
      for at in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00")
      for cmd, *sub in (["classify"], ["callsheet"])],
    (["classify", "--file", str(DATA / "edge-time.yaml")],
     f'{DATA / "edge-time.yaml"}: occurred_at: "9999-12-31T23:59:59-23:59" is outside the years 1900-2999 '
     f"({TIME_EXAMPLES})"),
    # 6. a YAML (or JSON) integer past int()'s 4,300 digits
    (["classify", "--file", str(DATA / "long-int.yaml")],
     f'{DATA / "long-int.yaml"}:1: an integer of 4,301 digits; at most 1,000'),
    (["classify", "--file", str(DATA / "long-int.json")],
     f'{DATA / "long-int.json"}: invalid JSON (an integer of 4,301 digits; at most 1,000)'),
    # 7. reads that are not bounded
    (["classify", "--file", "/dev/zero"],
     "/dev/zero: is a device, not a regular file; expected a YAML or JSON file"),
    # 10. bidirectional controls with the other control characters; text from files as well
    (["classify", "--evacuees", "1", "--location", "abc\u202egpj.exe"],
     "--location: contains control characters; expected plain text"),
    (["classify", "--evacuees", "1", "--notes", "a\u2066b"],
     "--notes: contains control characters; expected plain text"),
    (["classify", "--file", str(DATA / "bidi.yaml")],
     f"{DATA / 'bidi.yaml'}:2: contains control character U+202E; expected plain text"),
    (["classify", "--file", str(DATA / "escape.yaml")],
     f"{DATA / 'escape.yaml'}:2: contains control character U+001B; expected plain text"),
    (["classify", "--file", str(DATA / "escape.json")],
     f"{DATA / 'escape.json'}: notes: contains control character U+001B; expected plain text"),
    (["classify", "--file", str(DATA / "raw-escape.yaml")],
     f"{DATA / 'raw-escape.yaml'}:2: contains control character U+001B; expected plain text"),
    # was two lines, "position 24"
    (["classify", "--file", str(DATA / "raw-control.yaml")],
     f"{DATA / 'raw-control.yaml'}:2: contains control character U+0001; expected plain text"),
    (["drill", "run", str(DATA / "drill-escape.yaml")],
     f"{DATA / 'drill-escape.yaml'}:1: contains control character U+001B; expected plain text"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_refused_in_one_line(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli(*args)
    assert (r.exit_code, one_line(r.stderr)) == (2, message)


@pytest.mark.parametrize("args", [
    ["--evacuees", "-0", "--potential-loss", "-0"],
    ["--evacuees", "０", "--potential-loss", "-0.00万"],
    ["--file", str(DATA / "minus-zero.yaml")],
    ["--file", str(DATA / "minus-zero.json")],
])
def test_minus_zero_is_zero_everywhere(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    # flags, YAML and JSON agree: -0 is the number zero (YAML and JSON always read it so)
    r = cli("classify", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    figures = json.loads(r.stdout)["incident"]
    assert (figures["evacuees"], figures["potential_loss"]) == (0, "0")


def test_negative_figures_are_still_refused(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--evacuees", "-1")
    assert one_line(r.stderr) == f'--evacuees: "-1" is negative; expected {COUNT}'
    r = cli("classify", "--direct-loss", "-0.01")
    assert one_line(r.stderr) == '--direct-loss: "-0.01" is negative; an amount is 0 or more'


def test_a_fifo_nobody_writes_to_is_refused_at_once(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "incident.yaml"
    os.mkfifo(fifo)
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(cli("classify", "--file", str(fifo))), daemon=True)
    thread.start()
    thread.join(10)
    assert done, "--file on a FIFO blocked"
    r = done[0]
    assert (r.exit_code, one_line(r.stderr)) == (  # type: ignore[attr-defined]
        2, f"{fifo}: is a FIFO, not a regular file; expected a YAML or JSON file")


def test_contacts_linked_to_dev_zero(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    (copy / "contacts.yaml").unlink()
    (copy / "contacts.yaml").symlink_to("/dev/zero")
    r = cli("callsheet", "--config-dir", str(copy), "--evacuees", "1")
    assert (r.exit_code, one_line(r.stderr)) == (
        2, "/dev/zero: is a device, not a regular file; expected a YAML or JSON file")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert "contacts.yaml: (file): is a device, not a regular file" in r.stdout + r.stderr


def test_stdin_is_read_with_a_bound() -> None:
    # subprocess: a real pipe, more than the bound, never read to the end into memory
    proc = subprocess.run([sys.executable, "-m", "geohazard_cli", "classify", "--file", "-"],
                          input=b" " * (MAX_BYTES + 10), capture_output=True, timeout=60)
    assert (proc.returncode, proc.stderr.decode()) == (
        2, "geohazard: error: <stdin>: larger than 16 MiB; not a data file\n")


def test_stdin_from_dev_zero_is_refused() -> None:
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run([sys.executable, "-m", "geohazard_cli", "classify", "--file", "-"],
                              stdin=zero, capture_output=True, timeout=60)
    assert (proc.returncode, proc.stderr.decode()) == (
        2, "geohazard: error: <stdin>: larger than 16 MiB; not a data file\n")


def test_stdin_still_reads_an_incident(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("classify", "--file", "-", "--format", "json", stdin="evacuees: 140\n")
    assert r.exit_code == 0 and json.loads(r.stdout)["grade"] == "medium"


EXPLOIT = '{{ cycler.__init__.__globals__.os.system("touch %s") }}\n'


def test_a_template_cannot_run_code(cli, copy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "pwned"
    sheet = copy / "templates" / "callsheet.txt.j2"
    sheet.write_text(sheet.read_text(encoding="utf-8") + EXPLOIT % marker, encoding="utf-8")
    lines = len(sheet.read_text(encoding="utf-8").splitlines())
    r = cli("callsheet", "--config-dir", str(copy), "--evacuees", "1", "--format", "text")
    assert r.exit_code == 2
    assert one_line(r.stderr) == (f"{copy / 'templates' / 'callsheet.txt.j2'}: template error: "
                                  "access to attribute '__init__' of 'type' object is unsafe.")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert (f"error: templates/callsheet.txt.j2:{lines}: (template): reaches for '__globals__', a private "
            "attribute; templates show the data they are given and may not reach Python internals") in r.stdout
    assert not marker.exists()


def test_check_finds_private_access_no_sample_reaches(cli, copy: Path) -> None:  # type: ignore[no-untyped-def]
    (copy / "templates" / "extra.md.j2").write_text(
        "{% if false %}\n{{ x['__class__'] }}{{ y | attr('_z') }}\n{% endif %}\n", encoding="utf-8")
    r = cli("check", "--config-dir", str(copy))
    assert r.exit_code == 2
    assert "error: templates/extra.md.j2:2: (template): reaches for '__class__', a private attribute" in r.stdout


def test_warning_areas_refuse_bidi_controls_too() -> None:
    from geohazard_cli.errors import InputError
    from geohazard_cli.warning import parse_areas

    with pytest.raises(InputError) as exc:
        parse_areas(["七里山\u202e"])
    assert str(exc.value) == "--area: contains control characters; expected plain text"


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"])
def test_incident_open_at_the_edge_of_the_calendar(cli, tmp_path: Path, at: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("incident", "open", "--db", str(tmp_path / "j.db"), "--evacuees", "1", "--occurred-at", at)
    assert (r.exit_code, one_line(r.stderr)) == (
        2, f'--occurred-at: "{at}" is outside the years 1900-2999 ({TIME_EXAMPLES})')
