"""§3.5 and §3.6: a bin's version history as a whole, and its name and privacy."""

from __future__ import annotations

from openbin import retry
from openbin.errors import InvalidRequest, NotFound, Unavailable
from openbin.services import auth
from openbin.services.access import BIN_NOT_FOUND, open_bin
from openbin.services.auth import Credentials
from openbin.services.bins import UNAVAILABLE, check_bin_name, new_revision
from openbin.storage import Storage
from openbin.storage.bins import RevisionConflict
from openbin.storage.dynamo import flag, s
from openbin.validation import parse_bool


class BinMetaService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def count_versions(self, credentials: Credentials, bin_id: str) -> tuple[dict, int]:
        opened = open_bin(self.storage, credentials, bin_id, auth.COUNT_VERSIONS)
        body = {
            "metadata": {
                "id": bin_id,
                "versionCount": opened.bin.latest_version,
                "private": opened.bin.private,
            }
        }
        return body, opened.remaining

    def delete_versions(
        self, credentials: Credentials, bin_id: str, preserve_latest: str | None
    ) -> tuple[dict, int]:
        storage = self.storage
        opened = open_bin(storage, credentials, bin_id, auth.MANAGE)
        preserve = parse_bool("X-Preserve-Latest", preserve_latest, False)
        bin = opened.bin
        for attempt in retry.attempts():
            if attempt >= 2:  # after a pause: read the state again
                bin = self._reread(bin_id)
            if bin.latest_version == 0:
                raise NotFound("No versions found")
            history = storage.bins.list_versions(bin_id)
            if preserve:
                keep, drop = bin.record, [v.record for v in history]
            else:
                base = next((v for v in history if v.version == 0), None)
                if base is None:  # history changed under us: read again
                    bin = self._reread(bin_id)
                    continue
                keep = base.record
                drop = [bin.record, *(v.record for v in history if v.version != 0)]
            freed = sum(ref.size for ref in drop)
            try:
                storage.bins.reset_history(bin, keep, new_revision(), freed)
            except RevisionConflict as conflict:
                bin = conflict.current or self._reread(bin_id)
                continue
            # committed: what follows only tidies up what is no longer reachable
            if storage.bins.delete_versions(bin_id, history):
                storage.records.discard_all(drop)
            message = "Versions for the Bin are deleted successfully"
            if preserve:
                message += " and latest version preserved on the base record."
            body = {
                "metadata": {"id": bin_id, "versionsDeleted": bin.latest_version},
                "message": message,
            }
            return body, opened.account.requests_remaining
        raise Unavailable(UNAVAILABLE)

    def _reread(self, bin_id: str):
        bin = self.storage.bins.get(bin_id)
        if bin is None:
            raise NotFound(BIN_NOT_FOUND)
        return bin

    def rename(self, credentials: Credentials, bin_id: str, name: str | None) -> tuple[dict, int]:
        opened = open_bin(self.storage, credentials, bin_id, auth.MANAGE)
        if name is None:
            raise InvalidRequest("You need to pass X-Bin-Name header to Update the Bin Name")
        check_bin_name(name)
        if not self.storage.bins.set_attribute(bin_id, "name", s(name)):
            raise NotFound(BIN_NOT_FOUND)
        return {"record": bin_id, "metadata": {"name": name}}, opened.account.requests_remaining

    def set_privacy(
        self, credentials: Credentials, bin_id: str, private: str | None
    ) -> tuple[dict, int]:
        opened = open_bin(self.storage, credentials, bin_id, auth.MANAGE)
        if private is None:
            raise InvalidRequest(
                "You need to provide X-Bin-Private header to change the Bin privacy"
            )
        value = parse_bool("X-Bin-Private", private, None)
        if not self.storage.bins.set_attribute(bin_id, "private", flag(value)):
            raise NotFound(BIN_NOT_FOUND)
        body = {"record": bin_id, "metadata": {"private": value}}
        return body, opened.account.requests_remaining
