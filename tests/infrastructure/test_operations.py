"""template.yaml as an operator runs it: logs that expire, alarms on what breaks, a dashboard,
tracing, data that survives a restore, per-stack names, bounded parameters, environments, the
pipeline and the scanners' skips. A function or table added later without its share fails here."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from openbin.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_TIMEOUT_MS = 25_000


def prop(resource: dict, name: str):
    return resource["Properties"][name]


def alarms(template) -> dict[str, dict]:
    return template.of_type("AWS::CloudWatch::Alarm")


def dimensions(properties: dict) -> list[dict]:
    if "Dimensions" in properties:
        return properties["Dimensions"]
    return [
        d
        for metric in properties.get("Metrics", [])
        if "MetricStat" in metric
        for d in metric["MetricStat"]["Metric"]["Dimensions"]
    ]


def alarms_on(template, dimension: str, ref: str) -> dict[str, dict]:
    return {
        name: res["Properties"]
        for name, res in alarms(template).items()
        if {"Name": dimension, "Value": {"Ref": ref}} in dimensions(res["Properties"])
    }


# -- logs --------------------------------------------------------------------------------------
def test_every_function_logs_json_to_a_group_that_expires(template):
    assert template.doc["Globals"]["Function"]["LoggingConfig"] == {"LogFormat": "JSON"}
    assert template.doc["Parameters"]["LogRetentionDays"]["Default"] == 30
    for name in template.functions:
        group = prop(template.resources[name], "LoggingConfig")["LogGroup"]["Ref"]
        log_group = template.resources[group]
        assert log_group["Type"] == "AWS::Logs::LogGroup", name
        assert prop(log_group, "RetentionInDays") == {"Ref": "LogRetentionDays"}, name
        assert "${AWS::StackName}" in prop(log_group, "LogGroupName")["Fn::Sub"], name


def test_api_access_log_is_json_and_holds_no_header(template):
    settings = prop(template.resources["OpenBinApi"], "AccessLogSettings")
    fields = json.loads(settings["Format"].replace("$context.", "context_"))
    assert {"requestId", "ip", "method", "route", "status", "latencyMs", "userAgent"} <= set(fields)
    assert "header" not in settings["Format"].lower()  # keys travel in headers
    group = template.resources[settings["DestinationArn"]["Fn::GetAtt"][0]]
    assert prop(group, "RetentionInDays") == {"Ref": "LogRetentionDays"}


# -- alarms ------------------------------------------------------------------------------------
def test_every_alarm_notifies_the_topic(template):
    assert alarms(template)
    for name, res in alarms(template).items():
        props = res["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["TreatMissingData"] == "notBreaching", name
    subscription = template.resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert prop(subscription, "Endpoint") == {"Ref": "AlarmEmail"}


def test_every_function_alarms_on_throttles_and_on_a_p99_near_its_timeout(template):
    timeout = template.doc["Globals"]["Function"]["Timeout"] * 1000
    assert timeout == FUNCTION_TIMEOUT_MS
    for name in template.functions:
        on = alarms_on(template, "FunctionName", name)
        metrics = {props["MetricName"]: props for props in on.values()}
        # the usage-log writer and the webhook sender have no client to see their errors
        quiet = ("UsageLogWriterFunction", "WebhookSenderFunction")
        errors = {"Errors"} if name in quiet else set()
        assert set(metrics) == {"Throttles", "Duration", *errors}, name
        assert metrics["Throttles"]["Threshold"] == 1
        slow = metrics["Duration"]
        assert slow["ExtendedStatistic"] == "p99"
        assert 0.5 * timeout < slow["Threshold"] < timeout, name


def test_every_table_alarms_on_throttles_and_system_errors(template):
    for table in template.tables:
        on = alarms_on(template, "TableName", table)
        (props,) = [p for p in on.values() if p.get("MetricName") != "TransactionConflict"]
        metrics = {
            m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m
        }
        assert metrics == {"ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"}, table
        (expression,) = [m for m in props["Metrics"] if "Expression" in m]
        ids = [m["Id"] for m in props["Metrics"] if "MetricStat" in m]
        assert all(f"FILL({i}, 0)" in expression["Expression"] for i in ids), table
        assert len(props["Metrics"]) <= 10  # CloudWatch's limit for an alarm


def test_the_api_and_the_apps_own_metrics_have_alarms(template):
    api = alarms_on(template, "ApiId", "OpenBinApi")
    assert [p["MetricName"] for p in api.values()] == ["5xx"]
    app = alarms_on(template, "service", "AWS::StackName")
    assert sorted(p["MetricName"] for p in app.values()) == ["ServerErrors", "StorageFailures"]
    assert all(p["Namespace"] == "OpenBin" for p in app.values())
    env = template.global_environment
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "OpenBin"
    assert env["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}


def test_the_dashboard_shows_every_function_table_and_alarm(template):
    body = prop(template.resources["Dashboard"], "DashboardBody")["Fn::Sub"]
    parsed = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    assert len(parsed["widgets"]) >= 8
    for name in [*template.functions, *template.tables, "OpenBinApi"]:
        assert "${" + name + "}" in body, name
    for name in alarms(template):
        assert "${" + name + ".Arn}" in body, name


def test_functions_are_traced(template):
    assert template.doc["Globals"]["Function"]["Tracing"] == "Active"


# -- data safety ---------------------------------------------------------------------------------
def test_tables_are_protected_from_deletion(template):
    for name, props in template.tables.items():
        assert props["DeletionProtectionEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_replaced_records_outlive_the_recovery_window(template):
    """PITR goes back 35 days: a record replaced or deleted stays restorable as long."""
    (bucket,) = template.buckets.values()
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    kept = rules["KeepReplacedRecordsForTheRecoveryWindow"]
    assert kept["Status"] == "Enabled"
    assert kept["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 35


# -- safe deploys --------------------------------------------------------------------------------
def test_names_are_per_stack(template):
    layer = template.resources["CommonLayer"]
    assert prop(layer, "LayerName") == {"Fn::Sub": "${AWS::StackName}-common"}
    for res in template.of_type("AWS::Logs::LogGroup").values():
        assert "${AWS::StackName}" in prop(res, "LogGroupName")["Fn::Sub"]
    assert "${AWS::StackName}" in prop(template.resources["Dashboard"], "DashboardName")["Fn::Sub"]


def test_numeric_parameters_are_bounded_as_the_settings_are(template):
    """A value the functions would refuse at their first request cannot be deployed."""
    by_alias = {spec.alias: spec for spec in Settings.specs()}
    parameters = template.doc["Parameters"]
    checked = set()
    for name, value in template.global_environment.items():
        if not (isinstance(value, dict) and "Ref" in value and value["Ref"] in parameters):
            continue
        parameter = parameters[value["Ref"]]
        if parameter["Type"] != "Number":
            continue
        spec = by_alias[name]
        assert parameter["MinValue"] == spec.ge, name
        assert parameter["MaxValue"] == spec.le, name
        checked.add(value["Ref"])
    assert checked == {
        "FreeRecordLimit",
        "ProRecordLimit",
        "XlBodyLimit",
        "UsageLogDays",
        "IdempotencyHours",
        "FreeRequests",
        "ProRequests",
        "MaxVersions",
        "MaxAccessKeys",
    }
    for name, parameter in parameters.items():
        if parameter["Type"] == "Number":
            assert "AllowedValues" in parameter or "MaxValue" in parameter, name


def test_samconfig_has_a_dev_default_and_a_prod_environment():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["default"]["global"]["parameters"]["stack_name"] == "openbin-dev"
    assert config["prod"]["global"]["parameters"]["stack_name"] == "openbin-prod"
    for env in ("default", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert f'environment="{"dev" if env == "default" else "prod"}"' in deploy["tags"]


def test_snapstart_is_a_parameter_off_by_default(template):
    assert template.doc["Parameters"]["SnapStart"]["Default"] == "off"
    function_globals = template.doc["Globals"]["Function"]
    assert function_globals["AutoPublishAlias"] == "live"
    assert function_globals["SnapStart"]["Fn::If"][0] == "UseSnapStart"
    assert prop(template.resources["RouteNotFoundFunction"], "SnapStart") == {"ApplyOn": "None"}


def test_the_pipeline_tests_pull_requests_and_deploys_with_oidc():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    assert any(step.get("run") == "bash .ci/run" for step in jobs["test"]["steps"])
    assert True in workflow and "pull_request" in workflow[True]  # YAML reads `on:` as True
    dev, prod = jobs["deploy-dev"], jobs["deploy-prod"]
    assert dev["needs"] == "test" and "refs/heads/main" in dev["if"]
    # prod: by hand, from main only, and only a commit whose deploy-dev succeeded
    assert "workflow_dispatch" in prod["if"] and "github.ref == 'refs/heads/main'" in prod["if"]
    gate = next(step for step in prod["steps"] if step.get("name") == "this commit passed dev")
    assert "check_name=deploy-dev" in gate["run"]
    assert '.conclusion == "success" and .app.slug == "github-actions"' in gate["run"]
    for job in (dev, prod):
        assert job["permissions"]["id-token"] == "write"
        assert any(step.get("uses") == "./.github/actions/deploy" for step in job["steps"])
    action = yaml.safe_load((ROOT / ".github" / "actions" / "deploy" / "action.yml").read_text())
    steps = {step.get("name", step.get("uses")): step for step in action["runs"]["steps"]}
    credentials = next(s for k, s in steps.items() if "configure-aws-credentials" in k)
    assert credentials["with"]["role-to-assume"] == "${{ inputs.role }}"
    names = list(steps)
    assert names.index("save the live aliases") < names.index("sam deploy")
    smoke = steps["openbin smoke"]["run"]
    assert "openbin smoke" in smoke and "openbin aliases restore" in smoke  # rolled back
    assert names.index("the live aliases name what the stack deployed") < names.index(
        "openbin smoke"
    )


# -- scanners' skips -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def skips() -> dict:
    return yaml.safe_load((ROOT / "lint-skips.yaml").read_text())


def test_every_skip_is_listed_once_with_its_reason(skips):
    cfn_lint = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())["ignore_checks"]
    checkov = yaml.safe_load((ROOT / ".checkov.yaml").read_text())["skip-check"]
    assert sorted(cfn_lint) == sorted(skips["cfn-lint"])
    assert sorted(checkov) == sorted(skips["checkov"])
    for tool in ("cfn-lint", "checkov", "actionlint"):
        for rule, reason in skips[tool].items():
            assert isinstance(reason, str) and len(reason) > 40 and "\n" not in reason, rule


def test_collisions_on_an_account_and_lost_usage_lines_are_alarmed(template):
    """Every write of an account updates its item in a transaction: collisions are retried,
    and alarmed when they are many; usage-log events the writer failed three times wait in a
    queue, alarmed as soon as there is one."""
    (conflicts,) = [
        props
        for props in alarms_on(template, "TableName", "AccountsTable").values()
        if props.get("MetricName") == "TransactionConflict"
    ]
    assert conflicts["Namespace"] == "AWS/DynamoDB"
    writer = prop(template.resources["UsageLogWriterFunction"], "EventInvokeConfig")
    assert writer["MaximumRetryAttempts"] == 2
    queue = writer["DestinationConfig"]["OnFailure"]
    assert queue == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["UsageLogFailures", "Arn"]}}
    assert prop(template.resources["UsageLogFailures"], "SqsManagedSseEnabled") is True
    waiting = {
        res["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: res["Properties"]
        for res in alarms(template).values()
        if res["Properties"].get("Namespace") == "AWS/SQS"
    }
    # every queue that holds failures is alarmed as soon as it holds one
    assert set(waiting) == {"UsageLogFailures", "WebhookFailures"}
    assert all(props["Threshold"] == 1 for props in waiting.values())
