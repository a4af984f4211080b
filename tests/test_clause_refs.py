"""Every clause a rendered document cites is one its profile defines (issue 13): a document
rendered under the national profile must not cite the district plan's clauses, and the reverse.

A clause reference is a token like 6.1.3(4), 3.2.2, 8(5), 5.1-5.4 or 附件2 inside parentheses; the
profile defines the tokens that occur in its own data (every `source`, and its texts)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geohazard_cli.rules import Profile

# A bare number ("(2)", "(27个)") is not taken for a clause: a clause token has a dot, an item
# number in parentheses, or is an annex.
CLAUSE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+(?:\(\d{1,2}\))*(?:-\d{1,2}(?:\.\d{1,2})*)?"
                    r"|\d{1,2}\(\d{1,2}\)+|附件\d(?:\([一二三]\))?)$")
GROUP = re.compile(r"[((]((?:[^()()]|[((][^()()]*[))])*)[))]")
SPLIT = re.compile(r"[;;、,,\s]+")
FIND = re.compile(r"\d{1,2}(?:\.\d{1,2})*(?:\(\d{1,2}\))*(?:-\d{1,2}(?:\.\d{1,2})*)?|附件\d(?:\([一二三]\))?")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def defined(profile: Profile, roster: Path) -> set[str]:
    """The clause tokens of the profile's data, and of the roster's when the roster encodes the
    same plan (the profile cites the roster's clauses unmarked: no ``dispatch.roster_cite``)."""
    import yaml

    data: list[Any] = [dict(profile.data)]
    if not profile.dispatch.get("roster_cite"):
        data.append(yaml.safe_load(roster.read_text(encoding="utf-8")))
    out: set[str] = set()
    for text in _strings(data):
        out.update(FIND.findall(text.replace("(", "(").replace(")", ")")))
    return out


def cited(document: str) -> set[str]:
    """The clause tokens inside parentheses (one level of nesting: 6.1.3(4)) of a document."""
    flat = re.sub(r"<style>.*?</style>|<[^>]+>", " ", document, flags=re.S)
    flat = re.sub(r"\s+", "", flat).replace("(", "(").replace(")", ")")
    out: set[str] = set()
    for group in GROUP.findall(flat):
        for token in SPLIT.split(group):
            token = token.removeprefix("据").removeprefix("国家预案").removeprefix("district")
            if CLAUSE.match(token):
                out.add(token)
    return out


def documents(cli, name: str, db: Path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    plan = ("--plan", name)
    figures = [["--evacuees", "50", "--location", "七里山街道"], ["--evacuees", "140", "--deaths", "1"],
               ["--evacuees", "600", "--direct-loss", "800万", "--deaths", "4", "--injured", "7"],
               ["--deaths", "40"]]
    for fig in figures:
        for fmt in ("text", "markdown", "html", "json"):
            yield f"callsheet {fig} {fmt}", cli("callsheet", *fig, *plan, "--format", fmt).stdout
        for fmt in ("text", "markdown", "html"):
            yield f"report-form {fig} {fmt}", cli("report-form", *fig, *plan, "--format", fmt).stdout
        yield f"classify {fig}", cli("classify", *fig, *plan).stdout
    for colour in ("blue", "yellow", "orange", "red"):
        for fmt in ("text", "markdown", "html", "json", "cap"):
            yield f"warning {colour} {fmt}", cli("warning", colour, "--area", "七里山街道", *plan,
                                                 "--format", fmt).stdout
    opened = json.loads(cli("incident", "open", "--evacuees", "140", "--location", "七里山街道", *plan,
                            "--db", str(db), "--format", "json").stdout)
    ref = str(opened["id"])
    yield "incident open", cli("incident", "open", "--evacuees", "40", *plan, "--db", str(db)).stdout
    yield "incident update", cli("incident", "update", ref, "--evacuees", "600", "--db", str(db)).stdout
    yield "incident show", cli("incident", "show", ref, "--db", str(db)).stdout
    yield "incident close", cli("incident", "close", ref, "--confirm-all", "--reason", "处置完成",
                                "--db", str(db)).stdout
    for fmt in ("markdown", "html", "json"):
        yield f"incident export {fmt}", cli("incident", "export", ref, "--format", fmt, "--db", str(db)).stdout


@pytest.mark.parametrize("name", ["shizhong-2023", "national-2006"])
def test_every_cited_clause_is_the_profiles_own(cli, cfg: Path, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    from geohazard_cli.rules import load_profile

    profile = load_profile(cfg / "rules" / f"{name}.yaml")
    known = defined(profile, cfg / "contacts.yaml")
    problems = []
    for what, text in documents(cli, name, tmp_path / "j.sqlite3"):
        assert text, what
        unknown = cited(text) - known
        if unknown:
            problems.append(f"{what}: {sorted(unknown)}")
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_district_clause_under_the_national_profile(cli, cfg: Path) -> None:  # type: ignore[no-untyped-def]
    from geohazard_cli.rules import load_profile

    national = defined(load_profile(cfg / "rules" / "national-2006.yaml"), cfg / "contacts.yaml")
    assert cited("依据(8(5)):…;灾情险情(3.2.1);调整(6.1.2、6.2.2);叫应(6.3(1))") - national == {
        "8(5)", "3.2.1", "6.1.2", "6.2.2", "6.3(1)"}
    assert cited("(市中区预案(2023))(至少)(据附件1)(区2.1)(共27个单位)(2)") == {"附件1"}
