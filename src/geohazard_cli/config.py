"""Where the plan's data comes from: ``--config-dir``, ``GEOHAZARD_CONFIG_DIR``, or the packaged copy.

A config dir holds ``rules/`` (one YAML file a plan profile, plus ``profiles.yaml`` naming the
default), ``contacts.yaml`` and ``templates/``. The top-level copies in the repository are the
editable source; the wheel carries them as ``geohazard_cli/data``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from geohazard_cli.errors import ConfigError, NotFoundError

ENV_CONFIG_DIR = "GEOHAZARD_CONFIG_DIR"
_PACKAGED = Path(__file__).resolve().parent / "data"
_SOURCE_TREE = Path(__file__).resolve().parents[2]  # src/geohazard_cli -> repository root


def config_dir(option: Path | None = None) -> Path:
    """The config dir in force: flag, then environment, then the packaged (or source-tree) copy."""
    if option is not None:
        chosen, how = option, "--config-dir"
    elif os.environ.get(ENV_CONFIG_DIR):
        chosen, how = Path(os.environ[ENV_CONFIG_DIR]), ENV_CONFIG_DIR
    elif (_PACKAGED / "rules").is_dir():
        return _PACKAGED
    elif (_SOURCE_TREE / "rules").is_dir():
        return _SOURCE_TREE
    else:  # pragma: no cover - only a broken install gets here
        raise ConfigError("no packaged plan data found; reinstall geohazard-cli or pass --config-dir")
    if not chosen.is_dir():
        raise ConfigError(f"{how}: {chosen} is not a directory (expected one holding rules/, contacts.yaml)")
    if not (chosen / "rules").is_dir():
        raise ConfigError(f"{how}: {chosen} has no rules/ directory; a config dir holds rules/, contacts.yaml and "
                          "templates/ (copy the shipped ones to start)")
    return chosen


def is_shipped(cfg: Path) -> bool:
    """Whether ``cfg`` is the shipped copy (the installed package's data or the source tree's), which
    a reinstall or a checkout replaces: a bureau's local files are written elsewhere."""
    return cfg.resolve() in (_PACKAGED.resolve(), _SOURCE_TREE.resolve())


def config_source(option: Path | None = None) -> str:
    """Which copy ``config_dir(option)`` is, in words: the flag, the environment, or the shipped one."""
    if option is not None:
        return "--config-dir"
    if os.environ.get(ENV_CONFIG_DIR):
        return f"${ENV_CONFIG_DIR}"
    where = "installed with the package" if (_PACKAGED / "rules").is_dir() else "the source tree"
    return f"the shipped copy, {where}: no --config-dir or ${ENV_CONFIG_DIR} given"


def rules_path(plan: str | None, rules_file: Path | None, cfg: Path) -> Path:
    """The rules file for ``--plan NAME`` / ``--rules FILE`` / the default profile."""
    if rules_file is not None:
        if not rules_file.is_file():
            raise ConfigError(f"--rules: {rules_file}: no such file")
        return rules_file
    rules_dir = cfg / "rules"
    flag = "--plan"
    if plan is None:
        plan = default_plan(cfg)
        flag = f"{rules_dir / 'profiles.yaml'}: default"
    path = rules_dir / f"{plan}.yaml"
    if "/" in plan or "\\" in plan or not path.is_file():
        known = ", ".join(available_plans(cfg)) or "none"
        raise NotFoundError(f'{flag}: "{plan}" is not a profile in {rules_dir} (known: {known})')
    return path


def cached_data_file(path: Path) -> dict[str, Any]:
    """``loader.load_data_file`` through the cache: a small local file every command reads
    (profiles.yaml, district.yaml) costs neither the loader and YAML imports nor its parse while
    it is unchanged. Its numbers are exact (``Decimal``, as load_yaml reads them): marshal holds
    none, so each is kept as a one-item tuple of its text (YAML data has no tuples)."""
    def parse() -> Any:
        from geohazard_cli.loader import load_data_file  # only on a miss

        return _tuples(load_data_file(path))

    from geohazard_cli.cache import cached_data

    data: dict[str, Any] = _decimals(cached_data(path, parse))
    return data


def _tuples(value: Any) -> Any:
    from decimal import Decimal

    return _leaves(value, lambda v: (str(v),) if isinstance(v, Decimal) else v)


def _decimals(value: Any) -> Any:
    from decimal import Decimal

    return _leaves(value, lambda v: Decimal(v[0]) if isinstance(v, tuple) else v)


def _leaves(value: Any, leaf: Any) -> Any:
    """``value`` with ``leaf`` applied to everything that is not a mapping or a list."""
    if isinstance(value, dict):
        return {k: _leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, leaf) for v in value]
    return leaf(value)


def default_plan(cfg: Path) -> str:
    path = cfg / "rules" / "profiles.yaml"
    if not path.is_file():
        plans = available_plans(cfg)
        if len(plans) == 1:
            return plans[0]
        raise ConfigError(f"{path}: missing; it names the default profile (default: NAME)")
    data = cached_data_file(path)
    name = data.get("default")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: default: expected the name of a profile in rules/")
    return name


def available_plans(cfg: Path) -> list[str]:
    rules_dir = cfg / "rules"
    if not rules_dir.is_dir():
        return []
    return sorted(p.stem for p in rules_dir.glob("*.yaml") if p.name != "profiles.yaml")


def contacts_path(cfg: Path) -> Path:
    return cfg / "contacts.yaml"


def templates_dir(cfg: Path) -> Path:
    return cfg / "templates"
