"""The register's fast path (a CSV chunk checked a column at a time) against the careful path (row
by row): the same sites, and the same problems word for word, file and line included."""

from __future__ import annotations

import csv
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from geohazard_cli.config import config_dir, rules_path
from geohazard_cli.contacts_load import load_roster
from geohazard_cli.rules import load_profile
from geohazard_cli.sites import KEYS, load_bounds
from geohazard_cli.sites_load import careful_register, csv_chunks

CFG = config_dir(None)
CTX = (load_profile(rules_path(None, None, CFG)), load_roster(CFG), load_bounds(CFG))
GOOD = {"id": "T-1", "name": "测试坡", "hazard_type": "滑坡", "street": "七里山街道", "lon": "116.99",
        "lat": "36.63", "households": "10", "threatened": "120", "potential_loss": "300万",
        "responsible_name": "李四", "responsible_phone": "13900000011", "monitor_name": "王五",
        "monitor_phone": "0531-80000012", "evacuation_route": "向北", "evacuation_place": "操场", "source": "测"}
# Per column: values both paths must take alike (valid, invalid, and the odd ones in between).
CELLS = {
    "id": ["T-1", "T-2", " T-3 ", "", "T-1 "],
    "name": ["坡", " ", "", "甲\n乙", "\u3000坡", "坡\x85", "坡\x1c", "坡\u00a0"],
    "hazard_type": ["滑坡", "崩塌", "landslide", " 泥石流 ", "地震", "", "ＬＡＮＤＳＬＩＤＥ"],
    "street": ["七里山街道", "七里山", "十六里河街道办事处", "七理山街道", "", " 舜耕街道 "],
    "lon": ["116.99", "117.1", "116.85", "117.08", "nan", "inf", "", "1_16.9", " 116.9 ", "36.6", "x"],
    "lat": ["36.63", "36.43", "36.69", "36.7", "nan", "", "36.6e0"],
    "households": ["10", "", "0", "-1", "1,000", "１２", "x", " 3", "²", "1_0", "007", "00"],
    "threatened": ["120", "", "99", "100", "1000", "many", "١٢", "0100", "+5"],
    "potential_loss": ["300万", "", "0", "4999999.99", "5000000", "1.2亿", "-1", "x", "00012", "²", " 7 ", "１２",
                       "0123万", "00万", "9999999999999999万", "１万", "1.5万"],
    "responsible_name": ["李四", "", "XXX", "待填", " 赵 "],
    "responsible_phone": ["13900000011", "", "0531-80000012", "053180000012", "80000012", "8000001",
                          "010-12345678", "12900000000", "1390000001", "139 0000 0011", "１３９００００００１１",
                          "138XXXXXXXX", "0531-800000123", "0532-2345678", "13900000011\n13900000012"],
    "monitor_name": ["王五", "", "*"],
    "monitor_phone": ["0531-80000012", "", "13900000012", "0531-8000001", "x", "0531-80000012\r\n"],
    "evacuation_route": ["向北", "", " "],
    "source": ["测", ""],
}


def _row(draw: st.DrawFn, i: int) -> list[str]:
    row = {**GOOD, "id": f"T-{i}"}
    for key in draw(st.lists(st.sampled_from(sorted(CELLS)), max_size=3)):
        row[key] = draw(st.sampled_from(CELLS[key]))
    return [row[k] for k in HEADER]


HEADER = [k for k in KEYS if k != "evacuation_place"]


@st.composite
def registers(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = list(HEADER)
    if draw(st.booleans()):
        header[0] = "编号"  # the Chinese label
    rows = [_row(draw, i) for i in range(draw(st.integers(0, 12)))]
    if rows and draw(st.booleans()):  # a blank row, a short row, a long one
        at = draw(st.integers(0, len(rows) - 1))
        rows.insert(at, draw(st.sampled_from([[], [""] * len(header), rows[at][:5], [*rows[at], "extra"]])))
    return header, rows


@settings(max_examples=300, deadline=None)
@given(registers(), st.integers(1, 5))
def test_fast_and_careful_paths_agree(register: tuple[list[str], list[list[str]]], size: int) -> None:
    header, rows = register
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        careful = careful_register(path, *CTX)
        sites, problems = [], []
        for s, p in csv_chunks(path, *CTX, size=size):
            sites += s
            problems += p
    assert (sites, problems) == careful


def test_a_clean_chunk_takes_the_fast_path(tmp_path: Path) -> None:
    from geohazard_cli.sites_load import _Fast, fast_chunk

    rows = [[{**GOOD, "id": f"T-{i}"}[k] for k in KEYS] for i in range(50)]
    rows[3][KEYS.index("potential_loss")] = "2000000"
    rows[4][KEYS.index("monitor_phone")] = "80000012"  # no area code: dialled as 0531-80000012
    seen: dict[str, int] = {}
    sites = fast_chunk(list(KEYS), rows, _Fast(*CTX), seen, 0)
    assert sites is not None and len(sites) == 50 and len(seen) == 50
    assert sites[4].monitor_phone == "0531-80000012"
    rows[7][KEYS.index("responsible_phone")] = "1234"
    assert fast_chunk(list(KEYS), rows, _Fast(*CTX), {}, 0) is None  # the careful path words it


@given(st.from_regex(r"[0-9]{1,16}", fullmatch=True))
def test_whole_wan_read_as_parse_amount_reads_it(digits: str) -> None:
    from geohazard_cli.money import WAN, parse_amount
    from geohazard_cli.sites_load import _WHOLE_WAN

    v = digits + "万"
    assert _WHOLE_WAN.fullmatch(v)
    fast, careful = Decimal(v[:-1]) * WAN, parse_amount(v, "potential_loss")
    assert fast.as_tuple() == careful.as_tuple()  # the same digits and exponent: str() writes the same


@given(st.lists(st.from_regex(r"[1-9][0-9]{0,2}\.[0-9]{1,12}", fullmatch=True), min_size=1, max_size=20))
def test_degrees_as_read_are_what_repr_writes(cells: list[str]) -> None:
    # A column the fast path passes as text must be what repr of each float writes; when it
    # does not pass (a cell of zeros only after the point, say), repr writes them.
    from geohazard_cli.sites import degree_texts

    texts = degree_texts(cells)
    if texts is not None:
        assert texts == [repr(float(c)) for c in cells]
    else:
        assert any(set(c.split(".")[1]) == {"0"} for c in cells)
    assert degree_texts(["117.0", "36.6"]) is None and degree_texts(["117.10", "36.60"]) == ["117.1", "36.6"]
    assert degree_texts(["117.1\n36.6"]) is None and degree_texts(["1.2345678901234"]) is None


@settings(max_examples=300, deadline=None)
@given(registers())
def test_lines_split_at_commas_are_the_rows_csv_reads(register: tuple[list[str], list[list[str]]]) -> None:
    # sites_load.split_block (a part's lines, no quote or carriage return anywhere) against
    # fast_block on the rows the csv module reads from the same lines: the same Block or both None,
    # with the same texts and the same ids taken
    from geohazard_cli.sites import header_keys
    from geohazard_cli.sites_load import _Fast, fast_block, split_block

    labels, rows = register
    header = header_keys(Path("s.csv"), labels)  # (编号 for id, as the register reads its header)
    lines = [",".join(r) for r in rows]
    if any('"' in ln or "\r" in ln or "\n" in ln for ln in lines):
        return  # (the parts path never takes such bytes: it reads them again in one pass)
    read = list(csv.reader(lines))
    seen_a: dict[str, int] = {}
    seen_b: dict[str, int] = {}
    a = split_block(header, lines, _Fast(*CTX), seen_a, 0)
    b = fast_block(header, read, _Fast(*CTX), seen_b, 0)
    assert (a is None) == (b is None) and seen_a == seen_b
    if a is not None and b is not None:
        assert a.sites() == b.sites()
        assert {k: list(v) for k, v in a.texts.items()} == {k: list(v) for k, v in b.texts.items()}
