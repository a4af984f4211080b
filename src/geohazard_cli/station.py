"""Who writes to the journal: the duty station (值班点: the duty room, the command office, a field post)
and the officer on duty there. Local data, never in rules/: ``--station``/``--officer`` on
``geohazard incident``, else $GEOHAZARD_STATION/$GEOHAZARD_OFFICER, else ``station.local.yaml`` in the
config dir (``station: 区应急局值班室`` and ``officer: 张三``), else not recorded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from geohazard_cli.errors import ConfigError

FILENAME = "station.local.yaml"
ENV_STATION = "GEOHAZARD_STATION"
ENV_OFFICER = "GEOHAZARD_OFFICER"


class Who(NamedTuple):
    station: str | None = None
    officer: str | None = None


def resolve(station: str | None, officer: str | None, cfg: Path) -> Who:
    """Flags over the environment over the local file; each value on its own."""
    station = station or os.environ.get(ENV_STATION, "").strip() or None
    officer = officer or os.environ.get(ENV_OFFICER, "").strip() or None
    if station is None or officer is None:
        local = read_local(cfg / FILENAME)
        station, officer = station or local.station, officer or local.officer
    return Who(station, officer)


def read_local(path: Path) -> Who:
    """``station.local.yaml``: nothing when missing; a file that is not two text fields is refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Who()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or set(data) - {"station", "officer"} or not all(
            isinstance(v, str) and v.strip() for v in data.values()):
        raise ConfigError(f"{path}: expected 'station: <duty station>' and 'officer: <name>' (text), nothing else")
    return Who(data.get("station"), data.get("officer"))
