"""Hook bodies in append-only files beside the outbox's database, which keeps only where each is.

In SQLite a 6 KB body was written twice, page by page: into the WAL by its commit, then into the
database by the checkpoint. Here a batch's bodies go to the end of a file in one `writev`, made
durable with one `fdatasync` before the transaction that points at them commits, so a committed
row never points at bytes that are not on disk. A crash between the two leaves bytes no row points
at: harmless, as the next appends go after them.

The files are segments of about `SEGMENT_BYTES`; one no row points at any more (its hooks pruned)
is removed, never the newest, which is the one being appended to."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SEGMENT_BYTES = 64 << 20
_SEGMENT = re.compile(r"^(\d{8})\.bodies$")
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024


class BodyLogError(OSError):
    """A body is not where its row says: the file was cut short or removed by hand."""


@dataclass(frozen=True)
class BodyRef:
    """Where a body is: its segment, and its offset and length in it."""

    segment: int
    offset: int
    length: int


def body_log_directory(outbox: Path) -> Path:
    """Where an outbox's bodies live: beside its database (outbox.sqlite → outbox.sqlite.bodies/)."""
    return outbox.with_name(outbox.name + ".bodies")


class BodyLog:
    """Appends from one thread (the outbox writer); reads and removals from any.

    `newer_than`: the newest segment rows already point at (the database's word, not the
    directory's): a new segment is numbered after it even if the files were removed."""

    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES, newer_than: int = 0) -> None:
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            _fsync_directory(directory.parent)  # the new directory's name, as durable as what goes in it
        self.directory, self.segment_bytes, self.newer_than = directory, segment_bytes, newer_than
        self._fd: int | None = None
        self._segment = 0
        self._rotate = False  # an append failed: the next one goes to a new segment

    def segments(self) -> list[int]:
        """The segments on disk, oldest first."""
        return sorted(int(found.group(1)) for name in os.listdir(self.directory)
                      if (found := _SEGMENT.match(name)))

    def path(self, segment: int) -> Path:
        return self.directory / f"{segment:08d}.bodies"

    def append(self, bodies: Sequence[bytes]) -> list[BodyRef]:
        """Write `bodies` at the end of the newest segment; durable when this returns."""
        if not bodies:
            return []
        if self._fd is None or self._rotate or os.fstat(self._fd).st_size >= self.segment_bytes:
            self._open_newest(rotate=self._fd is not None or self._rotate)
        assert self._fd is not None
        try:
            start = _append_all(self._fd, bodies)
            os.fdatasync(self._fd)
        except OSError:
            # What a failed fdatasync leaves on disk is unknown, and the kernel reports a write-back
            # error once only: a later fdatasync of the same file could succeed over lost bytes.
            self.close()
            self._rotate = True
            raise
        refs, offset = [], start
        for body in bodies:
            refs.append(BodyRef(self._segment, offset, len(body)))
            offset += len(body)
        return refs

    def read(self, ref: BodyRef) -> bytes:
        try:
            with open(self.path(ref.segment), "rb") as file:
                body = os.pread(file.fileno(), ref.length, ref.offset)
        except FileNotFoundError:
            raise BodyLogError(f"{self.path(ref.segment)}: missing (a hook's body was there)") from None
        if len(body) != ref.length:
            raise BodyLogError(f"{self.path(ref.segment)}: cut short (a hook's body ends at {ref.offset + ref.length})")
        return body

    def remove_unreferenced(self, referenced: Iterable[int], below: int) -> int:
        """Remove the segments older than `below` that are not in `referenced`; how many.

        `below` is the newest segment as it was before `referenced` was read: rows committed after
        that read point at it or at newer ones, as bodies are only ever appended to the newest."""
        keep = set(referenced)
        unused = [segment for segment in self.segments() if segment < below and segment not in keep]
        for segment in unused:
            self.path(segment).unlink(missing_ok=True)
        return len(unused)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open_newest(self, rotate: bool) -> None:
        """Append to the newest segment on disk (after a restart: where the last run stopped), or
        to a new one after it when `rotate`, when there is none, or when rows point at a newer one."""
        self.close()
        newest = max(self.segments(), default=0)
        keep_on = not rotate and newest >= max(self.newer_than, 1)
        segment = newest if keep_on else max(newest, self.newer_than) + 1
        fd = os.open(self.path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            # Every time, not only after creating the file: a run killed between creating it and
            # this left a file whose name may not be durable yet.
            _fsync_directory(self.directory)
        except OSError:
            os.close(fd)
            raise
        self._fd, self._segment, self._rotate = fd, segment, False


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append_all(fd: int, bodies: Sequence[bytes]) -> int:
    """Write `bodies` (not none) one after the other at the end of `fd` (opened O_APPEND); where they start."""
    starts = []
    for first in range(0, len(bodies), _IOV_MAX):
        chunk = bodies[first:first + _IOV_MAX]
        written = os.writev(fd, chunk)
        starts.append(os.lseek(fd, 0, os.SEEK_CUR) - written)
        if written < sum(len(body) for body in chunk):  # writev may write less (a signal, a full disk)
            rest = b"".join(chunk)[written:]
            while rest:
                rest = rest[os.write(fd, rest):]
    return starts[0]
