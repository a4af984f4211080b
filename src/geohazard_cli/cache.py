"""A small cache of parsed data files, so a command need not import and run the YAML parser.

Importing PyYAML, parsing the rules file and ``profiles.yaml`` and validating the profile is ~40 ms
of a ~300 ms start-up (see README, Speed). Every entry is plain data (what ``marshal`` keeps: no
pickle, nothing that runs code when read): ``profiles.yaml`` and ``response.local.yaml`` as
``load_yaml`` returned them, a rules profile as its schema validated it (rules_schema.plain), from
which rules.Profile is built, ``contacts.yaml`` once validated and checked (contacts_load), and the
Python source Jinja2 compiles a template to (render.py), and a profile's ``dispatch:`` and
``warning:`` sections once their models validated them (construct.profile_section: the entry's
``kind`` names the section; each kind has one writer), and the few facts a journal command needs of
the warning section (responses.py, kind ``warning-facts``).
An entry is used only when the file's path, size, mtime, ctime and inode, the tool version and the
Python version (and what the caller adds: pydantic's version for a profile) all match, and when the
cache file is owned by this user and writable by no one else. An entry ``computed_by`` a module
(the profile) is keyed also on the sources of every module of ours that module imports, found from
the import graph (modgraph.closure) when the entry is written and hashed again when it is read: an
edit to any of them is a miss. Such an entry decides what the officer is told, so its directory
must be private too. Anything unexpected is a miss, never an error.

Location: ``$GEOHAZARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/geohazard-cli``, else
``~/.cache/geohazard-cli``. ``GEOHAZARD_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_CACHE_DIR = "GEOHAZARD_CACHE_DIR"
FORMAT = 2  # bump when the layout of an entry, or what load_yaml returns, changes shape
# The directory holding the package directory (src/ in a checkout, site-packages when installed).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Sources = tuple[tuple[str, tuple[int, int, int]], ...]  # (source file under _ROOT, its digest)


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
    raw = str(path).encode("utf-8", "surrogateescape")
    name = f"{path.stem[:40]}.{kind}" if kind else path.stem[:40]
    return directory / f"{name}-{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}.marshal"


def _digest(data: bytes) -> tuple[int, int, int]:
    """Length and two checksums of a source file: an edit changes them (zlib is loaded already;
    hashlib would add ~3 ms to start-up). Not a defence against forgery: ownership is (``_private``)."""
    return len(data), zlib.crc32(data), zlib.adler32(data)


def sources(module: str) -> Sources:
    """The source files of ``module`` and of every module of ours it imports (transitively, from
    the import graph), each with its digest."""
    from geohazard_cli.modgraph import closure, module_file

    root = Path(_ROOT)
    out = []
    for name in closure(module, root):
        path = module_file(name, root)
        assert path is not None  # closure lists only modules it found
        out.append((path.relative_to(root).as_posix(), _digest(path.read_bytes())))
    return tuple(out)


def _unchanged(stored: Sources) -> bool:
    for rel, digest in stored:
        with open(os.path.join(_ROOT, *rel.split("/")), "rb") as fh:
            if _digest(fh.read()) != digest:
                return False
    return True


def cached_data(
    path: Path, parse: Callable[[], Any], computed_by: str | None = None, key_extra: tuple[Any, ...] = (),
    kind: str = "",
) -> Any:
    """``parse()`` the file at ``path``, or return what it returned last time for the same file.

    ``computed_by`` names the module whose code ``parse`` runs (rules_schema for a profile): the
    entry is keyed also on the sources of it and of every module of ours it imports, and trusted
    only from a directory that is this user's and writable by no one else, as Python trusts its
    ``__pycache__``. ``key_extra`` adds to the key (e.g. the pydantic version that validated it).
    ``kind`` names a second entry for the same file (what a section of it validated to, say).
    """
    directory = cache_dir()
    if directory is None:
        return parse()
    try:
        path = path.resolve()
        key = (*_key(path, path.stat()), computed_by, kind, *key_extra)
        entry = _entry(directory, path, kind)
    except OSError:
        return parse()
    hit = _read(directory, entry, key, strict=computed_by is not None)
    if hit is not None:
        return hit[0]
    data = parse()  # errors propagate unchanged; only successes are stored
    try:
        marshal.dumps(data)
    except Exception:  # something it cannot hold (a YAML date, say): not cached, and no sources hashed
        return data
    code: Sources = ()
    if computed_by is not None:
        try:
            code = sources(computed_by)
        except (OSError, SyntaxError, ValueError):  # sources not beside the package (a frozen build)
            return data
        if not code:
            return data
    _write(directory, entry, (key, code, data))
    return data


def _private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return not (st.st_mode & 0o022) and (not hasattr(os, "getuid") or st.st_uid == os.getuid())


def _read(directory: Path, entry: Path, key: tuple[Any, ...], strict: bool) -> tuple[Any] | None:
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
        if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == key):
            return None
        if strict and not (stored[1] and _unchanged(stored[1])):
            return None
        return (stored[2],)
    except Exception:  # a damaged or foreign entry is a miss, never an error
        return None
    finally:
        os.close(fd)


def _write(directory: Path, entry: Path, stored: tuple[Any, ...]) -> None:
    try:
        blob = marshal.dumps(stored)
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
