"""The data dir's format (openbin_local.journal): snapshot, journal, damage and migration. Files
only; the server's use of it is in tests/e2e/test_durability.py."""

from __future__ import annotations

import json

import pytest

from openbin_local import journal
from openbin_local.journal import DataDirError, Journal

KEYS = {"BinsTable": ["binId"], "VersionsTable": ["binId", "version"]}


def bin_item(bin_id: str, n: int) -> dict:
    return {"binId": {"S": bin_id}, "n": {"N": str(n)}, "record": {"B": "AAE="}}


def entry(bin_id: str, n: int | None) -> dict:
    item = None if n is None else bin_item(bin_id, n)
    return {"t": "BinsTable", "k": {"binId": {"S": bin_id}}, "i": item}


def bins(state) -> dict[str, int]:
    return {i["binId"]["S"]: int(i["n"]["N"]) for i in state.items("BinsTable")}


def test_writes_replay_in_order_on_top_of_the_snapshot(tmp_path):
    journal.write_snapshot(tmp_path, journal.State(KEYS, {"BinsTable": {}}), 0)
    log = Journal(tmp_path, 1)
    log.append([entry("a", 1), entry("b", 1)])
    log.append([entry("a", 2), entry("b", None)])
    log.close()
    state = journal.load(tmp_path, KEYS)
    assert bins(state) == {"a": 2}
    assert (state.applied, state.notes, state.damaged) == (4, [], [])


def test_a_format_1_snapshot_is_read_and_rewritten_as_format_2(tmp_path):
    (tmp_path / "dynamodb.json").write_text(
        json.dumps({"version": 1, "tables": {"BinsTable": [bin_item("a", 1)], "Gone": [{}]}})
    )
    state = journal.load(tmp_path, KEYS)
    assert (state.format, bins(state)) == (1, {"a": 1})
    journal.write_snapshot(tmp_path, state, 0)
    written = json.loads((tmp_path / "dynamodb.json").read_text())
    assert (written["version"], written["journal"], written["keys"]) == (2, 0, KEYS)
    assert journal.load(tmp_path, KEYS).format == 2


def test_compaction_folds_closed_segments_and_an_interrupted_one_is_harmless(tmp_path):
    log = Journal(tmp_path, 1)
    log.append([entry("a", 1)])
    closed, fd = log.rotate()
    Journal.finish(fd)
    log.append([entry("a", 2)])
    log.close()
    journal.compact(tmp_path, KEYS, closed)
    assert [n for n, _ in journal.segments(tmp_path)] == [2]
    assert json.loads((tmp_path / "dynamodb.json").read_text())["journal"] == 1
    assert bins(journal.load(tmp_path, KEYS)) == {"a": 2}
    # Killed after the snapshot, before the segments went: they are not applied twice (and
    # would be harmless anyway: each line is a whole item).
    journal.compact(tmp_path, KEYS)
    (tmp_path / "journal" / "00000002.jsonl").write_text(json.dumps(entry("a", 2)) + "\n")
    assert bins(journal.load(tmp_path, KEYS)) == {"a": 2}


def test_an_incomplete_last_entry_is_dropped_with_a_note(tmp_path):
    log = Journal(tmp_path, 1)
    log.append([entry("a", 1)])
    log.close()
    with open(journal.segment_path(tmp_path, 1), "ab") as segment:
        segment.write(b'{"t":"BinsTable","k":{"bin')  # killed mid-append: never answered
    state = journal.load(tmp_path, KEYS)
    assert bins(state) == {"a": 1}
    assert state.damaged == []
    assert state.notes == [
        "dropped an incomplete last journal entry (26 bytes in 00000001.jsonl): the server "
        "stopped while writing it, before answering"
    ]


def test_a_damaged_entry_recovers_to_the_write_before_it_and_says_what_was_dropped(tmp_path):
    log = Journal(tmp_path, 1)
    log.append([entry("a", 1), entry("a", 2)])
    Journal.finish(log.rotate()[1])
    log.append([entry("a", 3)])
    log.close()
    first = journal.segment_path(tmp_path, 1)
    first.write_bytes(first.read_bytes().replace(b'"n":{"N":"2"}', b'"n":{"N":"2"'))
    state = journal.load(tmp_path, KEYS)
    assert bins(state) == {"a": 1}
    assert state.damaged == [1, 2]
    assert state.notes == [
        "00000001.jsonl line 2 is damaged: recovered to the write before it, dropping 2 "
        "journal entries after it (the damaged journal is kept in journal/damaged-*/)"
    ]
    journal.set_aside(tmp_path, state.damaged)
    assert journal.segments(tmp_path) == []
    assert len(list((tmp_path / "journal").glob("damaged-*/*.jsonl"))) == 2


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"version": 2, "tables": {"BinsTable": [', "is not a snapshot OpenBin can read"),
        (b"\x00\x01garbage", "is not a snapshot OpenBin can read"),
        (b'{"version": 2, "tables": {"BinsTable": [{"n": {"N": "1"}}]}}', "KeyError"),
        (b'{"version": 3, "tables": {}}', r"was written by a newer OpenBin \(format 3"),
    ],
    ids=["truncated", "garbage", "item-without-key", "newer"],
)
def test_a_snapshot_that_cannot_be_read_is_refused_with_the_reason(tmp_path, content, reason):
    (tmp_path / "dynamodb.json").write_bytes(content)
    with pytest.raises(DataDirError, match=reason):
        journal.load(tmp_path, KEYS)
    assert (tmp_path / "dynamodb.json").read_bytes() == content  # nothing was changed
