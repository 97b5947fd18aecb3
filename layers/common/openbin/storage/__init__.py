"""Repositories: the only code that knows table layouts and the S3 key scheme. Services speak
to them in domain objects (``openbin.models``); ``Storage.read`` fetches whatever a request
needs in one round trip.

``get_storage()`` wires them to the configured tables and the shared clients on first use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

# botocore's client machinery, imported with the repositories: a function with storage loads
# it at init (Lambda's init phase, and SnapStart's snapshot), not in its first request.
import botocore.config  # noqa: F401
import botocore.session  # noqa: F401
import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from openbin import aws
from openbin.settings import Settings, get_settings
from openbin.storage.accounts import AccountRepository
from openbin.storage.batch import Found, Wanted, read
from openbin.storage.bins import BinRepository
from openbin.storage.collections import CollectionRepository
from openbin.storage.idempotency import IdempotencyRepository
from openbin.storage.keys import KeyRepository
from openbin.storage.records import RecordStore
from openbin.storage.schema_docs import SchemaDocRepository
from openbin.storage.usage_logs import UsageLogStore
from openbin.storage.webhooks import WebhookRepository

FAILURES = (ClientError, BotoCoreError)  # what a failed round trip raises


class Storage(msgspec.Struct, frozen=True):
    settings: Settings
    db: Any  # the DynamoDB client (boto3's clients are untyped)
    accounts: AccountRepository
    keys: KeyRepository
    bins: BinRepository
    records: RecordStore
    collections: CollectionRepository
    schema_docs: SchemaDocRepository
    usage_logs: UsageLogStore
    idempotency: IdempotencyRepository
    webhooks: WebhookRepository

    @classmethod
    def build(cls, settings: Settings, db, s3, db_once=None, sqs=None) -> Storage:
        """``s3`` and ``sqs``: clients, or functions making them on first use."""
        idempotency = IdempotencyRepository(db, settings.idempotency_table)
        return cls(
            settings=settings,
            db=db,
            accounts=AccountRepository(db, settings.accounts_table, db_once),
            keys=KeyRepository(db, settings.keys_table, settings.accounts_table),
            bins=BinRepository(
                db,
                settings.bins_table,
                settings.versions_table,
                settings.accounts_table,
                idempotency,
            ),
            records=RecordStore(s3, settings.records_bucket, settings.inline_record_limit),
            collections=CollectionRepository(db, settings.collections_table),
            schema_docs=SchemaDocRepository(db, settings.schema_docs_table),
            usage_logs=UsageLogStore(s3, settings.records_bucket),
            idempotency=idempotency,
            webhooks=WebhookRepository(
                db,
                settings.webhooks_table,
                settings.webhook_deliveries_table,
                s3,
                settings.records_bucket,
                sqs if sqs is not None else aws.sqs,
                settings.webhook_queue,
            ),
        )

    def read(self, wanted: Wanted) -> Found:
        """Everything ``wanted`` names, in one BatchGetItem (see ``openbin.storage.batch``)."""
        return read(self, wanted)


@cache
def get_storage() -> Storage:
    return Storage.build(get_settings(), aws.dynamodb(), aws.s3, aws.dynamodb_once)


def reset() -> None:
    """Forget settings, clients and repositories (tests, or a changed environment)."""
    get_storage.cache_clear()
    get_settings.cache_clear()
    aws.reset()
