"""``--stack-name``: the functions' environment rebuilt from a deployed stack's outputs and
parameters, as CloudFormation's DescribeStacks returns them."""

from __future__ import annotations

import pytest

from openbin.settings import Settings
from openbin_cli import targets
from openbin_cli.targets import TargetError, stack_environment, stack_storage
from openbin_local.template import Template

STACK_NAME = "openbin"
STACK_ID = (
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/openbin/"
    "5f1d2e30-a8b7-11ef-9c1a-0a1b2c3d4e5f"
)
TABLES = {
    "BinsTableName": "openbin-BinsTable-1A2B3C4D5E6F",
    "VersionsTableName": "openbin-VersionsTable-2B3C4D5E6F7G",
    "KeysTableName": "openbin-KeysTable-3C4D5E6F7G8H",
    "AccountsTableName": "openbin-AccountsTable-4D5E6F7G8H9I",
    "CollectionsTableName": "openbin-CollectionsTable-5E6F7G8H9I0J",
    "SchemaDocsTableName": "openbin-SchemaDocsTable-6F7G8H9I0J1K",
    "IdempotencyTableName": "openbin-IdempotencyTable-8H9I0J1K2L3M",
    "WebhooksTableName": "openbin-WebhooksTable-9I0J1K2L3M4N",
    "WebhookDeliveriesTableName": "openbin-WebhookDeliveriesTable-0J1K2L3M4N5O",
}
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/openbin-WebhookQueue-1K2L3M4N5O6P"
BUCKET = "openbin-recordsbucket-7g8h9i0j1k2l"

# The OPENBIN_* variables template.yaml's Globals set, with the values this stack gives them.
EXPECTED_OPENBIN = {
    "OPENBIN_BINS_TABLE": TABLES["BinsTableName"],
    "OPENBIN_VERSIONS_TABLE": TABLES["VersionsTableName"],
    "OPENBIN_KEYS_TABLE": TABLES["KeysTableName"],
    "OPENBIN_ACCOUNTS_TABLE": TABLES["AccountsTableName"],
    "OPENBIN_COLLECTIONS_TABLE": TABLES["CollectionsTableName"],
    "OPENBIN_SCHEMA_DOCS_TABLE": TABLES["SchemaDocsTableName"],
    "OPENBIN_IDEMPOTENCY_TABLE": TABLES["IdempotencyTableName"],
    "OPENBIN_WEBHOOKS_TABLE": TABLES["WebhooksTableName"],
    "OPENBIN_WEBHOOK_DELIVERIES_TABLE": TABLES["WebhookDeliveriesTableName"],
    "OPENBIN_WEBHOOK_QUEUE": QUEUE,
    "OPENBIN_RECORDS_BUCKET": BUCKET,
    "OPENBIN_PRICING_URL": "https://example.com/buy",  # a parameter the stack overrides
    "OPENBIN_FREE_RECORD_LIMIT": "102400",
    "OPENBIN_PRO_RECORD_LIMIT": "1048576",
    "OPENBIN_FREE_REQUESTS": "500",  # overridden
    "OPENBIN_PRO_REQUESTS": "100000",
    "OPENBIN_MAX_VERSIONS": "1000",
    "OPENBIN_IDEMPOTENCY_HOURS": "48",  # overridden
}


def describe_stacks_result(parameters: dict[str, str] | None = None) -> dict:
    """What ``cloudformation.describe_stacks(StackName="openbin")`` answers for a deployed
    stack. CloudFormation lists every parameter, defaults included, unless given ``parameters``."""
    if parameters is None:
        parameters = {
            "PricingUrl": "https://example.com/buy",
            "FreeRecordLimit": "102400",
            "ProRecordLimit": "1048576",
            "FreeRequests": "500",
            "ProRequests": "100000",
            "MaxVersions": "1000",
            "IdempotencyHours": "48",
            "LogLevel": "DEBUG",
        }
    outputs = [
        {
            "OutputKey": "ApiUrl",
            "OutputValue": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
            "Description": "Base URL of the API (append /v3).",
        },
        *({"OutputKey": k, "OutputValue": v} for k, v in TABLES.items()),
        {"OutputKey": "RecordsBucketName", "OutputValue": BUCKET},
        {"OutputKey": "WebhookQueueUrl", "OutputValue": QUEUE},
    ]
    return {
        "Stacks": [
            {
                "StackId": STACK_ID,
                "StackName": STACK_NAME,
                "ChangeSetId": STACK_ID.replace("stack/", "changeSet/samcli-deploy1732181405/"),
                "Description": "OpenBin: a self-hosted JSON storage API.",
                "Parameters": [
                    {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                ],
                "CreationTime": "2026-11-21T09:30:05.123000+00:00",
                "LastUpdatedTime": "2026-11-21T09:32:41.456000+00:00",
                "RollbackConfiguration": {},
                "StackStatus": "UPDATE_COMPLETE",
                "DisableRollback": False,
                "NotificationARNs": [],
                "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
                "Outputs": outputs,
                "Tags": [],
                "EnableTerminationProtection": False,
                "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
            }
        ],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


@pytest.fixture(scope="module")
def template() -> Template:
    return Template()


def test_every_openbin_variable_of_the_template_comes_from_the_stack(template):
    stack = describe_stacks_result()["Stacks"][0]
    env = stack_environment(template, stack)

    template_names = {n for n in template.global_environment if n.startswith("OPENBIN_")}
    assert set(EXPECTED_OPENBIN) <= template_names
    assert {k for k in env if k.startswith("OPENBIN_")} == template_names
    assert {k: env[k] for k in EXPECTED_OPENBIN} == EXPECTED_OPENBIN
    assert env["POWERTOOLS_SERVICE_NAME"] == STACK_NAME  # the app metrics' dimension
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "OpenBin"
    assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_settings_accept_the_stack_environment(template):
    env = stack_environment(template, describe_stacks_result()["Stacks"][0])
    settings = Settings.from_env(env)

    assert settings.bins_table == TABLES["BinsTableName"]
    assert settings.versions_table == TABLES["VersionsTableName"]
    assert settings.keys_table == TABLES["KeysTableName"]
    assert settings.accounts_table == TABLES["AccountsTableName"]
    assert settings.collections_table == TABLES["CollectionsTableName"]
    assert settings.schema_docs_table == TABLES["SchemaDocsTableName"]
    assert settings.idempotency_table == TABLES["IdempotencyTableName"]
    assert settings.idempotency_hours == 48
    assert settings.records_bucket == BUCKET
    assert settings.pricing_url == "https://example.com/buy"
    assert settings.free_requests == 500
    assert settings.pro_requests == 100_000
    assert settings.free_record_limit == 102_400
    assert settings.pro_record_limit == 1_048_576
    assert settings.max_versions == 1000
    # Variables the template does not set keep the settings' defaults.
    assert settings.inline_record_limit == 16_384


def test_parameters_missing_from_the_stack_take_the_template_defaults(template):
    stack = describe_stacks_result(parameters={"FreeRequests": "7"})["Stacks"][0]
    env = stack_environment(template, stack)

    assert env["OPENBIN_FREE_REQUESTS"] == "7"
    assert env["OPENBIN_PRICING_URL"] == "https://jsonbin.io/pricing"
    assert env["OPENBIN_MAX_VERSIONS"] == "1000"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert env["OPENBIN_BINS_TABLE"] == TABLES["BinsTableName"]


def test_a_stack_without_an_output_leaves_its_variable_unset(template):
    stack = describe_stacks_result()["Stacks"][0]
    stack["Outputs"] = [o for o in stack["Outputs"] if o["OutputKey"] != "RecordsBucketName"]
    env = stack_environment(template, stack)

    assert "OPENBIN_RECORDS_BUCKET" not in env
    with pytest.raises(ValueError, match="OPENBIN_RECORDS_BUCKET"):
        Settings.from_env(env)


class FakeCloudFormation:
    def __init__(self, result: dict | Exception) -> None:
        self.result = result
        self.calls: list[dict] = []

    def describe_stacks(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _patch_boto3(monkeypatch, cloudformation: FakeCloudFormation) -> list[tuple[str, str]]:
    import boto3

    made: list[tuple[str, str]] = []
    real_client = boto3.client

    def client(service: str, region_name: str | None = None, **kwargs):
        made.append((service, region_name))
        if service == "cloudformation":
            return cloudformation
        return real_client(service, region_name=region_name, **kwargs)

    monkeypatch.setattr(boto3, "client", client)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return made


def test_stack_storage_uses_the_stack_tables_and_bucket(monkeypatch, template):
    cloudformation = FakeCloudFormation(describe_stacks_result())
    made = _patch_boto3(monkeypatch, cloudformation)

    storage = stack_storage(STACK_NAME, "eu-west-1", template)

    assert cloudformation.calls == [{"StackName": STACK_NAME}]
    assert made == [
        ("cloudformation", "eu-west-1"),
        ("dynamodb", "eu-west-1"),
        ("s3", "eu-west-1"),
    ]
    assert storage.settings.accounts_table == TABLES["AccountsTableName"]
    assert storage.keys.table == TABLES["KeysTableName"]
    assert storage.bins.table == TABLES["BinsTableName"]
    assert storage.bins.versions_table == TABLES["VersionsTableName"]
    assert storage.collections.table == TABLES["CollectionsTableName"]
    assert storage.schema_docs.table == TABLES["SchemaDocsTableName"]
    assert storage.idempotency.table == TABLES["IdempotencyTableName"]
    assert storage.settings.records_bucket == BUCKET
    assert storage.settings.free_requests == 500


def test_an_unreadable_stack_is_a_clean_error(monkeypatch, template):
    _patch_boto3(monkeypatch, FakeCloudFormation(RuntimeError("Stack with id nope does not exist")))

    with pytest.raises(TargetError) as raised:
        targets.stack_storage("nope", "eu-west-1", template)
    assert str(raised.value) == "cannot read stack nope: Stack with id nope does not exist"


def test_smoke_finds_the_api_url_in_the_stack_outputs():
    from openbin_cli.targets import TargetError, stack_api_url

    stack = {
        "StackName": "openbin-dev",
        "Outputs": [
            {"OutputKey": "BinsTableName", "OutputValue": "t"},
            {
                "OutputKey": "ApiUrl",
                "OutputValue": "https://abc.execute-api.eu-west-1.amazonaws.com",
            },
        ],
    }
    assert stack_api_url(stack) == "https://abc.execute-api.eu-west-1.amazonaws.com/v3"
    with pytest.raises(TargetError, match="openbin-dev has no ApiUrl output"):
        stack_api_url({"StackName": "openbin-dev", "Outputs": []})
