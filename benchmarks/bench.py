"""Benchmarks: start-up of `geohazard classify` and of the commands of a
shift, `classify --batch` throughput, and the journal at scale (`incident due`, a `watch` refresh,
`ack` on a long history).

Every case runs as a whole process, alternating with its baseline, several times; the script prints
medians and the ratio against each target. Data is generated into benchmarks/_data/ (gitignored).

    python benchmarks/bench.py            # full run: 1,000,000 batch records
    python benchmarks/bench.py --quick    # smoke run: 100,000 records, fewer repeats
    python benchmarks/bench.py --only startup      # or: batch, memory, commands, journal, backends, sites, rules
    python benchmarks/bench.py --only batch --compare   # and DuckDB, Polars on the same CSV (`bench` extra)

`--only journal` builds (once) a journal of 10,000 responses and 1,000,000 events and one incident of
10,000 events (benchmarks/bigjournal.py says how), shows SQLite's query plans for the reads of
`incident due` and the board, times their work in-process, and runs them as processes.
    python benchmarks/bench.py --only backends --pg postgresql://geohazard@/bench?host=/tmp/sock

Not a test: wall-clock figures vary with the machine and its load; the ratios, measured side by side
in one run, are what the targets are about. Children run with PYTHONDONTWRITEBYTECODE unset so that
the source tree's bytecode is cached as it is for an installed package (pip compiles on install).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
SRC = ROOT / "src"
CLI = [sys.executable, "-c", "from geohazard_cli.cli import main; main()"]

# (case, baseline, target ratio)
TARGETS = {
    "classify --format json": 1.15,
    "classify (text)": 1.4,
    "batch JSONL": 0.6,
    "batch CSV vs JSONL": 1.1,
    "batch 万/亿 text vs numbers": 1.5,  # the same records with money as 500万 / 1.2亿 (JSONL and CSV)
    "sites grade vs csv.reader": 3.0,
    "command start-up": 1.2,  # each command of a shift ÷ the bare typer app
    "incident due (process) vs show": 1.2,
    "incident watch --once vs show": 1.2,
    "ack on 10,000 events vs fresh": 1.1,
}
WORK_LIMIT_MS = 100.0  # `incident due` and one board refresh over the big journal
MEMORY_LIMIT_MIB = 50.0


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("GEOHAZARD_CONFIG_DIR", None)
    env["NO_COLOR"] = "1"
    return env


def run_once(cmd: list[str], stdin_path: Path | None = None) -> tuple[float, float, int]:
    """Run one whole process with stdout to /dev/null; wall seconds, peak RSS (MiB), exit code."""
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.DEVNULL, env=child_env(), cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def alternate(cases: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    """Run every case once per round, in rotating order, ``repeats`` rounds; return wall times."""
    names = list(cases)
    times: dict[str, list[float]] = {n: [] for n in names}
    for cmd in cases.values():  # warm-up: page cache, bytecode cache
        run_once(cmd)
    for i in range(repeats):
        order = names[i % len(names):] + names[: i % len(names)]
        for name in order:
            wall, _, _ = run_once(cases[name])
            times[name].append(wall)
    return times


def report(title: str, case: list[float], base: list[float], target: float) -> bool:
    """Median ratio against the target; the ratio of the best runs alongside, as a noise check."""
    ratio = statistics.median(case) / statistics.median(base)
    best = min(case) / min(base)
    ok = ratio <= target
    print(f"  {title:<28} {statistics.median(case) * 1000:9.1f} ms / {statistics.median(base) * 1000:9.1f} ms"
          f" = {ratio:5.2f}x (best runs {best:4.2f}x; target <= {target}x) {'OK' if ok else 'MISSED'}")
    return ok


# --- start-up ---------------------------------------------------------------------------------

def bench_startup(repeats: int) -> list[bool]:
    cases = {
        "bare typer app": [sys.executable, str(HERE / "bare_typer.py"), "--deaths", "12"],
        "classify --format json": [*CLI, "classify", "--deaths", "12", "--format", "json"],
        "classify (text)": [*CLI, "classify", "--deaths", "12"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    print(f"start-up: {repeats} alternating rounds, medians")
    times = alternate(cases, repeats)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"  {k:<28} {v * 1000:9.1f} ms  (min {min(times[k]) * 1000:.1f})")
    base = times["bare typer app"]
    names = ("classify --format json", "classify (text)")
    return [report(name, times[name], base, TARGETS[name]) for name in names]


# --- batch data ----------------------------------------------------------------------------------

def _amount(r: random.Random, top: float) -> int | float:
    whole = int(10 ** r.uniform(0, top))
    if r.random() < 0.3:  # a third carry fen, written as JSON numbers with two decimals
        return float(f"{whole}.{r.randint(1, 99):02d}")
    return whole


def _wan_text(r: random.Random, amount: int | float) -> str:
    """Money as a spreadsheet export or an officer writes it: 万 (亿 from 1亿) with at most two
    decimals, sometimes 元 after the unit (523.45万, 35万元, 1.2亿); below 1万, plain yuan."""
    whole = int(amount)
    if whole < 10_000:
        return str(whole)
    unit, scale = ("亿", 100_000_000) if whole >= 100_000_000 and r.random() < 0.7 else ("万", 10_000)
    q = whole / scale
    places = r.choice([0, 1, 2])
    text = f"{q:.{places}f}".rstrip("0").rstrip(".") if places else str(int(q))
    return text + unit + ("元" if r.random() < 0.2 else "")


def generate(n: int, seed: int = 20260721, money: str = "numbers") -> tuple[Path, Path]:
    """n records as JSONL and the same records as CSV; ids plus the four indicators.

    Spread over every band (log-uniform), a few exactly on bounds, ~0.1% bad records (negative,
    fractional or non-numeric figures) and ~0.1% money written as officers type it (500万).
    ``money="text"``: every amount of 1万 or more written in 万/亿 (``_wan_text``), as a
    spreadsheet export full of 500万 holds it (JSON strings in the JSONL file).
    """
    DATA.mkdir(exist_ok=True)
    tag = "" if money == "numbers" else "-wan"
    jsonl, csv_path = DATA / f"records{tag}-{n}.jsonl", DATA / f"records{tag}-{n}.csv"
    if jsonl.exists() and csv_path.exists():
        return jsonl, csv_path
    r = random.Random(seed)
    text = random.Random(seed + 1)  # its own stream: the records are the same as the numbers file's
    tmp_j, tmp_c = jsonl.with_name(jsonl.name + ".tmp"), csv_path.with_name(csv_path.name + ".tmp")
    bounds = {"evacuees": [100, 500, 1000], "potential_loss": [5_000_000, 50_000_000, 100_000_000],
              "deaths": [3, 10, 30], "direct_loss": [1_000_000, 5_000_000, 10_000_000]}
    with open(tmp_j, "w", encoding="utf-8") as fj, open(tmp_c, "w", encoding="utf-8", newline="") as fc:
        fc.write("id,evacuees,potential_loss,deaths,direct_loss\r\n")
        for i in range(n):
            rec: dict[str, object] = {
                "id": f"R{i:07d}",
                "evacuees": int(10 ** r.uniform(0, 3.4)),
                "potential_loss": _amount(r, 8.4),
                "deaths": int(10 ** r.uniform(0, 1.7)) - 1,
                "direct_loss": _amount(r, 7.4),
            }
            roll = r.random()
            if roll < 0.02:  # on a bound, or one below it
                key = r.choice(list(bounds))
                rec[key] = r.choice(bounds[key]) - r.choice([0, 1])
            elif roll < 0.021:
                rec[r.choice(list(bounds))] = r.choice([-1, 1.5, "abc", "5万万"])
            elif roll < 0.022:
                rec[r.choice(["potential_loss", "direct_loss"])] = r.choice(["500万", "1.2亿", "４９９万"])
            if money == "text":
                for key in ("potential_loss", "direct_loss"):
                    v = rec[key]
                    if type(v) in (int, float) and v >= 0:
                        rec[key] = _wan_text(text, v)  # type: ignore[arg-type]
            fj.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
            fc.write(",".join(str(rec[k]) for k in ("id", "evacuees", "potential_loss", "deaths",
                                                      "direct_loss")) + "\r\n")
    tmp_j.replace(jsonl)
    tmp_c.replace(csv_path)
    return jsonl, csv_path


# --- batch -------------------------------------------------------------------------------------

JSON_LOOP = ("import json, sys\n"
             "with open(sys.argv[1], encoding='utf-8') as fh:\n"
             "    for line in fh:\n"
             "        json.loads(line)\n")


def bench_batch(n: int, repeats: int, compare: bool = False) -> list[bool]:
    jsonl, csv_path = generate(n)
    wan_jsonl, wan_csv = generate(n, money="text")
    cases = {
        "json.loads loop": [sys.executable, "-c", JSON_LOOP, str(jsonl)],
        "batch JSONL": [*CLI, "classify", "--batch", str(jsonl)],
        "batch CSV": [*CLI, "classify", "--batch", str(csv_path)],
        "batch JSONL 万/亿": [*CLI, "classify", "--batch", str(wan_jsonl)],
        "batch CSV 万/亿": [*CLI, "classify", "--batch", str(wan_csv)],
    }
    if compare:
        cases.update(reference_engines(csv_path))
    print(f"batch: {n:,} records, {repeats} alternating rounds, medians")
    times = alternate(cases, repeats)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"  {k:<28} {v:9.2f} s   (min {min(times[k]):.2f}; {n / v / 1e6:.2f} M records/s)")
    if compare:
        for k in cases:
            if k.startswith("reference:"):
                _, rss, code = run_once(cases[k])
                print(f"  {k:<28} peak RSS {rss:.0f} MiB (exit {code}); not a target, a yardstick")
    wan = TARGETS["batch 万/亿 text vs numbers"]
    return [
        report("batch JSONL", times["batch JSONL"], times["json.loads loop"], TARGETS["batch JSONL"]),
        report("batch CSV vs JSONL", times["batch CSV"], times["batch JSONL"], TARGETS["batch CSV vs JSONL"]),
        report("JSONL 万/亿 vs numbers", times["batch JSONL 万/亿"], times["batch JSONL"], wan),
        report("CSV 万/亿 vs numbers", times["batch CSV 万/亿"], times["batch CSV"], wan),
    ]


# Reference engines reading the same CSV: each groups the records by band of one indicator, so the
# file is read and every row parsed (a yardstick for the reading, not the same work as grading).
DUCKDB = ("import duckdb, sys\n"
          "path = sys.argv[1].replace(\"'\", \"''\")\n"
          "duckdb.sql(f\"SELECT count(*), count(*) FILTER (WHERE TRY_CAST(deaths AS BIGINT) >= 30) \"\n"
          "           f\"FROM read_csv('{path}', all_varchar = true, header = true)\").fetchall()\n")
POLARS = ("import polars as pl, sys\n"
          "df = pl.read_csv(sys.argv[1], infer_schema=False)\n"
          "df.select(pl.len(), (pl.col('deaths').cast(pl.Int64, strict=False) >= 30).sum())\n")


def reference_engines(csv_path: Path) -> dict[str, list[str]]:
    """DuckDB and Polars reading the same CSV, when installed (`pip install -e '.[bench]'`): a
    reference for `--compare`, never a dependency of the tool."""
    import importlib.util

    cases = {}
    for module, script in (("duckdb", DUCKDB), ("polars", POLARS)):
        if importlib.util.find_spec(module) is None:
            print(f"  reference: {module} is not installed (pip install -e '.[bench]'); skipped")
            continue
        cases[f"reference: {module}"] = [sys.executable, "-c", script, str(csv_path)]
    return cases


# --- the hazard-site register ------------------------------------------------------------------

STREETS = ["七里山街道", "十六里河街道", "党家街道", "舜耕街道", "魏家庄街道", "陡沟街道", "兴隆街道"]
HAZARDS = ["崩塌", "滑坡", "泥石流", "地面塌陷", "地裂缝"]


def generate_sites(n: int, seed: int = 20260721) -> Path:
    """A register CSV of ``n`` sites inside district.yaml's box, with phones and figures."""
    import csv

    DATA.mkdir(exist_ok=True)
    path = DATA / f"sites-{n}.csv"
    if path.exists():
        return path
    from geohazard_cli.sites import KEYS

    r = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(KEYS)
        for i in range(n):
            w.writerow([f"S{i:06d}", f"隐患点{i}", r.choice(HAZARDS), r.choice(STREETS),
                        f"{r.uniform(116.86, 117.07):.5f}", f"{r.uniform(36.44, 36.68):.5f}", r.randint(0, 300),
                        r.randint(0, 1200), r.choice([r.randint(0, 2_000_000), f"{r.randint(1, 9000)}万"]),
                        "责任人", f"139{r.randint(0, 99_999_999):08d}",
                        "监测人", f"0531-8{r.randint(0, 9_999_999):07d}", "向北", "操场", "bench"])
    tmp.replace(path)
    return path


CSV_LOOP = ("import csv, sys\n"
            "with open(sys.argv[1], encoding='utf-8', newline='') as fh:\n"
            "    for row in csv.reader(fh):\n"
            "        pass\n")


def bench_sites(n: int, repeats: int) -> list[bool]:
    path = generate_sites(n)
    cases = {
        "csv.reader pass": [sys.executable, "-c", CSV_LOOP, str(path)],
        "sites grade": [*CLI, "sites", "grade", "--sites", str(path), "--format", "csv"],
    }
    from geohazard_cli.sites_grade import default_parts

    print(f"sites: {n:,} sites, {repeats} alternating rounds, medians; sites grade in {default_parts(path)} "
          "part(s) (sites_grade.default_parts: one process per CPU, parts of at least 4 MiB)")
    times = alternate(cases, repeats)
    for k, v in times.items():
        print(f"  {k:<28} {statistics.median(v):9.2f} s   (min {min(v):.2f})")
    _, rss, _ = run_once(cases["sites grade"])
    print(f"  sites grade peak RSS {rss:.0f} MiB")
    return [report("sites grade vs csv.reader", times["sites grade"], times["csv.reader pass"],
                   TARGETS["sites grade vs csv.reader"])]


def _tree_memory(pid: int) -> tuple[float, float]:
    """RSS and PSS (MiB) of a process and its children now, from /proc (0, 0 once it is gone).

    PSS shares each page among the processes mapping it: the honest sum for a forked child, whose
    interpreter and libraries are the parent's pages until written."""
    rss = pss = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            pids += [int(c) for c in fh.read().split()]
    except OSError:
        return 0.0, 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss / 1024, pss / 1024


def peak_memory(cmd: list[str]) -> tuple[float, float, float, int]:
    """Run once; peak RSS of the largest single process (ru_maxrss), and the peak sums of RSS and
    PSS over the process and its children (sampled every 5 ms)."""
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.DEVNULL, env=child_env(), cwd=ROOT)
        peak_rss = peak_pss = 0.0
        while True:
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            rss, pss = _tree_memory(proc.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, peak_rss, peak_pss, proc.returncode


def bench_memory(n: int) -> list[bool]:
    """Peak memory of the whole batch (interpreter, libraries, part processes and all) at two sizes.

    The target is checked against the peak PSS sum over all processes of the command: with one
    process that is its RSS less pages shared with others; with part processes (batch/parts.py)
    it counts each shared page once."""
    small = max(n // 10, 1000)
    ok = []
    print("memory: peak of the whole `classify --batch` (largest process RSS; sum over its processes "
          "of RSS and of PSS)")
    for size in (small, n):
        jsonl, csv_path = generate(size)
        for path in (jsonl, csv_path):
            largest, rss_sum, pss_sum, code = peak_memory([*CLI, "classify", "--batch", str(path)])
            good = pss_sum < MEMORY_LIMIT_MIB
            ok.append(good)
            print(f"  {path.name:<24} largest {largest:5.1f} MiB, all processes RSS {rss_sum:5.1f} / "
                  f"PSS {pss_sum:5.1f} MiB (exit {code}; PSS limit < {MEMORY_LIMIT_MIB:.0f} MiB) "
                  f"{'OK' if good else 'MISSED'}")
    return ok


# --- rules diff over records ----------------------------------------------------------------------

RULE_EDITS = [  # a revision of the district's rules: 需搬迁转移人数's medium bound moved by one, 中型 at Level I
    ('{grade: small, below: 100, source: "4(4); 附件2"}', '{grade: small, below: 101, source: "4(4); 附件2"}'),
    ('{grade: medium, from: 100, below: 500,', '{grade: medium, from: 101, below: 500,'),
    ("{key: medium, name: 中型, level: II,", "{key: medium, name: 中型, level: I,"),
]


def bench_rules(n: int) -> list[bool]:
    """`rules diff OLD NEW --batch` over n records and n/10: peak memory (flat: the larger file may not
    take more than the smaller one plus a few MiB) and time per record (printed, no target)."""
    DATA.mkdir(exist_ok=True)
    revised = DATA / "rules-revised.yaml"
    text = (ROOT / "rules" / "shizhong-2023.yaml").read_text(encoding="utf-8")
    for old, new in RULE_EDITS:
        text = text.replace(old, new)
    revised.write_text(text, encoding="utf-8")
    print("rules diff --batch: peak memory (RSS, one process) and time over two sizes")
    peaks = []
    for size in (max(n // 10, 1000), n):
        jsonl, _ = generate(size)
        cmd = [*CLI, "rules", "diff", "shizhong-2023", str(revised), "--batch", str(jsonl), "--format", "json"]
        start = time.perf_counter()
        largest, rss_sum, _, code = peak_memory(cmd)
        wall = time.perf_counter() - start
        peaks.append(max(largest, rss_sum))
        print(f"  {jsonl.name:<24} peak RSS {peaks[-1]:5.1f} MiB, {wall:6.1f} s ({wall / size * 1e6:.0f} µs a record; "
              f"exit {code}; 2: the file has bad records)")
    flat = peaks[1] < peaks[0] + 5 and peaks[1] < MEMORY_LIMIT_MIB
    print(f"  memory flat (10x the records, < +5 MiB and < {MEMORY_LIMIT_MIB:.0f} MiB): {'OK' if flat else 'MISSED'}")
    return [flat]


# One writer: `count` acks on incident 1, one transaction each (as `incident ack` does), one connection.
ACKER = r"""
import sys
from datetime import datetime, timezone
from geohazard_cli import responses
from geohazard_cli.storage import open_journal
from geohazard_cli.timeline import Outcome
j = open_journal(sys.argv[1])
for _ in range(int(sys.argv[2])):
    responses.acknowledge(j, 1, [("emergency", "区应急局")], Outcome.answered, "bench", datetime.now(timezone.utc))
j.close()
"""


def bench_backends(pg: str | None, count: int) -> list[bool]:
    """Acks per second on each backend, from 1 and from 8 writer processes on one incident (the worst
    case: every write takes the same lock). No target: figures to compare backends and releases."""
    from datetime import datetime

    from geohazard_cli import responses
    from geohazard_cli.models import Incident
    from geohazard_cli.rules import load_profile
    from geohazard_cli.storage import open_journal

    profile = load_profile(ROOT / "rules" / "shizhong-2023.yaml")
    DATA.mkdir(exist_ok=True)
    print(f"journal: acks per second ({count} per writer, one transaction each)")
    specs = {"sqlite": str(DATA / "bench.sqlite3")}
    if pg:
        specs["postgresql"] = pg
    else:
        print("  postgresql: skipped (give --pg URL of an empty database)")
    for name, spec in specs.items():
        if name == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(spec + suffix).unlink(missing_ok=True)
        else:
            import psycopg

            with psycopg.connect(spec, autocommit=True) as conn:
                conn.execute("DROP TABLE IF EXISTS events, incidents, geohazard_schema CASCADE")
                conn.execute("DROP FUNCTION IF EXISTS geohazard_append_only")
        j = open_journal(spec)
        assert j is not None
        responses.open_incident(j, Incident(evacuees=40), profile, None, datetime.now().astimezone(), False)
        j.close()
        for writers in (1, 8):
            start = time.perf_counter()
            procs = [subprocess.Popen([sys.executable, "-c", ACKER, spec, str(count)], env=child_env())
                     for _ in range(writers)]
            codes = [p.wait() for p in procs]
            wall = time.perf_counter() - start
            print(f"  {name:<10} {writers} process(es): {writers * count / wall:7.0f} acks/s "
                  f"({writers * count} in {wall:.2f} s, with start-up; exit {max(codes)})")
    return []


# --- the commands of a shift --------------------------------------------------------------------

def bench_commands(repeats: int) -> list[bool]:
    """Each command of a shift as a whole process ÷ the bare typer app (target: 1.2x each)."""
    drill = ROOT / "drills" / "qilishan-escalation.yaml"
    DATA.mkdir(exist_ok=True)
    db = DATA / "commands.sqlite3"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    subprocess.run([*CLI, "incident", "open", "--evacuees", "140", "--db", str(db), "--format", "json"], check=True,
                   stdout=subprocess.DEVNULL, env=child_env(), cwd=ROOT)
    cases = {
        "bare typer app": [sys.executable, str(HERE / "bare_typer.py"), "--deaths", "12"],
        "incident ack": [*CLI, "incident", "ack", "1", "--unit", "区应急局", "--outcome", "未接", "--db", str(db)],
        "incident open": [*CLI, "incident", "open", "--evacuees", "140", "--db", str(db)],
        "incident update": [*CLI, "incident", "update", "1", "--injured", "2", "--db", str(db)],
        "incident show": [*CLI, "incident", "show", "1", "--db", str(db)],
        "callsheet (text)": [*CLI, "callsheet", "--evacuees", "140", "--location", "七里山街道"],
        "callsheet --format html": [*CLI, "callsheet", "--evacuees", "140", "--format", "html"],
        "report-form": [*CLI, "report-form", "--evacuees", "140", "--location", "七里山街道"],
        "warning red (text)": [*CLI, "warning", "red", "--area", "七里山街道", "--sent", "2026-07-21 08:30"],
        "warning red --format cap": [*CLI, "warning", "red", "--area", "七里山街道", "--format", "cap",
                                     "--sent", "2026-07-21 08:30"],
        "drill run": [*CLI, "drill", "run", str(drill)],
    }
    print(f"commands: start-up of a shift's commands, {repeats} alternating rounds, medians")
    times = alternate(cases, repeats)
    base = times.pop("bare typer app")
    return [report(name, t, base, TARGETS["command start-up"]) for name, t in times.items()]


# --- the journal at scale -----------------------------------------------------------------------------

# The reads `incident due`, the board and a write run (journal.py), with what they must not do: scan.
PLANS = {
    "open responses (due, board)": ("SELECT id, state, call_list FROM incidents WHERE status = ? ORDER BY id",
                                    ("open",)),
    "one response's state (ack, show)": ("SELECT id, state, call_list FROM incidents WHERE id = ?", (1,)),
    "one response's events (show)": ("SELECT seq, kind, at FROM events WHERE incident_id = ? ORDER BY seq", (1,)),
}


def query_plans(db: Path) -> list[bool]:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ok = []
    for name, (sql, params) in PLANS.items():
        plan = " / ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        good = "SCAN" not in plan
        ok.append(good)
        print(f"  plan: {name:<34} {plan} {'OK' if good else 'MISSED (scans)'}")
    conn.close()
    return ok


def _work_ms(fn: object, n: int = 15) -> float:
    import gc

    assert callable(fn)
    fn()  # warm: profiles cached, pages read
    times = []
    for _ in range(n):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_journal(repeats: int) -> list[bool]:
    sys.path[:0] = [str(SRC), str(HERE)]
    import bigjournal

    from geohazard_cli.cli.incident_clock import due_data
    from geohazard_cli.cli.incident_watch import Source

    print("journal: 10,000 responses (50 open), 1,000,000 events; building once into benchmarks/_data/")
    db = bigjournal.big(10_000, 100, 200)
    at = bigjournal.when(20)
    ok = query_plans(db)
    source = Source(db, None, at)
    work = {"incident due (work)": lambda: due_data(db, None, at, None), "watch refresh (work)": source.frame}
    for name, fn in work.items():
        ms = _work_ms(fn)
        ok.append(ms < WORK_LIMIT_MS)
        print(f"  {name:<28} {ms:9.1f} ms in-process (limit < {WORK_LIMIT_MS:.0f} ms) "
              f"{'OK' if ok[-1] else 'MISSED'}")
    source.close()
    cases = {
        "incident show 1": [*CLI, "incident", "show", "1", "--db", str(db)],
        "incident due": [*CLI, "incident", "due", "--at", at, "--db", str(db)],
        "incident watch --once": [*CLI, "incident", "watch", "--once", "--at", at, "--db", str(db)],
    }
    print(f"  processes over it: {repeats} alternating rounds, medians")
    times = alternate(cases, repeats)
    base = times["incident show 1"]
    ok.append(report("incident due vs show", times["incident due"], base, TARGETS["incident due (process) vs show"]))
    ok.append(report("watch --once vs show", times["incident watch --once"], base,
                     TARGETS["incident watch --once vs show"]))
    long_db, fresh_db = bigjournal.long_incident(10_000), DATA / "incident-fresh-run.sqlite3"
    for p in (fresh_db, Path(f"{fresh_db}-wal"), Path(f"{fresh_db}-shm")):
        p.unlink(missing_ok=True)
    subprocess.run([*CLI, "incident", "open", "--evacuees", "140", "--at", bigjournal.OPENED, "--db", str(fresh_db),
                    "--format", "json"], check=True, stdout=subprocess.DEVNULL, env=child_env(), cwd=ROOT)
    ack = ["incident", "ack", "1", "--unit", "区应急局", "--outcome", "未接", "--at", bigjournal.when(600), "--db"]
    times = alternate({"ack, fresh incident": [*CLI, *ack, str(fresh_db)],
                       "ack, 10,000 events": [*CLI, *ack, str(long_db)]}, repeats)
    ok.append(report("ack on 10,000 events", times["ack, 10,000 events"], times["ack, fresh incident"],
                     TARGETS["ack on 10,000 events vs fresh"]))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 records and fewer repeats (smoke run)")
    ap.add_argument("--records", type=int, help="batch size (default 1,000,000; --quick 100,000)")
    ap.add_argument("--repeats", type=int, help="alternating rounds (default: start-up 21, batch 5)")
    ap.add_argument("--only", choices=["startup", "batch", "memory", "commands", "journal", "backends", "sites",
                                       "rules"], action="append")
    ap.add_argument("--compare", action="store_true",
                    help="batch: also time DuckDB and Polars reading the same CSV (the `bench` extra)")
    ap.add_argument("--pg", help="postgresql:// URL of an empty database for the backends' figures")
    ap.add_argument("--sites", type=int, help="register size for the sites case (default 300,000; --quick 30,000)")
    ap.add_argument("--rules-records", type=int,
                    help="records for the rules diff case (default 200,000; --quick 20,000)")
    args = ap.parse_args()
    n = args.records or (100_000 if args.quick else 1_000_000)
    only = set(args.only or ["startup", "batch", "memory", "commands", "journal", "backends", "sites", "rules"])
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    results: list[bool] = []
    if "startup" in only:
        results += bench_startup(args.repeats or (7 if args.quick else 21))
    if "batch" in only:
        results += bench_batch(n, args.repeats or (2 if args.quick else 5), args.compare)
    if "memory" in only:
        results += bench_memory(n)
    if "commands" in only:
        results += bench_commands(args.repeats or (5 if args.quick else 15))
    if "journal" in only:
        results += bench_journal(args.repeats or (5 if args.quick else 15))
    if "backends" in only:
        results += bench_backends(args.pg or os.environ.get("GEOHAZARD_BENCH_PG"), 50 if args.quick else 200)
    if "sites" in only:
        size = args.sites or (30_000 if args.quick else 300_000)
        results += bench_sites(size, args.repeats or (2 if args.quick else 3))
    if "rules" in only:
        results += bench_rules(args.rules_records or (20_000 if args.quick else 200_000))
    print(f"{sum(results)} of {len(results)} targets met")
    return 0 if all(results) else 1


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
