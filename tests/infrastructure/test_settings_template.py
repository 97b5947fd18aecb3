"""template.yaml and the code agree, and the template's deployment facts hold."""

from __future__ import annotations

import re
from pathlib import Path

from openbin.settings import ENV_PREFIX, Settings
from openbin_local.iam import resource_name

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_ALIASES = {spec.alias for spec in Settings.specs()}
STORAGE_TYPES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue")


def getatt_name(value) -> str | None:
    """The resource a ``!GetAtt X.Arn`` / ``!Ref X`` / ``!Sub "${X.Arn}/..."`` points at (as
    the local runtime's IAM reads it)."""
    return resource_name(value).split("/")[0] if isinstance(value, dict) else None


def statements(function: dict) -> list[dict]:
    out = []
    for policy in function["Properties"].get("Policies", []) or []:
        if isinstance(policy, dict) and "Statement" in policy:
            out.extend(policy["Statement"])
    return out


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# -- settings and the template share names ------------------------------------------------------
def test_settings_aliases_are_environment_names():
    assert all(alias.startswith(ENV_PREFIX) for alias in SETTINGS_ALIASES)
    assert len(SETTINGS_ALIASES) == len(Settings.specs())
    assert {
        "OPENBIN_BINS_TABLE",
        "OPENBIN_VERSIONS_TABLE",
        "OPENBIN_KEYS_TABLE",
        "OPENBIN_ACCOUNTS_TABLE",
        "OPENBIN_COLLECTIONS_TABLE",
        "OPENBIN_SCHEMA_DOCS_TABLE",
        "OPENBIN_RECORDS_BUCKET",
        "OPENBIN_PRICING_URL",
        "OPENBIN_FREE_RECORD_LIMIT",
        "OPENBIN_PRO_RECORD_LIMIT",
        "OPENBIN_FREE_REQUESTS",
        "OPENBIN_PRO_REQUESTS",
        "OPENBIN_MAX_VERSIONS",
    } <= SETTINGS_ALIASES


def test_every_openbin_variable_in_the_template_is_a_setting(template):
    template_names = {name for name in template.global_environment if name.startswith(ENV_PREFIX)}
    for function in template.functions.values():
        template_names |= {name for name in function.environment if name.startswith(ENV_PREFIX)}
    assert template_names - SETTINGS_ALIASES == set()


def test_every_setting_is_set_in_the_template_globals(template):
    missing = SETTINGS_ALIASES - set(template.global_environment)
    assert missing == set()


def test_template_environment_builds_the_settings(template):
    names = {name: f"local-{name}" for name in template.tables}
    names.update({name: f"local-{name}" for name in template.buckets})
    names.update({f"{name}.Alias": f"local-{name}:live" for name in template.functions})
    names.update({name: f"https://sqs.local/{name}" for name in template.queues})
    settings = Settings.from_env(template.environment(None, names))
    assert settings.bins_table == "local-BinsTable"
    assert settings.versions_table == "local-VersionsTable"
    assert settings.keys_table == "local-KeysTable"
    assert settings.accounts_table == "local-AccountsTable"
    assert settings.collections_table == "local-CollectionsTable"
    assert settings.schema_docs_table == "local-SchemaDocsTable"
    assert settings.idempotency_table == "local-IdempotencyTable"
    assert settings.records_bucket == "local-RecordsBucket"
    assert settings.pricing_url == "https://jsonbin.io/pricing"
    assert settings.free_record_limit == 102_400
    assert settings.pro_record_limit == 1_048_576
    assert settings.free_requests == 10_000
    assert settings.pro_requests == 100_000
    assert settings.max_versions == 1000
    assert settings.idempotency_hours == 24


def test_template_values_match_the_settings_defaults(template):
    """The limits a deployment gets by default are the ones the code defaults to (and the ones
    the tests and the local server run with)."""
    defaults = template.parameter_defaults()
    by_alias = {spec.alias: spec for spec in Settings.specs()}
    compared = set()
    for name, value in template.global_environment.items():
        field = by_alias.get(name)
        if field is None or field.required:
            continue
        if isinstance(value, dict):
            parameter = value["Ref"]
            assert parameter in defaults, name
            value = defaults[parameter]
        assert type(field.default)(value) == field.default, name
        compared.add(name)
    assert {
        "OPENBIN_PRICING_URL",
        "OPENBIN_FREE_RECORD_LIMIT",
        "OPENBIN_PRO_RECORD_LIMIT",
        "OPENBIN_FREE_REQUESTS",
        "OPENBIN_PRO_REQUESTS",
        "OPENBIN_MAX_VERSIONS",
    } <= compared
    assert compared == {alias for alias, field in by_alias.items() if not field.required}


# -- functions ---------------------------------------------------------------------------------
def test_functions_run_python313_on_arm64(template):
    function_globals = template.doc["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert template.functions
    for res in template.of_type("AWS::Serverless::Function").values():
        props = res["Properties"]
        assert props.get("Runtime", "python3.13") == "python3.13"
        assert props.get("Architectures", ["arm64"]) == ["arm64"]


def test_functions_code_lives_under_functions_with_unique_modules(template):
    modules = []
    for name, function in template.functions.items():
        code_uri = template.resources[name]["Properties"]["CodeUri"]
        assert code_uri.startswith("functions/"), name
        assert function.code_uri.is_dir(), name
        assert function.module_path.is_file(), name
        assert function.module_path.resolve().is_relative_to(ROOT / "functions"), name
        assert function.attribute == "lambda_handler", name
        modules.append(function.module_name)
    assert len(modules) == len(set(modules))
    assert {"create_bin_handler", "read_bin_handler", "route_not_found_handler"} <= set(modules)


def test_create_and_read_routes_are_in_separate_functions(template):
    by_route = {route.key: route.function for route in template.routes}
    assert by_route["POST /v3/b"] == "CreateBinFunction"
    assert by_route["GET /v3/b/{binId}"] == "ReadBinFunction"
    assert by_route["GET /v3/b/{binId}/{version}"] == "ReadBinFunction"
    assert by_route["$default"] == "RouteNotFoundFunction"
    assert {r.key for r in template.routes if r.function == "CreateBinFunction"} == {
        "POST /v3/b",
        "POST /v3/xl/b",
    }
    assert by_route["GET /v3/xl/b/{binId}"] == "ReadBinFunction"
    assert len(template.routes) == len(by_route)  # no route key twice


def test_layer_builds_for_python313_arm64(template):
    layer = template.resources["CommonLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    # The layer's Makefile: arm64 CPython 3.13 wheels of the pinned requirements, the openbin
    # package, and .pyc files that Lambda uses without checking (its /opt is read-only).
    makefile = (ROOT / "layers/common/Makefile").read_text()
    recipe = makefile.split("build-CommonLayer:", 1)[1]
    for needed in (
        "--platform manylinux2014_aarch64",
        "--implementation cp --python-version 3.13",
        "--only-binary=:all:",
        '--target "$(TARGET)" -r requirements.txt',
        'cp -R openbin "$(TARGET)/openbin"',
        "-m compileall",
        "--invalidation-mode unchecked-hash",
        "sys.version_info[:2] == (3, 13)",
    ):
        assert needed in recipe, needed
    assert "TARGET = $(ARTIFACTS_DIR)/python" in makefile
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert template.doc["Globals"]["Function"]["Layers"] == [{"Ref": "CommonLayer"}]


def test_layer_requirements_are_pinned():
    lines = [
        line.split("#", 1)[0].strip()
        for line in (ROOT / "layers/common/requirements.txt").read_text().splitlines()
    ]
    requirements = [line for line in lines if line]
    assert requirements
    for line in requirements:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-]+", line), line


# -- storage -----------------------------------------------------------------------------------
def test_tables_are_on_demand_encrypted_and_recoverable(template):
    assert {
        "BinsTable",
        "VersionsTable",
        "KeysTable",
        "AccountsTable",
        "CollectionsTable",
        "SchemaDocsTable",
        "IdempotencyTable",
    } <= set(template.tables)
    for name, props in template.tables.items():
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name


def test_bucket_is_private_and_encrypted(template):
    assert list(template.buckets) == ["RecordsBucket"]
    props = template.buckets["RecordsBucket"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules] == ["AES256"]


def test_bucket_policy_denies_insecure_transport(template):
    policies = [
        res["Properties"]
        for res in template.of_type("AWS::S3::BucketPolicy").values()
        if res["Properties"]["Bucket"] == {"Ref": "RecordsBucket"}
    ]
    assert len(policies) == 1
    denies = [
        statement
        for statement in policies[0]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert len(denies) == 1
    assert denies[0]["Principal"] == "*"
    assert denies[0]["Action"] == "s3:*"
    assert {getatt_name(resource) for resource in denies[0]["Resource"]} == {"RecordsBucket"}
    assert len(denies[0]["Resource"]) == 2  # the bucket and its objects


# -- least privilege ---------------------------------------------------------------------------
def test_functions_with_storage_access_have_their_own_statements(template):
    storage = {name for kind in STORAGE_TYPES for name in template.of_type(kind)}
    for name, res in template.of_type("AWS::Serverless::Function").items():
        policies = res["Properties"].get("Policies", [])
        if name == "ConsoleFunction":  # no storage, no access
            assert policies == [], name
            continue
        if name == "RouteNotFoundFunction":  # no storage: it may only invoke route functions
            assert {a for st in statements(res) for a in as_list(st["Action"])} == {
                "lambda:InvokeFunction"
            }, name
            continue
        if name in ("WebhookDispatcherFunction", "WebhookSenderFunction"):  # no request
            assert not any(
                getatt_name(r) in ("KeysTable", "AccountsTable")
                for st in statements(res)
                for r in as_list(st["Resource"])
            ), name
            continue
        if name == "UsageLogWriterFunction":  # no request: it files usage lines, nothing else
            assert [st["Action"] for st in statements(res)] == [["s3:PutObject"]], name
            (only,) = statements(res)
            assert only["Resource"] == {"Fn::Sub": "${RecordsBucket.Arn}/logs/*"}, name
            continue
        # Inline policy documents only: no managed policies or SAM policy templates, which
        # grant more than the function uses.
        assert policies, name
        for policy in policies:
            assert isinstance(policy, dict) and set(policy) == {"Version", "Statement"}, name
        touched = {
            getatt_name(resource)
            for statement in statements(res)
            for resource in as_list(statement["Resource"])
        }
        assert touched <= storage, name
        assert {"KeysTable", "AccountsTable"} <= touched, name  # every call is keyed and charged
    create = {
        getatt_name(r)
        for st in statements(template.resources["CreateBinFunction"])
        for r in as_list(st["Resource"])
    }
    read = {
        getatt_name(r)
        for st in statements(template.resources["ReadBinFunction"])
        for r in as_list(st["Resource"])
    }
    assert create == {
        "KeysTable",
        "CollectionsTable",
        "SchemaDocsTable",
        "AccountsTable",
        "BinsTable",
        "IdempotencyTable",
        "RecordsBucket",
    }
    assert read == {"KeysTable", "BinsTable", "VersionsTable", "AccountsTable", "RecordsBucket"}


def test_no_function_allows_wildcard_actions(template):
    for name, res in template.of_type("AWS::Serverless::Function").items():
        for statement in statements(res):
            if statement["Effect"] != "Allow":
                continue
            for action in as_list(statement["Action"]):
                assert action not in ("*", "dynamodb:*", "s3:*"), (name, action)
                assert not action.endswith("*"), (name, action)
            for resource in as_list(statement["Resource"]):
                assert resource != "*", name


def test_object_access_is_limited_to_the_records_and_logs_prefixes(template):
    """Records under records/, usage logs under logs/: only the usage functions touch logs/,
    and the one listing of the bucket is limited to that prefix."""
    records = {"Fn::Sub": "${RecordsBucket.Arn}/records/*"}
    logs = {"Fn::Sub": "${RecordsBucket.Arn}/logs/*"}
    webhooks = {"Fn::Sub": "${RecordsBucket.Arn}/webhooks/*"}  # deliveries' large bodies
    for name, res in template.of_type("AWS::Serverless::Function").items():
        for statement in statements(res):
            actions = as_list(statement["Action"])
            if not any(action.startswith("s3:") for action in actions):
                continue
            for resource in as_list(statement["Resource"]):
                if actions == ["s3:ListBucket"]:
                    assert name == "UsageFunction", name
                    assert resource == {"Fn::GetAtt": ["RecordsBucket", "Arn"]}, name
                    assert statement["Condition"] == {"StringLike": {"s3:prefix": ["logs/*"]}}
                elif actions == ["s3:ListBucketVersions"]:  # a replaced record's kept version
                    assert name == "WebhookDispatcherFunction", name
                    assert resource == {"Fn::GetAtt": ["RecordsBucket", "Arn"]}, name
                    assert statement["Condition"] == {"StringLike": {"s3:prefix": ["records/*"]}}
                elif resource == logs:
                    assert name in ("UsageFunction", "UsageLogWriterFunction"), name
                elif resource == webhooks:
                    assert name in ("WebhookDispatcherFunction", "WebhookSenderFunction"), name
                else:
                    assert resource == records, name


# -- the policies allow what the functions do --------------------------------------------------
# The IAM action each API call needs: a transaction needs the actions of its parts, a batch
# delete of objects needs s3:DeleteObject, a listing needs s3:ListBucket on the bucket itself.


# -- CORS: one source ------------------------------------------------------------------------------
def test_cors_settings_are_the_apis_cors_configuration(template):
    """The $default function answers preflights from its environment; those values are the HTTP
    API's CorsConfiguration, so API Gateway and the function never disagree."""
    cors = template.cors
    env = template.global_environment
    assert env["OPENBIN_CORS_ALLOW_ORIGINS"] == ",".join(cors["AllowOrigins"])
    assert env["OPENBIN_CORS_ALLOW_METHODS"] == ",".join(cors["AllowMethods"])
    assert env["OPENBIN_CORS_ALLOW_HEADERS"] == ",".join(cors["AllowHeaders"])
    assert env["OPENBIN_CORS_EXPOSE_HEADERS"] == ",".join(cors["ExposeHeaders"])
    assert env["OPENBIN_CORS_MAX_AGE"] == str(cors["MaxAge"])


def test_cors_allows_every_method_and_header_the_api_takes(template):
    served = {route.method for route in template.routes if route.method != "ANY"}
    assert served | {"OPTIONS"} == set(template.cors["AllowMethods"])
    read = set()
    for path in (ROOT / "layers" / "common" / "openbin" / "api").glob("*.py"):
        read |= {
            name.lower() for name in re.findall(r'header\(app, "([\w-]+)"\)', path.read_text())
        }
    assert "x-master-key" in read and "content-type" in read
    assert read <= set(template.cors["AllowHeaders"]), read - set(template.cors["AllowHeaders"])
    assert "x-requests-remaining" in template.cors["ExposeHeaders"]
