"""Part processes: work on part of a large file done by a forked process into an unnamed temporary
file, its report sent back on a pipe; used by `classify --batch` (batch/parts.py) and `sites
grade` (sites_grade.py).

``fork_part(work, spool)`` starts one: the child runs ``work(out)`` (``out`` its temporary file,
opened for writing), writes what it returns (bytes; ``b"failed ..."`` when it raised) to the pipe
and leaves with ``os._exit`` (no atexit handlers, no flushing of the parent's buffers). No signal
between fork and the child's own handlers may run the caller's code in the child; Ctrl-C and kill
end the child at once, and it dies with its parent (PR_SET_PDEATHSIG), even when that is killed
outright. ``stop_on_term`` makes SIGTERM and SIGHUP end the command's process through its
``finally`` blocks, which kill and reap the part processes (``close_part``). Nothing is left behind.

The temporary files go to ``spool_dir()``: never a tmpfs (that is memory).
"""

from __future__ import annotations

import io
import os
import signal
import tempfile
from collections.abc import Callable
from typing import IO, Any

TERM_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
Child = tuple[int, int, IO[bytes]]  # pid, read end of its report pipe, its output file


_SCAN = 1 << 20  # how far past a cut point a line feed is looked for (and the size of each read)


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def line_cuts(fd: int, start: int, end: int, parts: int) -> list[int]:
    """Where parts 2..``parts`` of bytes [start, end) start: just after the first line feed at or
    past start + (end - start) * k / parts. Empty when the bytes go as one part (no line feed near
    a cut point, or the cuts would not make ``parts`` parts)."""
    found: list[int] = []
    for k in range(1, parts):
        target = start + (end - start) * k // parts
        i = os.pread(fd, _SCAN, target).find(b"\n")
        if i < 0:
            return []
        cut = target + i + 1
        if cut >= end or (found and cut <= found[-1]):
            return []
        found.append(cut)
    return found


def lines_before(fd: int, end: int, lone_cr: bool) -> int:
    """Lines wholly before byte ``end`` (just after a line feed), as a reader counts them: at line
    feeds only, or (``lone_cr``: the csv module, newline="") also at a carriage return alone."""
    lf = cr = crlf = 0
    pos = 0
    last = b""
    while pos < end:
        chunk = os.pread(fd, min(_SCAN, end - pos), pos)
        if not chunk:
            break
        lf += chunk.count(b"\n")
        if lone_cr:
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            last = chunk[-1:]
        pos += len(chunk)
    return lf + cr - crlf if lone_cr else lf


def stop_on_term() -> dict[int, Any]:
    """While parts run, SIGTERM and SIGHUP (kill, timeout, a closed terminal) end this process
    through its ``finally`` blocks, which kill and reap the part processes, instead of leaving
    them to run on. Returns the handlers to put back (none when not on the main thread)."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    saved: dict[int, Any] = {}
    for sig in TERM_SIGNALS:
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                saved[sig] = signal.signal(sig, stop)
        except ValueError:  # not the main thread: leave signals alone
            break
    return saved


def restore(saved: dict[int, Any]) -> None:
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def spool_dir() -> str | None:
    """Where part processes keep their output until it is copied: $GEOHAZARD_BATCH_SPOOL when set
    (the user's choice, memory or not); else the temporary directory, unless it is a tmpfs
    (memory), then /var/tmp if that is on disk; None (one process) when neither is."""
    chosen = os.environ.get("GEOHAZARD_BATCH_SPOOL")
    if chosen:
        return chosen if os.path.isdir(chosen) and os.access(chosen, os.W_OK | os.X_OK) else None
    for candidate in (tempfile.gettempdir(), "/var/tmp"):
        if os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK) and not _in_memory(candidate):
            return candidate
    return None


def _in_memory(path: str, mountinfo: str = "/proc/self/mountinfo") -> bool:
    """Whether ``path`` lies on a tmpfs or ramfs (from the mount table; unknown: no)."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as fh:
            mounts = [line.split() for line in fh]
    except OSError:
        return False
    real = os.path.realpath(path)
    best, fstype = "", ""
    for fields in mounts:
        try:
            mount_point, kind = fields[4], fields[fields.index("-") + 1]
        except (IndexError, ValueError):
            continue
        inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, fstype = mount_point, kind
    return fstype in ("tmpfs", "ramfs")


def fork_part(work: Callable[[IO[bytes]], bytes], spool: str | None, prefix: str = "geohazard-part-"
              ) -> Child | None:
    """Start a process running ``work`` into a temporary file in ``spool``; None when it cannot be
    started (no spool directory, no file or pipe to be had, no process): the caller does the
    part itself then."""
    if spool is None:
        return None
    try:
        out: IO[bytes] = tempfile.TemporaryFile(prefix=prefix, dir=spool)  # noqa: SIM115 - see close_part
    except OSError:
        return None
    try:
        r, w = os.pipe()
    except OSError:
        out.close()
        return None
    parent = os.getpid()
    # No signal between fork and the child's own handlers may run the caller's code in the child.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, *TERM_SIGNALS})
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(r)
        os.close(w)
        out.close()
        return None
    if pid == 0:  # pragma: no cover - runs in the child; its output is checked by the tests
        try:  # whatever happens, never run the caller's code
            os.close(r)
            _child(work, out, w, mask, parent)
        finally:
            os._exit(1)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(w)
    return pid, r, out


def _child(work: Callable[[IO[bytes]], bytes], out: IO[bytes], status_fd: int, mask: set[int],
           parent: int) -> None:  # pragma: no cover - runs in the child
    """Run ``work(out)``; its report (or what went wrong) on ``status_fd``; never return."""
    report = b"failed: no report"
    try:
        # Ctrl-C and kill end this process at once (the command's process reports and reaps); a
        # signal the command was started to ignore stays ignored. Then the signals are let in.
        for sig in (signal.SIGINT, *TERM_SIGNALS):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, signal.SIG_DFL)
        _die_with_parent(parent)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        report = work(out)
    except BaseException as exc:  # the command's process does the part again and reports as one process would
        report = f"failed {type(exc).__name__}: {exc}".encode("utf-8", "replace")
    finally:
        try:
            view = memoryview(report)
            while view:
                view = view[os.write(status_fd, view):]
        finally:
            os._exit(0)


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    """Ask Linux to SIGKILL this process if the command's process dies first (even by SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it is already gone
        os._exit(1)


def read_all(fd: int) -> bytes:
    """A part process's report: all it wrote to its pipe (it writes it last, then exits)."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def close_part(pid: int, status_fd: int, out: IO[bytes]) -> None:
    """Kill and reap a part process (pid 0: already reaped); close its pipe and output file."""
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
    os.close(status_fd)
    out.close()


def copy_part(src: IO[bytes], sink: IO[bytes]) -> None:
    """A part's output after what is already written: in the kernel when both are files or pipes."""
    size = src.seek(0, os.SEEK_END)
    try:
        out_fd = sink.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        out_fd = -1
    if out_fd >= 0:
        sink.flush()
        offset = 0
        try:
            while offset < size:
                sent = os.sendfile(out_fd, src.fileno(), offset, size - offset)
                if not sent:
                    break
                offset += sent
            if offset == size and sink.seekable():
                sink.seek(0, os.SEEK_END)  # (what the buffered file takes for its position)
            return
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) or offset:
                raise
    src.seek(0)
    while chunk := src.read(1 << 20):
        sink.write(chunk)
