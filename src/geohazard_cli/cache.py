"""A small cache of parsed data files, so a command need not import and run the YAML parser.

Importing PyYAML, parsing the rules file and ``profiles.yaml`` and validating the profile is ~40 ms
of a ~300 ms start-up (see README, Speed). ``profiles.yaml`` is kept as what ``load_yaml`` returned
(plain data, ``marshal`` format); the validated rules profile as a pickle (see ``cached_data``),
which also saves building the rules models' validators; and beside it the profile's plain view
(``profile_view``, marshal), from which ``classify`` grades without any pydantic model. An entry is
used only when the file's path, size, mtime, ctime and inode, the tool version and the Python
version (and, for the profile and its view, pydantic's version and the modules they are computed
by) all match, and when the cache file is owned by this user and writable by no one else (for the
profile and its view, the directory too). Anything unexpected is a miss, never an error.

Location: ``$GEOHAZARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/geohazard-cli``, else
``~/.cache/geohazard-cli``. ``GEOHAZARD_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_CACHE_DIR = "GEOHAZARD_CACHE_DIR"
FORMAT = 1  # bump when what load_yaml returns changes shape


def cache_dir() -> Path | None:
    """The cache directory in force, or None when caching is off."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no", "false") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "geohazard-cli"


def _key(path: Path, st: os.stat_result) -> tuple[Any, ...]:
    from geohazard_cli import __version__

    return (FORMAT, __version__, sys.version_info[:3], str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns,
            st.st_ino)


def _entry(directory: Path, path: Path, kind: str = "") -> Path:
    import zlib

    raw = str(path).encode("utf-8", "surrogateescape")
    suffix = f".{kind}" if kind else ""
    return directory / f"{path.stem[:40]}-{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}{suffix}.marshal"


def cached_data(
    path: Path, parse: Callable[[], Any], pickled: bool = False, key_extra: tuple[Any, ...] = (),
    kind: str = "",
) -> Any:
    """``parse()`` the file at ``path``, or return what it returned last time for the same file.

    ``pickled=True`` stores the result with pickle (for a validated model object rather than plain
    data). Such an entry is unpickled only after its key matched and only from a cache directory
    and file that are this user's and writable by no one else: the trust Python itself gives to
    its ``__pycache__``. ``key_extra`` adds to the key (e.g. what the pickled classes depend on).
    ``kind`` names a second entry for the same file (the profile's plain view beside its pickle); a
    named kind is trusted like a pickle (it decides what the officer is told), so it gets the same
    ownership checks.
    """
    directory = cache_dir()
    if directory is None:
        return parse()
    try:
        path = path.resolve()
        key = (*_key(path, path.stat()), pickled, kind, *key_extra)
        entry = _entry(directory, path, kind)
    except OSError:
        return parse()
    hit = _read(directory, entry, key, pickled, strict=pickled or bool(kind))
    if hit is not None:
        return hit[0]
    data = parse()  # errors propagate unchanged; only successes are stored
    _write(directory, entry, key, data, pickled)
    return data


def _private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return not (st.st_mode & 0o022) and (not hasattr(os, "getuid") or st.st_uid == os.getuid())


def _read(directory: Path, entry: Path, key: tuple[Any, ...], pickled: bool, strict: bool) -> tuple[Any] | None:
    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _private(st):
            return None
        if strict and not _private(os.stat(directory)):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            stored = marshal.loads(fh.read())
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
            return None
        if not pickled:
            return (stored[1],)
        import pickle

        return (pickle.loads(stored[1]),)
    except Exception:  # a damaged or foreign entry is a miss, never an error
        return None
    finally:
        os.close(fd)


def _write(directory: Path, entry: Path, key: tuple[Any, ...], data: Any, pickled: bool) -> None:
    try:
        if pickled:
            import pickle

            blob = marshal.dumps((key, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)))
        else:
            blob = marshal.dumps((key, data))
    except Exception:  # something it cannot hold (a YAML date for marshal, say): just do not cache it
        return
    import tempfile

    tmp = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, entry)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


VIEW_SOURCES = ("rules", "grading", "fields", "money", "loader")  # what a profile's view is computed by


def profile_view(path: Path) -> Any:
    """The plain view of the rules profile at ``path`` (grading.view_of), kept with ``marshal``.

    A hit costs neither the pydantic rules models nor unpickling the profile: ``classify`` grades
    from it. A miss loads the profile (rules.load_profile, itself cached) and stores its view. The
    key adds the sources the view is computed by (a changed schema or view_of is a miss).
    """
    def parse() -> Any:
        from geohazard_cli.rules import load_profile

        return load_profile(path).view

    try:
        code = _code_key(*VIEW_SOURCES)
    except OSError:  # sources not beside this module (a frozen build): no cache
        return parse()
    return cached_data(path, parse, key_extra=code, kind="view")


def _code_key(*modules: str) -> tuple[Any, ...]:
    """Size and mtime of these modules' source files (without importing them); pydantic's version."""
    from pydantic.version import VERSION

    here = os.path.dirname(os.path.abspath(__file__))
    stats = (os.stat(os.path.join(here, f"{name}.py")) for name in modules)
    return (VERSION, *((st.st_size, st.st_mtime_ns) for st in stats))
