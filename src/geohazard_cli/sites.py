"""The hazard-site register (隐患点, 群测群防): ``sites.yaml`` (or a CSV of the same columns) in the
config dir, each site with its place, figures and the people who watch it (§3.1.4, §6.3(1)).

Pure but for reading files: ``parse_rows`` turns rows (plain dicts, as a YAML list or a CSV gives
them) into ``Site`` records, collecting every problem with file, line and field; ``load_sites``
reads a register and raises on the first fatal problem; ``grade_sites`` grades each site as an
incident at it would be graded (威胁人数 as 需搬迁转移人数, the potential loss), through
``grading.assess``, once per combination of bands. Plain tuples, no pydantic per row: a register
holds up to 300,000 sites (the national 群测群防 scale).

The district's bounding box comes from ``district.yaml`` in the config dir (data, not code).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import repeat
from operator import is_
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from geohazard_cli.contacts import Problem, dial_number, is_placeholder, phone_problem
from geohazard_cli.errors import ConfigError, InputError

if TYPE_CHECKING:
    from geohazard_cli.contacts import Roster, Unit
    from geohazard_cli.rules import Profile

SITES_FILE = "sites.yaml"
DISTRICT_FILE = "district.yaml"


class Column(NamedTuple):
    key: str  # the YAML key and CSV header
    label: str  # the register's own term (spreadsheet exports often use it as the header)
    required: bool


# The register's columns, in order: YAML keys, CSV headers (English or the Chinese label).
COLUMNS: tuple[Column, ...] = (
    Column("id", "编号", True),
    Column("name", "名称", True),
    Column("hazard_type", "灾害类型", True),
    Column("street", "街道", True),
    Column("lon", "经度", True),
    Column("lat", "纬度", True),
    Column("households", "威胁户数", False),
    Column("threatened", "威胁人数", False),
    Column("potential_loss", "潜在经济损失", False),
    Column("responsible_name", "防灾责任人", False),
    Column("responsible_phone", "防灾责任人电话", False),
    Column("monitor_name", "监测人", False),
    Column("monitor_phone", "监测人电话", False),
    Column("evacuation_route", "撤离路线", False),
    Column("evacuation_place", "避险场所", False),
    Column("source", "来源", False),
)
KEYS = tuple(c.key for c in COLUMNS)
# The people of a site the warnings call (§3.1.4): field prefix -> the register's term.
ROLE_LABELS = {"responsible": "防灾责任人", "monitor": "监测人"}
HEADER_ALIASES = {**{c.label: c.key for c in COLUMNS}, **{c.key: c.key for c in COLUMNS}}


class Site(NamedTuple):
    """One hazard site (隐患点). ``street`` is the roster's 街道办事处 name; figures None = not known."""

    id: str
    name: str
    hazard_type: str  # the profile's key (landslide)
    hazard_type_name: str  # 滑坡
    street: str
    street_key: str
    lon: float
    lat: float
    households: int | None  # 威胁户数
    threatened: int | None  # 威胁人数 (an incident's 需搬迁转移人数)
    potential_loss: Decimal | None  # 潜在经济损失, yuan
    responsible_name: str | None  # 防灾责任人
    responsible_phone: str | None
    monitor_name: str | None  # 监测人
    monitor_phone: str | None
    evacuation_route: str | None
    evacuation_place: str | None
    source: str | None

    def as_json(self) -> dict[str, Any]:
        d = self._asdict()
        d["potential_loss"] = None if self.potential_loss is None else str(self.potential_loss)
        return d

    def incident_values(self) -> dict[str, Any]:
        """What an incident at this site starts from (``--site ID``): flags override each."""
        return {k: v for k, v in (("location", f"{self.street_name()}{self.name}"), ("hazard_type", self.hazard_type),
                                  ("evacuees", self.threatened), ("potential_loss", self.potential_loss),
                                  ("households", self.households), ("threatened", self.threatened))
                if v is not None}

    def street_name(self) -> str:
        """七里山街道 (the area) for 七里山街道办事处 (its office)."""
        return self.street.removesuffix("办事处")


class Bounds(NamedTuple):
    """The district's bounding box (degrees, CGCS2000 ≈ WGS84)."""

    name: str
    west: float
    south: float
    east: float
    north: float

    def holds(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


class Register(NamedTuple):
    file: str
    sites: list[Site]
    warnings: list[Problem]  # not fatal: placeholder people or numbers (not dialled)

    def by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites}

    def in_street(self, street_key: str) -> list[Site]:
        return [s for s in self.sites if s.street_key == street_key]


# --- the district --------------------------------------------------------------------------------

def load_bounds(cfg: Path) -> Bounds:
    """``district.yaml`` of a config dir: its name and bounding box."""
    from geohazard_cli.config import cached_data_file

    path = cfg / DISTRICT_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: missing; it gives the district's bounding box that site coordinates must lie in")
    data = cached_data_file(path)
    box = data.get("bbox")
    try:
        assert isinstance(box, dict)
        b = Bounds(str(data["name"]), *(float(box[k]) for k in ("west", "south", "east", "north")))
    except (AssertionError, KeyError, TypeError, ValueError):
        raise ConfigError(f"{path}: expected name and bbox: {{west, south, east, north}} in degrees") from None
    if not (b.west < b.east and b.south < b.north):
        raise ConfigError(f"{path}: bbox: west < east and south < north expected")
    return b


# --- rows -> sites -------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    t = str(value).strip()
    return t or None


def _count(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    n = value if isinstance(value, int) else int(unicodedata.normalize("NFKC", str(value)).strip().replace(",", ""))
    if n < 0:
        raise ValueError
    return n


def _amount(value: Any) -> Decimal:
    from geohazard_cli.money import parse_amount

    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Decimal(value)
    text = str(value).strip()
    if text.isdigit():
        return Decimal(text)
    return parse_amount(text, "potential_loss")


class _Streets:
    """Street names and aliases of the roster -> its 街道办事处 (七里山, 七里山街道, 七里山街道办事处)."""

    def __init__(self, roster: Roster) -> None:
        from geohazard_cli.contacts import normalise

        self.normalise = normalise
        self.names: dict[str, Unit] = {}
        for u in roster.units:
            if u.kind != "street" or u.parent is None:
                continue
            for n in (u.name, *u.aliases):
                key = normalise(n)
                for form in (key, key.removesuffix("办事处"), key.removesuffix("街道办事处")):
                    if form:
                        self.names.setdefault(form, u)
        self.roster = roster

    def find(self, name: str) -> Unit | None:
        return self.names.get(self.normalise(name))


def parse_rows(rows: Iterable[tuple[int | None, Mapping[str, Any]]], file: str, profile: Profile,
               roster: Roster, bounds: Bounds, line_of: Any = None, seen: dict[str, int] | None = None,
               start: int = 0, streets: _Streets | None = None) -> tuple[list[Site], list[Problem]]:
    """Rows (line, mapping) -> sites and every problem (fatal: the site is left out). The careful
    path, one row at a time: ``sites_fast`` validates clean CSV chunks a column at a time and hands
    any chunk with a problem here, so the messages are these.

    ``line_of(index, key)`` gives a YAML row's line when the row's own line is None. ``seen`` (id ->
    row index) and ``start`` (the index of the first row) carry over from earlier chunks."""
    streets = streets or _Streets(roster)
    hazards = profile.hazard_lookup
    sites: list[Site] = []
    problems: list[Problem] = []
    seen = {} if seen is None else seen
    area, length = roster.area_code, roster.local_number_length

    for index, (line, row) in enumerate(rows, start):
        bad: list[tuple[str, str, bool]] = []  # (key, message, fatal)

        def err(key: str, message: str, fatal: bool = True, bad: list[tuple[str, str, bool]] = bad) -> None:
            bad.append((key, message, fatal))

        unknown = [k for k in row if k not in KEYS]
        for k in unknown:
            err(str(k), f"unknown column (known: {', '.join(KEYS)})")
        get = row.get
        sid, name = _text(get("id")), _text(get("name"))
        for key, value in (("id", sid), ("name", name)):
            if value is None:
                err(key, "required")
        hazard = hazards.get(unicodedata.normalize("NFKC", str(get("hazard_type") or "")).strip().casefold())
        if hazard is None:
            accepted = "、".join(h.name for h in profile.hazard_types.items)
            err("hazard_type", f"{get('hazard_type')!r} is not a hazard type of {profile.id} ({accepted})")
        street_text = _text(get("street"))
        street = streets.find(street_text) if street_text else None
        if street_text is None:
            err("street", "required")
        elif street is None:
            err("street", f"{street_text!r} is not a 街道办事处 of the roster{roster.suggest(street_text)}")
        lon = lat = 0.0
        try:
            lon, lat = float(get("lon")), float(get("lat"))  # type: ignore[arg-type]
            if not bounds.holds(lon, lat):
                err("lon", f"({lon}, {lat}) lies outside {bounds.name} ({bounds.west}–{bounds.east}E, "
                    f"{bounds.south}–{bounds.north}N; district.yaml)")
        except (TypeError, ValueError):
            err("lon", f"lon {get('lon')!r}, lat {get('lat')!r}: expected decimal degrees (116.99, 36.63)")
        figures: dict[str, Any] = {}
        for key in ("households", "threatened"):
            value = get(key)
            if value is None or value == "":
                figures[key] = None
                continue
            try:
                figures[key] = _count(value)
            except ValueError:
                err(key, f"{value!r} is not a whole number of {'households' if key == 'households' else 'people'}")
        loss = get("potential_loss")
        figures["potential_loss"] = None
        if loss is not None and loss != "":
            try:
                figures["potential_loss"] = _amount(loss)
            except (InputError, InvalidOperation):
                err("potential_loss", f"{loss!r} is not an amount (examples: 3000000, 500万)")
        people: dict[str, str | None] = {}
        for key in ("responsible_name", "monitor_name"):
            people[key] = _text(get(key))
            if people[key] is not None and is_placeholder(people[key] or ""):
                err(key, f'"{people[key]}" is a placeholder: fill in the name', fatal=False)
        for key in ("responsible_phone", "monitor_phone"):
            phone = _text(get(key))
            people[key] = phone
            if phone is None:
                continue
            if is_placeholder(phone):
                err(key, f'"{phone}" is a placeholder, not a number: fill in the real number (not dialled until then)',
                    fatal=False)
                people[key] = None
            elif (why := phone_problem(phone, area, length)) is not None:
                err(key, why)
        if sid is not None:
            if sid in seen:
                err("id", f"id {sid!r} is used twice (also row {seen[sid] + 1})")
            else:
                seen[sid] = index
        fatal = False
        for key, message, is_fatal in bad:
            where = line if line is not None else (line_of(index, key) if line_of else None)
            problems.append(Problem(file=file, line=where, path=f"sites.{index}.{key}", unit=sid,
                                    message=message, fatal=is_fatal))
            fatal = fatal or is_fatal
        if fatal:
            continue
        assert sid is not None and name is not None and hazard is not None and street is not None
        sites.append(Site(sid, name, hazard.key, hazard.name, street.name, street.key, lon, lat,
                          figures["households"], figures["threatened"], figures["potential_loss"],
                          people["responsible_name"], dial_number(people["responsible_phone"], area, length),
                          people["monitor_name"], dial_number(people["monitor_phone"], area, length),
                          _text(get("evacuation_route")), _text(get("evacuation_place")), _text(get("source"))))
    return sites, problems


# --- files ---------------------------------------------------------------------------------------

def csv_rows(path: Path, error: type[ConfigError] | type[InputError] = ConfigError
             ) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """A CSV register's rows with their line numbers; headers in English or the Chinese labels."""
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise error(f"{path}: empty; expected a header row ({', '.join(KEYS)})") from None
        except UnicodeDecodeError:
            raise error(f"{path}: is not UTF-8 text; save it as UTF-8") from None
        keys = [HEADER_ALIASES.get(_SPACE.sub("", h), h) for h in header]
        missing = [c.key for c in COLUMNS if c.required and c.key not in keys]
        if missing:
            raise error(f"{path}:1: missing column(s) {', '.join(missing)} (headers: {', '.join(KEYS)} "
                        "or 编号, 名称, 灾害类型, 街道, 经度, 纬度, ...)")
        try:
            for cells in reader:
                if not any(cells):
                    continue
                yield reader.line_num, {k: v for k, v in zip(keys, cells, strict=False) if v != "" or k not in KEYS}
        except UnicodeDecodeError:
            raise error(f"{path}: is not UTF-8 text; save it as UTF-8") from None


def geojson_rows(path: Path) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """A GIS layer (a FeatureCollection of Points) as rows: properties, and lon/lat from the geometry."""
    from geohazard_cli.loader import load_json, read_text

    data = load_json(read_text(path, InputError), str(path), InputError)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{path}: expected a GeoJSON FeatureCollection (features: [...])")
    for i, f in enumerate(features):
        props = dict(f.get("properties") or {}) if isinstance(f, dict) else {}
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point" or not isinstance(geom.get("coordinates"), list):
            raise InputError(f"{path}: features.{i}: expected a Point geometry")
        props = {HEADER_ALIASES.get(k, k): v for k, v in props.items() if k != "grade"}
        props["lon"], props["lat"] = geom["coordinates"][:2]
        yield None, props


def yaml_rows(text: str, file: str) -> tuple[list[tuple[int | None, dict[str, Any]]], Any]:
    """A sites.yaml's rows, and its line finder (for problems)."""
    from geohazard_cli.loader import line_finder, load_yaml

    data = load_yaml(text, file)
    sites = data.get("sites") if isinstance(data, dict) else None
    if data.get("schema") != 1 or data.get("local") is not True or not isinstance(sites, list):
        raise ConfigError(f"{file}: expected schema: 1, local: true and sites: [...] (see examples/sites.yaml)")
    rows: list[tuple[int | None, dict[str, Any]]] = []
    for i, row in enumerate(sites):
        if not isinstance(row, dict):
            raise ConfigError(f"{file}: sites.{i}: expected a mapping of the site's fields")
        rows.append((None, row))
    finder = None

    def line_of(index: int, key: str) -> int | None:
        nonlocal finder
        if finder is None:
            finder = line_finder(text)
        return finder(["sites", index, key]) or finder(["sites", index])

    return rows, line_of


def sites_path(cfg: Path, option: Path | None) -> Path | None:
    """``--sites FILE``, else ``sites.yaml`` in the config dir when there is one, else None."""
    if option is not None:
        if not option.is_file():
            raise InputError(f"--sites: {option}: no such file")
        return option
    default = cfg / SITES_FILE
    return default if default.is_file() else None


def dump_yaml(sites: list[Site], title: str) -> str:
    """A register as sites.yaml text (what ``sites import`` writes)."""
    import yaml

    rows = []
    for s in sites:
        d = s.as_json()
        d["hazard_type"] = s.hazard_type_name
        d["street"] = s.street
        rows.append({k: d[k] for k in KEYS if d.get(k) is not None})
    head = ("# The hazard-site register (隐患点): local data of the bureau, not the plan. Written by\n"
            "# `geohazard sites import`; `geohazard check` and every command using it validate it.\n")
    body = yaml.dump({"schema": 1, "local": True, "title": title, "sites": rows}, allow_unicode=True,
                     sort_keys=False, width=1000, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))  # libyaml: fast
    return head + body


# --- grading -------------------------------------------------------------------------------------

class Graded(NamedTuple):
    site: Site
    grade: str | None  # the profile's grade key; None: neither figure known
    grade_name: str | None
    level: str | None


Hit = tuple[str | None, str | None, str | None]  # grade key, grade name, response level
FIELD = {f: i for i, f in enumerate(Site._fields)}  # a Site field -> its column in a Block


class Block:
    """A chunk of sites, held as columns (one sequence per Site field, as the CSV fast path
    checks them) or as Site records (the careful path's): each form is made from the other only
    when asked for, so ``sites grade`` never builds a record per site."""

    __slots__ = ("_cols", "_sites", "texts")

    def __init__(self, cols: list[Sequence[Any]] | None = None, sites: list[Site] | None = None,
                 texts: Mapping[int, Sequence[str]] | None = None) -> None:
        self._cols, self._sites = cols, sites
        self.texts = texts or {}  # a field's cells as CSV writes them, where reading already gave them

    def __len__(self) -> int:
        return len(self._sites) if self._sites is not None else len(self._cols[0]) if self._cols else 0

    def sites(self) -> list[Site]:
        if self._sites is None:
            self._sites = list(map(Site._make, zip(*self._cols, strict=True))) if self._cols else []
        return self._sites

    def columns(self) -> list[Sequence[Any]]:
        if self._cols is None:
            self._cols = list(zip(*self._sites, strict=True)) if self._sites else [()] * len(Site._fields)
        return self._cols


def grade_hits(cols: list[Sequence[Any]], profile: Profile, memo: dict[tuple[int, int], Hit] | None = None
               ) -> list[Hit]:
    """Each site's (grade, grade_name, level), from a Block's columns: the band of each figure by
    ``bisect`` over the whole column, then one ``grading.assess`` per combination of bands (the
    grade depends only on those), so a register of any size costs one assessment per
    combination. ``memo`` carries over between chunks."""
    from bisect import bisect_right
    from itertools import repeat
    from operator import is_

    from geohazard_cli.grading import assess

    tables = {ind.key: lowers for ind, lowers, _ in profile.tables}
    memo = {} if memo is None else memo

    def cells(col: Sequence[Any], lowers: list[Decimal] | None) -> list[int]:
        if lowers is None:
            return [-1] * len(col)
        if not any(map(is_, col, repeat(None))):  # (`None in col` would compare None with each Decimal)
            return list(map(bisect_right, repeat(lowers), col))
        return [-1 if v is None else bisect_right(lowers, v) for v in col]

    threatened, losses = cols[FIELD["threatened"]], cols[FIELD["potential_loss"]]
    keys = list(zip(cells(threatened, tables.get("evacuees")), cells(losses, tables.get("potential_loss")),
                    strict=True))
    for key in set(keys).difference(memo):
        i = keys.index(key)
        values = {k: v for k, v in (("evacuees", threatened[i]), ("potential_loss", losses[i]))
                  if v is not None and k in tables}
        if values:
            a = assess(values, profile)
            memo[key] = (a["grade"], a["grade_name"], a["response_level"])
        else:
            memo[key] = (None, None, None)
    return list(map(memo.__getitem__, keys))


# A graded site as a CSV row: the Site's fields in KEYS order (hazard_type as its name, street_key
# left out), then the grade.
_OUT = tuple(FIELD[k] for k in ("id", "name", "hazard_type_name", "street", "lon", "lat", "households",
                                "threatened", "potential_loss", "responsible_name", "responsible_phone",
                                "monitor_name", "monitor_phone", "evacuation_route", "evacuation_place",
                                "source"))
CSV_HEADER = (*KEYS, "grade", "grade_name", "level")
# Decimal degrees as a register writes them (117.06370) whose float repr writes without the trailing
# zeros (117.0637): at most 3 + 12 digits, a non-zero one after the point, so at most 15 significant
# digits, which a float keeps and repr gives back as the shortest text (tests/test_sites_load.py).
_DEGREE = r"[1-9][0-9]{0,2}\.(?=[0-9]{1,12}(?![0-9]))0*[1-9][0-9]*"
DEGREES = re.compile(f"{_DEGREE}(?:\n{_DEGREE})*")


def degree_texts(cells: Sequence[str]) -> list[str] | None:
    """A column of coordinates as repr writes their floats, from the cells as read; None when a
    cell is not of that plain form (then repr writes each)."""
    joined = "\n".join(cells)
    if DEGREES.fullmatch(joined) is None or joined.count("\n") != len(cells) - 1:
        return None
    return list(map(str.rstrip, cells, repeat("0")))


def graded_csv(block: Block, hits: list[Hit]) -> str | None:
    """A Block's graded sites as CSV lines (``CSV_HEADER``'s columns), or None when some cell needs
    quoting (then ``csv.writer`` writes ``graded_rows``): each column's cells as text, the lines
    joined, which the joined text shows needs no quoting."""
    cols, n = block.columns(), len(hits)
    tails = {h: ",".join(x or "" for x in h) for h in set(hits)}
    given = block.texts
    cells: list[Iterable[str]] = [given[i] if i in given else _cell_texts(cols[i], i) for i in _OUT]
    cells.append(map(tails.__getitem__, hits))
    text = "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"
    if text.count(",") == 18 * n and text.count("\n") == n and '"' not in text and "\r" not in text:
        return text
    return None


def graded_rows(block: Block, hits: list[Hit]) -> Iterator[list[Any]]:
    """A Block's graded sites as rows of cells for ``csv.writer`` (None an empty cell)."""
    for s, h in zip(block.sites(), hits, strict=True):
        yield [*s[:2], *s[3:5], *s[6:], *h]


def _cell_texts(col: Sequence[Any], field: int) -> Iterable[str]:
    """A column's cells as CSV text: floats as repr writes them, other values as str, None empty."""
    if field in (6, 7):
        return map(repr, col)
    if not any(map(is_, col, repeat(None))):  # (`None in col` would compare None with each Decimal)
        return col if field < 6 or field > 10 else map(str, col)
    return ["" if v is None else v if isinstance(v, str) else str(v) for v in col]


def grade_sites(sites: Iterable[Site], profile: Profile, memo: dict[tuple[int, int], Hit] | None = None
                ) -> list[Graded]:
    """Each site graded as an incident there would be (威胁人数 as 需搬迁转移人数, 潜在经济损失): see
    ``grade_hits``."""
    block = Block(sites=list(sites))
    return [Graded(s, *h) for s, h in zip(block.sites(), grade_hits(block.columns(), profile, memo), strict=True)]


class Tally:
    """Counts by grade and by street, and the sites nearest each bound (just below it: the ones a
    little more would lift a grade), gathered a chunk of graded sites at a time."""

    def __init__(self, profile: Profile) -> None:
        self.by_grade: dict[str, int] = {g.key: 0 for g in profile.grades}
        self.by_grade["ungraded"] = 0
        self.by_street: dict[str, dict[str, int]] = {}
        self.bounds: list[list[Any]] = []  # [indicator, band, field, best (value, id, name) so far]
        for ind, _, _ in profile.tables:
            field = {"evacuees": "threatened", "potential_loss": "potential_loss"}.get(ind.key)
            if field is not None:
                self.bounds += [[ind, band, field, None] for band in ind.bands[1:]]

    def add(self, graded: list[Graded]) -> None:
        self.add_hits(Block(sites=[g.site for g in graded]).columns(), [g[1:] for g in graded])

    def add_hits(self, cols: list[Sequence[Any]], hits: list[Hit]) -> None:
        """A Block's columns and their ``grade_hits``, a column at a time."""
        from bisect import bisect_left
        from collections import Counter
        from itertools import compress, repeat
        from operator import eq

        for (street, hit), n in Counter(zip(cols[FIELD["street"]], hits, strict=True)).items():
            k = hit[0] or "ungraded"
            self.by_grade[k] += n
            by = self.by_street.setdefault(street, {})
            by[k] = by.get(k, 0) + n
        known: dict[str, list[Any]] = {}  # a field's distinct values, sorted
        for entry in self.bounds:
            _, band, field, best = entry
            col = cols[FIELD[field]]
            if field not in known:
                known[field] = sorted(set(col).difference((None,)))
            values = known[field]
            i = bisect_left(values, band.lower)
            if i == 0 or (best is not None and values[i - 1] < best[0]):
                continue  # nothing below the bound, or nothing nearer it than an earlier chunk's
            at = list(map(eq, col, repeat(values[i - 1])))
            # the largest value below the bound, then the largest id: that site's id, name and value
            # (its own: 15000 and 15000.0 are one value, written as the site has it)
            sid, name, value = max(zip(compress(cols[0], at), compress(cols[1], at), compress(col, at), strict=True))
            below = (value, sid, name)
            if best is None or below[:2] > best[:2]:
                entry[3] = below

    def state(self) -> tuple[Any, ...]:
        """What ``merge`` takes: the counts and the nearest so far, as plain data."""
        return self.by_grade, self.by_street, [entry[3] for entry in self.bounds]

    def merge(self, state: tuple[Any, ...]) -> None:
        """Add the ``state`` of a Tally of the sites after these (the same as adding its chunks)."""
        by_grade, by_street, bests = state
        for k, n in by_grade.items():
            self.by_grade[k] += n
        for street, other in by_street.items():
            by = self.by_street.setdefault(street, {})
            for k, n in other.items():
                by[k] = by.get(k, 0) + n
        for entry, below in zip(self.bounds, bests, strict=True):
            if below is not None and (entry[3] is None or below[:2] > entry[3][:2]):
                entry[3] = below

    def result(self) -> dict[str, Any]:
        nearest = [{"indicator": ind.key, "name": ind.name, "bound": str(band.lower), "grade": band.grade,
                    "site": best[1], "site_name": best[2], "value": str(best[0]), "gap": str(band.lower - best[0])}
                   for ind, band, _, best in self.bounds if best is not None]
        return {"by_grade": self.by_grade, "by_street": self.by_street, "nearest": nearest}


def summary(graded: list[Graded], profile: Profile) -> dict[str, Any]:
    """Counts by grade and by street, and the sites nearest each bound (``Tally`` of one chunk)."""
    tally = Tally(profile)
    tally.add(graded)
    return tally.result()


# --- maps ----------------------------------------------------------------------------------------

def geojson(graded: list[Graded]) -> dict[str, Any]:
    """A FeatureCollection of Points (what QGIS opens): each site's fields and grade."""
    features = []
    for g in graded:
        props = {k: v for k, v in g.site.as_json().items() if k not in ("lon", "lat")}
        props.update(grade=g.grade, grade_name=g.grade_name, level=g.level)
        features.append({"type": "Feature", "id": g.site.id, "properties": props,
                         "geometry": {"type": "Point", "coordinates": [g.site.lon, g.site.lat]}})
    return {"type": "FeatureCollection", "features": features}


def map_context(graded: list[Graded], bounds: Bounds, profile: Profile, width: int = 800) -> dict[str, Any]:
    """What the offline map (templates/sites-map.*.j2) draws: each site at its place in the
    district's box (equirectangular, true to scale at its middle latitude), street labels at the
    middle of their sites, the grades for the legend, and a scale bar of a round length."""
    import math

    km_per_lon = 111.32 * math.cos(math.radians((bounds.south + bounds.north) / 2))
    km_w, km_h = (bounds.east - bounds.west) * km_per_lon, (bounds.north - bounds.south) * 110.57
    margin = 40
    scale = (width - 2 * margin) / km_w  # pixels per km
    height = round(km_h * scale) + 2 * margin

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (round(margin + (lon - bounds.west) * km_per_lon * scale, 1),
                round(margin + (bounds.north - lat) * 110.57 * scale, 1))

    points = [{"id": g.site.id, "name": g.site.name, "street": g.site.street, "grade": g.grade or "ungraded",
               "grade_name": g.grade_name or "未定级", "threatened": g.site.threatened,
               "x": xy(g.site.lon, g.site.lat)[0], "y": xy(g.site.lon, g.site.lat)[1]} for g in graded]
    streets: dict[str, list[tuple[float, float]]] = {}
    for g in graded:
        streets.setdefault(g.site.street, []).append(xy(g.site.lon, g.site.lat))
    labels = [{"name": name.removesuffix("办事处"), "x": round(sum(x for x, _ in pts) / len(pts), 1),
               "y": round(sum(y for _, y in pts) / len(pts) - 12, 1)} for name, pts in streets.items()]
    bar_km = next(k for k in (20, 10, 5, 2, 1, 0.5) if k * scale <= width / 4)
    return {"title": bounds.name, "width": width, "height": height, "points": points, "labels": labels,
            "grades": [{"key": g.key, "name": g.name} for g in profile.grades],
            "scale": {"km": bar_km, "px": round(bar_km * scale, 1), "x": margin, "y": height - margin / 2},
            "count": len(points)}
