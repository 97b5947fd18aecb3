"""An account as a directory (docs/MOVING.md, "The archive"): ``openbin export`` writes it,
``openbin import --archive`` reads it back.

    manifest.json       format, version, account, counts, and every file's SHA-256 and size
    account.json        the account: plan, allowance, createdAt
    schema-docs.jsonl   {"id", "name", "createdAt", "schema"}            (schema: JSON text)
    collections.jsonl   {"id", "name", "createdAt", "schemaDocId"}
    access-keys.jsonl   {"id", "name", "createdAt", "permissions"}      (never a secret)
    bins.jsonl          {"id", "private", "name", "collectionId", "createdAt",
                         "versions": [{"version", "createdAt", "bytes", "sha256"}]}
    records/<sha256>    each record's bytes, as stored, once

The export is written beside ``out`` and renamed into place when whole; the import checks every
checksum before it writes anything."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from openbin.clock import now_iso
from openbin.errors import OpenBinError
from openbin.models import Bin, ListingCursor
from openbin.services.accounts import AccountService
from openbin.storage import Storage

FORMAT = "openbin-account-archive"
FORMAT_VERSION = 1
LISTS = ("schema-docs.jsonl", "collections.jsonl", "access-keys.jsonl", "bins.jsonl")


class ArchiveError(Exception):
    """An archive that cannot be read back as it was written."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lines(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows)


def _bins_of(storage: Storage, account_id: str, collection_id: str | None) -> Iterator[Bin]:
    cursor = None
    while True:
        page = storage.bins.page(account_id, collection_id, cursor, ascending=True, limit=100)
        for summary in page:
            bin = storage.bins.get(summary.bin_id)
            if bin is not None:
                yield bin
        if len(page) < 100:
            return
        cursor = ListingCursor(page[-1].bin_id, page[-1].created_at)


def export_account(storage: Storage, account_id: str, out: str) -> dict:
    """Write the account to ``out`` (a directory that must not exist, or be empty)."""
    account = AccountService(storage).get(account_id)
    target = Path(out).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OpenBinError(f"{target} exists and is not an empty directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise OpenBinError(f"cannot write {target}: {error.strerror}") from None
    try:
        counts = _write(storage, account, work)
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        raise OpenBinError(f"cannot write {target}: {error.strerror}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {"accountId": account_id, "out": str(target), **counts}


def _write(storage: Storage, account, work: Path) -> dict:
    files: dict[str, dict] = {}

    def put(name: str, data: bytes) -> None:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[name] = {"sha256": _sha256(data), "bytes": len(data)}

    account_id = account.account_id
    put(
        "account.json",
        json.dumps(
            {
                "accountId": account_id,
                "plan": account.plan,
                "requestsRemaining": account.requests_remaining,
                "createdAt": account.created_at,
            }
        ).encode(),
    )
    docs = storage.schema_docs.list_by_owner(account_id)
    put(
        "schema-docs.jsonl",
        _lines(
            [
                {
                    "id": d.schema_doc_id,
                    "name": d.name,
                    "createdAt": d.created_at,
                    "schema": d.schema,
                }
                for d in docs
            ]
        ),
    )
    collections = sorted(
        storage.collections.list_by_owner(account_id), key=lambda c: (c.created_at, c.collection_id)
    )
    put(
        "collections.jsonl",
        _lines(
            [
                {
                    "id": c.collection_id,
                    "name": c.name,
                    "createdAt": c.created_at,
                    "schemaDocId": c.schema_doc_id,
                }
                for c in collections
            ]
        ),
    )
    keys = storage.keys.access_keys_of(account_id)
    put(
        "access-keys.jsonl",
        _lines(
            [
                {
                    "id": k.access_key_id,
                    "name": k.name,
                    "createdAt": k.created_at,
                    "permissions": k.permissions,
                }
                for k in keys
            ]
        ),
    )
    rows, versions = [], 0
    for collection_id in [None, *(c.collection_id for c in collections)]:
        for bin in _bins_of(storage, account_id, collection_id):
            row = _bin_row(storage, bin, put, files)
            versions += len(row["versions"])
            rows.append(row)
    put("bins.jsonl", _lines(rows))
    counts = {
        "bins": len(rows),
        "versions": versions,
        "collections": len(collections),
        "schemaDocs": len(docs),
        "accessKeys": len(keys),
    }
    manifest = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "exportedAt": now_iso(),
        "accountId": account_id,
        "counts": counts,
        "files": files,
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return counts


def _bin_row(storage: Storage, bin: Bin, put, files: dict) -> dict:
    """A bin and every version, oldest first; version k's time is when its number was made."""
    kept = {
        v.version: v for v in storage.bins.versions_between(bin.bin_id, 0, bin.latest_version - 1)
    }
    made = [bin.created_at]
    refs = []
    for number in range(bin.latest_version + 1):
        if number == bin.latest_version:
            refs.append(bin.record)
        else:
            refs.append(kept[number].record)
        if number >= 1:
            made.append(kept[number - 1].created_at if number - 1 in kept else bin.created_at)
    versions = []
    for number, ref in enumerate(refs):
        data = storage.records.load(ref)
        digest = _sha256(data)
        if f"records/{digest}" not in files:
            put(f"records/{digest}", data)
        versions.append(
            {"version": number, "createdAt": made[number], "bytes": len(data), "sha256": digest}
        )
    return {
        "id": bin.bin_id,
        "private": bin.private,
        "name": bin.name,
        "collectionId": bin.collection_id,
        "createdAt": bin.created_at,
        "versions": versions,
    }


class Archive:
    """An archive read back: every file checked against the manifest when opened."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        try:
            manifest = json.loads((self.path / "manifest.json").read_bytes())
        except OSError as error:
            raise ArchiveError(f"{self.path} is not an OpenBin archive: {error.strerror}") from None
        except ValueError:
            raise ArchiveError(f"{self.path}/manifest.json is not JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"{self.path} is not an OpenBin archive (no {FORMAT} manifest)")
        if manifest.get("formatVersion") != FORMAT_VERSION:
            raise ArchiveError(
                f"{self.path}: archive format version {manifest.get('formatVersion')!r} is not "
                f"one this openbin reads ({FORMAT_VERSION})"
            )
        self.manifest = manifest
        self._verify()
        self._check_rows()

    def _verify(self) -> None:
        files = self.manifest.get("files")
        if not isinstance(files, dict) or not all(
            name in files for name in ("account.json", *LISTS)
        ):
            raise ArchiveError(f"{self.path}: the manifest does not list the archive's files")
        for name, entry in files.items():
            path = (self.path / name).resolve()
            if self.path not in path.parents:
                raise ArchiveError(f"{self.path}: the manifest names a file outside it: {name}")
            try:
                data = path.read_bytes()
            except OSError:
                raise ArchiveError(f"{self.path}: {name} is missing") from None
            if _sha256(data) != entry.get("sha256") or len(data) != entry.get("bytes"):
                raise ArchiveError(f"{self.path}: {name} does not match its checksum")

    def _check_rows(self) -> None:
        """What the archive holds is what ``openbin export`` writes (checked before anything is
        imported: an archive that is not refuses the import, which then writes nothing)."""
        from openbin import ids
        from openbin_cli.moving.target import TIME

        def bad(what: str) -> ArchiveError:
            return ArchiveError(f"{self.path}: {what}")

        files = self.manifest["files"]
        seen: set[str] = set()
        versions = 0
        for row in self.rows("bins.jsonl"):
            bin_id = row.get("id") if isinstance(row, dict) else None
            if not isinstance(bin_id, str) or not ids.is_id(bin_id):
                raise bad("a bin's ID is not 24 hex characters")
            if bin_id in seen:
                raise bad(f"bin {bin_id} is there twice")
            seen.add(bin_id)
            name, made = row.get("name"), row.get("createdAt")
            if not isinstance(row.get("private"), bool):
                raise bad(f"bin {bin_id}: private is not true or false")
            if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 128):
                raise bad(f"bin {bin_id}: a name must be 1 to 128 characters")
            history = row.get("versions")
            if not isinstance(made, str) or not TIME.fullmatch(made):
                raise bad(f"bin {bin_id}: createdAt is not an ISO-8601 UTC time")
            if not isinstance(history, list) or not history:
                raise bad(f"bin {bin_id}: it has no version")
            for version in history:
                at = version.get("createdAt") if isinstance(version, dict) else None
                if not isinstance(at, str) or not TIME.fullmatch(at):
                    raise bad(f"bin {bin_id}: a version's createdAt is not an ISO-8601 UTC time")
                if f"records/{version.get('sha256')}" not in files:
                    raise bad(f"bin {bin_id}: a version names a record the archive lacks")
            versions += len(history)
        others = {
            "schemaDocs": self.rows("schema-docs.jsonl"),
            "collections": self.rows("collections.jsonl"),
            "accessKeys": self.rows("access-keys.jsonl"),
        }
        for kind in ("schemaDocs", "collections"):
            for row in others[kind]:
                if not isinstance(row, dict) or not ids.is_id(row.get("id")):
                    raise bad(f"an ID in {kind} is not 24 hex characters")
                if not isinstance(row.get("name"), str):
                    raise bad(f"{kind}: {row.get('id')} has no name")
        found = {"bins": len(seen), "versions": versions, **{k: len(v) for k, v in others.items()}}
        counted = self.manifest.get("counts") or {}
        if {k: counted.get(k) for k in found} != found:
            raise bad(f"it holds {found}, not what its manifest counts ({counted})")

    def account(self) -> dict:
        return json.loads((self.path / "account.json").read_bytes())

    def rows(self, name: str) -> list[dict]:
        text = (self.path / name).read_text("utf-8")
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            raise ArchiveError(f"{self.path}: {name} is not JSON lines") from None

    def record_file(self, sha256: str) -> Path:
        if f"records/{sha256}" not in self.manifest["files"]:
            raise ArchiveError(f"{self.path}: a version names a record the archive lacks")
        return self.path / "records" / sha256
