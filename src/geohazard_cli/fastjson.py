"""orjson, imported with Ctrl-C and kill held back until its module is set up.

orjson's module init imports other modules (json, uuid, ...) and does not check that those
imports succeeded: a Ctrl-C (KeyboardInterrupt) landing during ``import orjson`` killed the process
with a segmentation fault instead of the clean exit 130 (orjson 3.13; found by
tests/test_batch.py, where the first batch block imports orjson just as a Ctrl-C arrives). Held
back, the signal is delivered right after the import, where Python raises it as usual.

Import orjson only as ``from geohazard_cli.fastjson import orjson``.
"""

from __future__ import annotations

import signal
import sys


def _hold() -> object | None:
    if "orjson" in sys.modules:
        return None
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, ValueError, OSError):  # no pthread_sigmask here: take the small risk
        return None


_held = _hold()
try:
    import orjson as orjson
finally:
    if _held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, _held)  # type: ignore[arg-type]

__all__ = ["orjson"]
