"""The fallback's spool: Twilio's signed forms appended to a local file, one fsync'd JSON line each."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Writers append here; an import renames it aside (so writers start a new file) before reading.
SPOOL_NAME = "inbound.jsonl"
CLAIMED_GLOB = "importing-*.jsonl"
# A claimed file with a line that cannot be read or stored is kept under this prefix for a person.
DAMAGED_PREFIX = "damaged-"
IMPORT_LOCK = ".import.lock"


@dataclass(frozen=True)
class SpooledMessage:
    """One webhook form as Twilio signed it: every (key, value) pair, repeated keys included, in order."""

    fields: tuple[tuple[str, str], ...]
    spooled_at: datetime

    def form(self) -> dict[str, str]:
        """The first value of each key, as the webhook's MultiDict.get() reads it."""
        form: dict[str, str] = {}
        for key, value in self.fields:
            form.setdefault(key, value)
        return form


def _fsync_directory(directory: Path) -> None:
    # A new or renamed file survives a power cut only once its directory entry is on disk too.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def append(directory: Path, fields: Iterable[tuple[str, str]], now: datetime) -> None:
    """Append one message and return only once it is on disk; raises OSError if it could not be."""
    line = json.dumps({"spooled_at": now.isoformat(), "form": [[k, v] for k, v in fields]}, ensure_ascii=False)
    data = (line + "\n").encode()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / SPOOL_NAME
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            # The lock orders writers (several gunicorn workers) and keeps a claim from renaming
            # the file under us; closing the descriptor releases it.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not _same_file(fd, path):
                continue  # claimed between our open and our lock: write to the new file
            size = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                # A half-written line (a full disk) would corrupt the next one: take it back.
                os.ftruncate(fd, size)
                raise
            if size == 0:
                _fsync_directory(directory)
            return
        finally:
            os.close(fd)


def waiting(directory: Path) -> bool:
    """True if messages wait in the spool: the current file holds something, or a claimed file is left.

    A stat and a listing, cheap enough to ask before every turn (worker/tasks.py)."""
    try:
        if (directory / SPOOL_NAME).stat().st_size > 0:
            return True
    except FileNotFoundError:
        pass
    return directory.is_dir() and any(directory.glob(CLAIMED_GLOB))


def claim(directory: Path) -> list[Path]:
    """Move the current spool aside for import and return every claimed file, oldest first.

    Files a crashed import left behind are returned again: importing is idempotent by MessageSid."""
    path = directory / SPOOL_NAME
    if path.exists():
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path) and os.fstat(fd).st_size > 0:
                os.rename(path, directory / f"importing-{time.time_ns():020d}.jsonl")
                _fsync_directory(directory)
        finally:
            os.close(fd)
    return sorted(directory.glob(CLAIMED_GLOB)) if directory.is_dir() else []


def read(path: Path) -> tuple[list[SpooledMessage], int]:
    """The messages of a claimed file, and how many of its lines could not be read."""
    messages: list[SpooledMessage] = []
    unreadable = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                fields = tuple((str(k), str(v)) for k, v in record["form"])
                messages.append(SpooledMessage(fields, datetime.fromisoformat(record["spooled_at"])))
            except (ValueError, KeyError, TypeError):
                unreadable += 1
    return messages, unreadable


def release(path: Path, *, keep: bool) -> None:
    """Remove an imported file, or keep it as damaged-… when some line could not be imported."""
    if keep:
        path.rename(path.with_name(DAMAGED_PREFIX + path.name))
    else:
        path.unlink(missing_ok=True)
    _fsync_directory(path.parent)


@contextmanager
def import_lock(directory: Path) -> Iterator[bool]:
    """True while this process is the only importer of `directory` (beat and the CLI may overlap)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / IMPORT_LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
