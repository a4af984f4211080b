"""The hazard-site register (隐患点, 群测群防): ``sites.yaml`` (or a CSV of the same columns) in the
config dir, each site with its place, figures and the people who watch it (§3.1.4, §6.3(1)).

Pure but for reading files: ``parse_rows`` turns rows (plain dicts, as a YAML list or a CSV gives
them) into ``Site`` records, collecting every problem with file, line and field (``sites_load``
reads a register in chunks, ``load_sites`` raising on the first fatal problem); ``Block`` holds
a chunk as columns or records. Grading is in ``sites_grade``, maps in ``sites_map``. Plain
tuples, no pydantic per row: a register holds up to 300,000 sites (the national 群测群防 scale).

The district's bounding box comes from ``district.yaml`` in the config dir (data, not code).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import repeat
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
        return {k: v for k, v in (("location", f"{self.street_name()} {self.name}"), ("hazard_type", self.hazard_type),
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

def header_keys(path: Path, header: list[str], error: type[ConfigError] | type[InputError] = ConfigError
                ) -> list[str]:
    """A CSV register's header as column keys (English or the Chinese label, spaces dropped); the
    error naming the file's line 1 when a required column is missing."""
    keys = [HEADER_ALIASES.get(_SPACE.sub("", h), h) for h in header]
    missing = [c.key for c in COLUMNS if c.required and c.key not in keys]
    if missing:
        raise error(f"{path}:1: missing column(s) {', '.join(missing)} (headers: {', '.join(KEYS)} "
                    "or 编号, 名称, 灾害类型, 街道, 经度, 纬度, ...)")
    return keys


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
        keys = header_keys(path, header, error)
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


# --- a chunk of sites ----------------------------------------------------------------------------

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
