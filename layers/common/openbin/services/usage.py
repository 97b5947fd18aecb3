"""docs/API.md §7 Usage (beyond JSONBin): where the caller's account stands."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import msgspec

from openbin.errors import InvalidRequest, NotFound
from openbin.models import Account
from openbin.services.auth import Credentials
from openbin.services.gate import MasterChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import Storage

NO_LOGS = "No logs found"
BAD_DAY = "The date must be a day in DD-MM-YYYY form"
DAY_FORM = re.compile(r"(\d{2})-(\d{2})-(\d{4})")

USAGE = Pipeline("GET /v3/usage", S.KEY, S.ALLOWANCE)
LOG_DAYS = Pipeline("GET /v3/l", S.KEY, S.ALLOWANCE)
LOG_DAY = Pipeline("GET /v3/l/{day}", S.KEY, S.ALLOWANCE, S.HEADERS)


def log_day_name(day: date) -> str:
    """A usage log's day as JSONBin names it: DD-MM-YYYY."""
    return day.strftime("%d-%m-%Y")


class UsageLogDay(msgspec.Struct, frozen=True):
    day: date
    lines: list[bytes]  # one JSON object a line, in the order they were filed


class Usage(msgspec.Struct, frozen=True):
    account: Account  # as it is after this request's charge
    record_size_limit: int  # bytes, by its plan


def usage_of(account: Account, storage: Storage) -> Usage:
    return Usage(account, storage.settings.record_limit(account.plan))


class UsageService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def usage(self, credentials: Credentials) -> Usage:
        checks = MasterChecks(self.storage, credentials)
        return USAGE.run(checks, lambda: usage_of(checks.account, self.storage))

    # -- usage logs (docs/API.md §8) -----------------------------------------------------------
    def _kept_since(self) -> date:
        """The oldest day still kept (S3 removes older ones, within a day or two)."""
        return datetime.now(UTC).date() - timedelta(days=self.storage.settings.usage_log_days)

    def log_days(self, credentials: Credentials) -> list[date]:
        """The caller's account's days with a log, newest first."""
        checks = MasterChecks(self.storage, credentials)
        return LOG_DAYS.run(checks, lambda: self._log_days(checks.caller.account_id))

    def _log_days(self, account_id: str) -> list[date]:
        since = self._kept_since()
        days = [d for d in self.storage.usage_logs.days(account_id) if d >= since]
        if not days:
            raise NotFound(NO_LOGS)
        return sorted(days, reverse=True)

    def log_day(self, credentials: Credentials, day_text: str) -> UsageLogDay:
        checks = MasterChecks(self.storage, credentials)
        days: list[date] = []

        def check_headers() -> None:
            found = DAY_FORM.fullmatch(day_text)
            try:
                day = date(int(found[3]), int(found[2]), int(found[1])) if found else None
            except ValueError:  # 31-02-2026
                day = None
            if day is None:
                raise InvalidRequest(BAD_DAY)
            days.append(day)

        checks.add(S.HEADERS, check_headers)
        return LOG_DAY.run(
            checks, lambda: self._log_day(checks.caller.account_id, days[0], day_text)
        )

    def _log_day(self, account_id: str, day: date, day_text: str) -> UsageLogDay:
        lines = self.storage.usage_logs.lines(account_id, day)
        if day < self._kept_since() or not lines:
            raise NotFound(f"Backup not found for {day_text}.")
        return UsageLogDay(day, lines)
