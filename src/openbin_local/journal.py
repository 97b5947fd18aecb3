"""The data dir of ``openbin serve`` on disk: a snapshot, and a journal of every write since.

Format 2 (``FORMAT``):

- ``dynamodb.json``: ``{"version": 2, "journal": N, "keys": {table: [key names]},
  "tables": {table: [item, ...]}}``, items in DynamoDB JSON with binary values as base64 text.
  It holds every write recorded in the journal segments numbered up to ``N``.
- ``journal/<n>.jsonl``: one line per item an emulated write touched, in the order of the writes,
  appended before the write is answered: ``{"t": table, "k": key, "i": item}``, ``"i": null``
  for a deleted item. Each line is the item's whole new state, so applying a line twice is
  harmless.
- ``s3/<bucket>/<file>``: one file per object, written (or removed) with the write itself.

Format 1 (``dynamodb.json`` with ``"version": 1``, no journal) is read as a snapshot that holds
nothing of a journal; the next compaction writes it as format 2.

A compaction folds the closed segments into a new snapshot and removes them. It reads and writes
files only (no emulator, no lock), so it runs in a separate process while the server serves
(``python -m openbin_local.journal compact <data dir> <upto>``), at start and at shutdown.

Damage: an incomplete last line (the process was killed while appending) is a write that was
never answered, and is dropped with a note. A line that cannot be read anywhere else, or a
snapshot that cannot be read, is not silently skipped: ``load`` recovers to the last write
before it and says how many entries it dropped (the damaged segments are kept aside in
``journal/damaged-<time>/``), or, for the snapshot, refuses to start with the reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 2
SNAPSHOT = "dynamodb.json"
JOURNAL = "journal"
Item = dict  # DynamoDB JSON, binary values as base64 text


class DataDirError(Exception):
    """The data dir cannot be used as it is; the message says why and what to do."""


@contextlib.contextmanager
def folding(data_dir: Path) -> Iterator[None]:
    """Held while the journal is read whole or folded: a compaction left running by a killed
    server finishes before a new server reads the data dir, and never the other way round."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(data_dir / "journal.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def key_id(key: dict) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def key_of(item: Item, names: list[str]) -> dict:
    return {name: item[name] for name in names}


def segment_number(path: Path) -> int | None:
    stem = path.name.removesuffix(".jsonl")
    return int(stem) if path.name.endswith(".jsonl") and stem.isdigit() else None


def segments(data_dir: Path) -> list[tuple[int, Path]]:
    folder = data_dir / JOURNAL
    if not folder.is_dir():
        return []
    found = [(segment_number(p), p) for p in folder.iterdir()]
    return sorted((n, p) for n, p in found if n is not None)


def segment_path(data_dir: Path, number: int) -> Path:
    return data_dir / JOURNAL / f"{number:08d}.jsonl"


@dataclass
class State:
    """The tables as the data dir holds them, and what reading them found."""

    keys: dict[str, list[str]]
    tables: dict[str, dict[str, Item]] = field(default_factory=dict)
    journal: int = 0  # the last segment the snapshot holds
    format: int = FORMAT  # of the snapshot read (1: written before the journal existed)
    applied: int = 0  # journal entries applied on top of the snapshot
    notes: list[str] = field(default_factory=list)  # what was dropped or migrated, for the user
    damaged: list[int] = field(default_factory=list)  # segments not (wholly) applied

    def apply(self, entry: dict) -> None:
        table = self.tables.setdefault(entry["t"], {})
        key = key_id(entry["k"])
        if entry["i"] is None:
            table.pop(key, None)
        else:
            table[key] = entry["i"]
        self.applied += 1

    def items(self, table: str) -> list[Item]:
        return list(self.tables.get(table, {}).values())


def read_snapshot(data_dir: Path, keys: dict[str, list[str]]) -> State:
    """The snapshot alone (format 1 or 2); an empty state when there is none."""
    state = State(keys=dict(keys))
    path = data_dir / SNAPSHOT
    if not path.exists():
        return state
    try:
        document = json.loads(path.read_bytes())
        version = document.get("version", 1)
        if not isinstance(version, int) or version > FORMAT:
            raise DataDirError(
                f"{path} was written by a newer OpenBin (format {version}; this one reads up "
                f"to {FORMAT}): run that version, or start on another --data-dir"
            )
        state.format = version
        state.journal = int(document.get("journal", 0))
        state.keys.update(document.get("keys", {}))
        for table, items in document["tables"].items():
            names = state.keys.get(table)
            if names is None:
                continue  # a table the template no longer has
            state.tables[table] = {key_id(key_of(item, names)): item for item in items}
    except DataDirError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise DataDirError(
            f"{path} is not a snapshot OpenBin can read ({type(error).__name__}: {error}). "
            "Nothing was changed. Put back a backup of the data dir, or move this file away to "
            "start from the journal alone"
        ) from None
    return state


def load(data_dir: Path, keys: dict[str, list[str]]) -> State:
    """The snapshot, then every journal segment after it, in order."""
    state = read_snapshot(data_dir, keys)
    later = [(n, p) for n, p in segments(data_dir) if n > state.journal]
    for index, (_, path) in enumerate(later):
        last = index == len(later) - 1
        data = path.read_bytes()
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]  # tail: after the last newline
        for line_number, line in enumerate(complete, 1):
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not {"t", "k", "i"} <= entry.keys():
                    raise ValueError("not a journal entry")
            except ValueError:
                dropped = (
                    len(complete)
                    - line_number
                    + 1
                    + sum(p.read_bytes().count(b"\n") for _, p in later[index + 1 :])
                )
                state.damaged = [n for n, _ in later[index:]]
                state.notes.append(
                    f"{path.name} line {line_number} is damaged: recovered to the write before "
                    f"it, dropping {dropped} journal entries after it (the damaged journal is "
                    f"kept in {JOURNAL}/damaged-*/)"
                )
                return state
            state.apply(entry)
        if tail:
            if last:
                state.notes.append(
                    f"dropped an incomplete last journal entry ({len(tail)} bytes in "
                    f"{path.name}): the server stopped while writing it, before answering"
                )
            else:
                state.damaged = [n for n, _ in later[index:]]
                state.notes.append(
                    f"{path.name} ends in the middle of an entry although later segments "
                    "exist: recovered to the write before it, dropping the later segments "
                    f"(kept in {JOURNAL}/damaged-*/)"
                )
                return state
    return state


def atomic_write(path: Path, data: bytes, sync: bool = True) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        if sync:
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_snapshot(data_dir: Path, state: State, upto: int) -> None:
    tables = ",".join(
        json.dumps(name) + ":" + json.dumps(list(items.values()), separators=(",", ":"))
        for name, items in sorted(state.tables.items())
    )
    head = json.dumps({"version": FORMAT, "journal": upto, "keys": state.keys})[:-1]
    atomic_write(data_dir / SNAPSHOT, (head + ',"tables":{' + tables + "}}").encode())


def snapshot_journal(data_dir: Path) -> int:
    """The last segment the snapshot holds, read from its head (written first) alone."""
    try:
        with open(data_dir / SNAPSHOT, "rb") as snapshot:
            head = snapshot.read(4096)
    except FileNotFoundError:
        return 0
    found = re.match(rb'\{"version": ?(\d+), ?"journal": ?(\d+)', head)
    return int(found.group(2)) if found else 0


def compact(data_dir: Path, keys: dict[str, list[str]], upto: int | None = None) -> State | None:
    """Fold the journal segments up to ``upto`` (all closed ones when None) into a new
    snapshot, then remove them. Safe to interrupt at any point: the snapshot names the last
    segment it holds, and segments are removed only after it is in place."""
    held = snapshot_journal(data_dir)
    if upto is None:
        upto = max((n for n, _ in segments(data_dir)), default=held)
    pending = [(n, p) for n, p in segments(data_dir) if held < n <= upto]
    if not any(p.stat().st_size for _, p in pending) and (data_dir / SNAPSHOT).exists():
        for n, path in segments(data_dir):  # nothing to fold: no need to read the snapshot
            if n <= upto:
                path.unlink(missing_ok=True)
        return None
    state = read_snapshot(data_dir, keys)
    folded = [(n, p) for n, p in segments(data_dir) if state.journal < n <= upto]
    for _, path in folded:
        for line in path.read_bytes().split(b"\n"):
            if line:
                state.apply(json.loads(line))
    if folded or state.journal < upto:
        write_snapshot(data_dir, state, max(upto, state.journal))
    for n, path in segments(data_dir):
        if n <= upto:
            path.unlink(missing_ok=True)
    return state


def set_aside(data_dir: Path, numbers: Iterable[int]) -> None:
    """Move damaged segments out of the journal (kept for inspection, never read again)."""
    numbers = list(numbers)
    if not numbers:
        return
    aside = data_dir / JOURNAL / f"damaged-{time.strftime('%Y%m%dT%H%M%S')}"
    aside.mkdir(mode=0o700, parents=True, exist_ok=True)
    for number in numbers:
        path = segment_path(data_dir, number)
        if path.exists():
            path.rename(aside / path.name)


class Journal:
    """The open segment: lines are appended with one ``write`` each call, before the emulated
    write is answered (so a killed server keeps every write it answered), and flushed to the
    disk (``fsync``) at most ``sync_interval`` seconds later."""

    def __init__(self, data_dir: Path, first: int) -> None:
        self.data_dir = data_dir
        (data_dir / JOURNAL).mkdir(mode=0o700, parents=True, exist_ok=True)
        self.number = first
        self.size = 0  # bytes appended to the open segment
        self.unsynced = False
        self._fd = self._open(first)

    def _open(self, number: int) -> int:
        return os.open(
            segment_path(self.data_dir, number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )

    def append(self, entries: Iterable[dict]) -> None:
        data = b"".join(
            json.dumps(entry, separators=(",", ":")).encode() + b"\n" for entry in entries
        )
        if data:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self.size += len(data)
            self.unsynced = True

    def sync(self) -> None:
        if self.unsynced:
            self.unsynced = False
            os.fsync(self._fd)

    def rotate(self) -> tuple[int, int]:
        """Start the next segment: the number of the one it closes, and its file descriptor,
        for the caller to ``finish`` once it no longer holds the emulator's lock."""
        closed, fd = self.number, self._fd
        self.number += 1
        self.size = 0
        self.unsynced = False
        self._fd = self._open(self.number)
        return closed, fd

    @staticmethod
    def finish(fd: int) -> None:
        """Flush a closed segment to the disk and close it."""
        os.fsync(fd)
        os.close(fd)

    def close(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)


def main(argv: list[str]) -> int:
    """``python -m openbin_local.journal compact <data dir> <upto>``: the server's background
    compaction. The tables' key names come in OPENBIN_JOURNAL_KEYS (JSON), as the server knows
    them from the template; the snapshot's own list completes them."""
    if len(argv) != 3 or argv[0] != "compact":
        print("usage: python -m openbin_local.journal compact <data dir> <upto>", file=sys.stderr)
        return 2
    data_dir, upto = Path(argv[1]), int(argv[2])
    os.nice(10)  # the server and its clients come first; this only has to finish eventually
    keys = json.loads(os.environ.get("OPENBIN_JOURNAL_KEYS", "{}"))
    try:
        with folding(data_dir):
            compact(data_dir, keys, upto)
    except DataDirError as error:
        print(f"openbin: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
