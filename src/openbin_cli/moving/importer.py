"""``openbin import``: a source (a JSONBin v3 API, or an archive of ``openbin export``) walked
item by item into a target account, resumably.

The state file remembers the target account and every item done; each is written as soon as it
is done, so a run stopped anywhere (the source's allowance used up, the source failing, Ctrl-C)
goes on where it stopped, and a second run changes nothing. What the target already holds is
compared, never overwritten (``moving.target``)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from openbin_cli.moving.archive import Archive
from openbin_cli.moving.jsonbin import JsonBinSource, Listed, SourceStopped

Call = Callable[[str, dict], dict]
NOT_MOVED = (
    "not moved: access keys' secrets (make new keys: openbin key create-access), usage logs, "
    "webhook settings, and (from JSONBin) schema docs no collection names, which it cannot list"
)


class StateError(Exception):
    pass


class State(msgspec.Struct):
    source: str
    source_account: str = ""  # a fingerprint of the source's key: another key, another import
    target: str = ""  # the data dir or stack it imports into
    account_id: str | None = None
    done: dict[str, str] = msgspec.field(default_factory=dict)  # "bin:<id>" -> outcome
    skipped: dict[str, str] = msgspec.field(default_factory=dict)  # "bin:<id>" -> reason
    requests_used: int = 0
    bins: int = 0
    versions: int = 0
    collections: int = 0
    schema_docs: int = 0
    # the access keys made anew (archive), by name and ID: their secrets are never kept here
    access_keys: list[dict] = msgspec.field(default_factory=list)

    @classmethod
    def load(cls, path: Path, source: str, source_account: str = "", target: str = "") -> State:
        if not path.exists():
            return cls(source=source, source_account=source_account, target=target)
        try:
            state = msgspec.json.decode(path.read_bytes(), type=cls)
        except (OSError, msgspec.DecodeError) as error:
            raise StateError(f"cannot read the state file {path}: {error}") from None
        another = None
        if state.source != source:
            another = f"from {state.source}"
        elif state.source_account != source_account:
            another = "from another account of the source (another master key)"
        elif state.target and state.target != target:
            another = f"into {state.target}"
        if another:
            raise StateError(
                f"the state file {path} is for another import ({another}): "
                "pass --state to name another"
            )
        return state

    def save(self, path: Path) -> None:
        """Written whole, then renamed into place; readable by its owner only."""
        work = path.with_name(path.name + ".tmp")
        fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(msgspec.json.encode(self))
        os.replace(work, path)


class Progress:
    """One line on stderr: redrawn on a terminal, every 25 bins otherwise."""

    def __init__(self, state: State, source: JsonBinSource | None) -> None:
        self.state, self.source = state, source
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def show(self, final: bool = False) -> None:
        s = self.state
        used = s.requests_used + (self.source.requests if self.source else 0)
        line = f"openbin import: {s.bins} bins, {s.versions} versions, {used} source requests"
        if self.tty:
            print(f"\r{line}", end="\n" if final else "", file=sys.stderr, flush=True)
        elif final or s.bins // 25 != self.shown:
            self.shown = s.bins // 25
            print(line, file=sys.stderr, flush=True)


class Importer:
    def __init__(self, call: Call, state: State, state_path: Path) -> None:
        self.call, self.state, self.path = call, state, state_path
        self.source: JsonBinSource | None = None
        self.progress = Progress(state, None)
        self.new_master_key: str | None = None
        self.new_access_keys: list[dict] = []  # with their secrets: this run's summary only

    def account(self, account_id: str | None, plan: str, requests: int | None = None) -> str:
        s = self.state
        if s.account_id is None:
            made = self.call(
                "import.account", {"account_id": account_id, "plan": plan, "requests": requests}
            )
            s.account_id = made["accountId"]
            self.new_master_key = made.get("masterKey")
            self.save()
            if self.new_master_key:  # now, in case the run never reaches its summary
                print(
                    f"openbin import: made account {s.account_id}; its master key, shown only "
                    f"this once:\n  {self.new_master_key}",
                    file=sys.stderr,
                    flush=True,
                )
        elif account_id is not None and account_id != s.account_id:
            raise StateError(
                f"the state file {self.path} imports into account {s.account_id}, not {account_id}"
            )
        return s.account_id

    def save(self) -> None:
        if self.source is not None:  # the source's requests so far, kept with what they made
            self.state.requests_used += self.source.requests
            self.source.requests = 0
        self.state.save(self.path)

    def _record(self, key: str, outcome: dict, counter: str | None = None) -> None:
        s = self.state
        if outcome["result"] == "conflict":  # reported, and not asked for again
            s.skipped[key] = outcome.get("reason", "conflict")
            s.done[key] = "conflict"
        else:
            s.done[key] = outcome["result"]
            s.skipped.pop(key, None)
            if outcome.get("reason"):
                s.skipped[key] = outcome["reason"]  # imported, with a note
            if counter:
                setattr(s, counter, getattr(s, counter) + 1)
        self.save()

    def _item(self, kind: str, row: dict, op: str, counter: str, **args) -> None:
        """One schema doc or collection, unless an earlier run did it."""
        key = f"{kind}:{row['id']}"
        if key in self.state.done:
            return
        sent = {"account_id": self.state.account_id, "name": row["name"], **args}
        self._record(key, self.call(op, {**sent, "created_at": row["createdAt"]}), counter)

    def schema_doc(self, doc: dict) -> None:
        self._item(
            "schemaDoc",
            doc,
            "import.schema-doc",
            "schema_docs",
            schema_doc_id=doc["id"],
            schema=doc["schema"],
        )

    def collection(self, row: dict) -> None:
        self._item(
            "collection",
            row,
            "import.collection",
            "collections",
            collection_id=row["id"],
            schema_doc_id=row.get("schemaDocId"),
        )

    def bin(self, row: dict, records: Iterator[tuple[bytes | Path, str]]) -> None:
        """``row``: {"id", "private", "name", "collectionId", "createdAt"}; ``records``: each
        version's bytes (or a file holding them) and time, oldest first."""
        key = f"bin:{row['id']}"
        with tempfile.TemporaryDirectory(prefix="openbin-import-") as staging:
            versions = []
            for number, (data, made) in enumerate(records):
                if isinstance(data, bytes):
                    file = Path(staging) / str(number)
                    file.write_bytes(data)
                else:
                    file, data = data, data.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                versions.append({"file": str(file), "sha256": digest, "createdAt": made})
            args = {"account_id": self.state.account_id, "bin": row, "versions": versions}
            outcome = self.call("import.bin", args)
        self._record(key, outcome, "bins")
        if outcome["result"] != "conflict":
            self.state.versions += outcome.get("versions", 0)
            self.save()
        self.progress.show()

    def skip(self, key: str, reason: str) -> None:
        self.state.skipped[key] = reason
        self.save()

    # -- the two sources -------------------------------------------------------------------
    def from_jsonbin(
        self, source: JsonBinSource, collections: list[dict], extra_bins: list[str]
    ) -> None:
        """``collections``: what ``source.collections()`` answered (the first call, which
        checks the URL and the key before anything is written)."""
        self.source = source
        self.progress = Progress(self.state, source)
        for row in collections:
            sid = row.get("schemaDocId")
            if sid and f"schemaDoc:{sid}" not in self.state.done:
                doc = source.schema_doc(sid)
                if doc is None:
                    self.skip(f"schemaDoc:{sid}", "the source did not answer it")
                else:
                    self.schema_doc(doc)
            meta = row.get("collectionMeta") or {}
            self.collection(
                {
                    "id": row["record"],
                    "name": meta.get("name") or row["record"],
                    "createdAt": row.get("createdAt"),
                    "schemaDocId": sid,
                }
            )
        seen: set[str] = set()
        for collection_id in [*(c["record"] for c in collections), None]:
            for listed in source.bins(collection_id):
                seen.add(listed.bin_id)
                self._jsonbin_bin(source, listed)
        for bin_id in extra_bins:
            if bin_id not in seen and f"bin:{bin_id}" not in self.state.done:
                try:
                    listed = source.listed(bin_id)
                except LookupError as missing:
                    self.skip(f"bin:{bin_id}", f"the source did not answer it: {missing}")
                    continue
                self._jsonbin_bin(source, listed)

    def _jsonbin_bin(self, source: JsonBinSource, listed: Listed) -> None:
        key = f"bin:{listed.bin_id}"
        if key in self.state.done:
            return
        there = self.call(
            "import.bin-state", {"account_id": self.state.account_id, "bin_id": listed.bin_id}
        )
        if there["state"] == "other":  # never overwritten: not worth the source's requests
            self._record(
                key, {"result": "conflict", "reason": "another bin with this ID is at the target"}
            )
            return
        try:
            versions = source.versions(listed)
        except (LookupError, ValueError, KeyError, RecursionError) as error:
            self.skip(key, f"the source did not answer it whole: {error}")
            return
        row = {
            "id": listed.bin_id,
            "private": listed.private,
            "name": listed.name,
            "collectionId": listed.collection_id,
            "createdAt": listed.created_at,
        }
        self.bin(row, iter(versions))

    def from_archive(self, archive: Archive) -> None:
        for doc in archive.rows("schema-docs.jsonl"):
            self.schema_doc(doc)
        for row in archive.rows("collections.jsonl"):
            self.collection(row)
        for row in archive.rows("bins.jsonl"):
            if f"bin:{row['id']}" in self.state.done:
                continue
            versions = row.pop("versions")
            self.bin(row, ((archive.record_file(v["sha256"]), v["createdAt"]) for v in versions))
        for key in archive.rows("access-keys.jsonl"):
            done = f"accessKey:{key['id']}"
            if done in self.state.done:
                continue
            args = {
                "account_id": self.state.account_id,
                "name": key["name"],
                "permissions": key["permissions"]["bins"]
                if "bins" in key["permissions"]
                else key["permissions"],
            }
            try:
                made = self.call("import.access-key", args)
            except Exception as refused:  # noqa: BLE001 (the target's refusal, reported)
                self.skip(done, f"not made again: {getattr(refused, 'message', refused)}")
                self.state.done[done] = "conflict"
                self.save()
                continue
            self.new_access_keys.append(made)
            self.state.access_keys.append(
                {"name": made["name"], "accessKeyId": made["accessKeyId"]}
            )
            self.state.done[done] = "imported"
            self.save()

    def summary(self, stopped: str | None) -> dict[str, Any]:
        s = self.state
        used = s.requests_used + (self.source.requests if self.source else 0)
        out: dict[str, Any] = {"accountId": s.account_id}
        if self.new_master_key:
            out["masterKey"] = self.new_master_key
        out.update(
            bins=s.bins,
            versions=s.versions,
            collections=s.collections,
            schemaDocs=s.schema_docs,
            requestsUsed=used,
            skipped=[{"id": k, "reason": v} for k, v in sorted(s.skipped.items())],
            resumable=stopped is not None,
        )
        if self.new_access_keys:  # their secrets, shown this once
            out["accessKeys"] = self.new_access_keys
        if stopped:
            out["stopped"] = stopped
        return out

    def finish(self, stopped: str | None) -> dict:
        self.save()
        self.progress.show(final=True)
        return self.summary(stopped)


def print_summary(summary: dict) -> None:
    print(json.dumps(summary), flush=True)


__all__ = ["Importer", "SourceStopped", "State", "StateError", "print_summary", "NOT_MOVED"]
