"""A new function is three places in template.yaml at most: the function with its events and
its policy; its log group, usage-line subscription, alarms and dashboard rows are derived from
it (tools/template_derived.py, ``make template``) and checked in, so every scanner sees them."""

from __future__ import annotations

import importlib.util
import shutil

from openbin_local.template import Template
from tests.support import ROOT

spec = importlib.util.spec_from_file_location(
    "template_derived", ROOT / "tools" / "template_derived.py"
)
assert spec is not None and spec.loader is not None
derived = importlib.util.module_from_spec(spec)
spec.loader.exec_module(derived)


def test_the_derived_resources_are_current():
    text = (ROOT / "template.yaml").read_text()
    _, region, _ = derived.current(text)
    assert region == derived.generated(Template(ROOT / "template.yaml")), "run make template"


def test_a_new_function_gets_its_log_group_subscription_alarms_and_dashboard_rows(tmp_path):
    copy = tmp_path / "template.yaml"
    shutil.copy(ROOT / "template.yaml", copy)
    text = copy.read_text()
    new = """  ExportFunction:
    Type: AWS::Serverless::Function
    Properties:
      LoggingConfig: {LogGroup: !Ref ExportLogs}
      CodeUri: functions/export/
      Handler: export_handler.lambda_handler
      Events:
        Export:
          Type: HttpApi
          Properties:
            ApiId: !Ref OpenBinApi
            Path: /v3/export
            Method: GET

"""
    copy.write_text(text.replace("  ReadBinFunction:\n", new + "  ReadBinFunction:\n", 1))
    region = derived.generated(Template(copy))
    for name in ("ExportLogs", "ExportUsageLines", "ExportThrottledAlarm", "ExportSlowAlarm"):
        assert f"\n  {name}:\n" in region
    assert '"${ExportFunction}", {"stat": "p99", "label": "Export"}' in region
    assert '"${ExportSlowAlarm.Arn}"' in region
    assert "ConsoleUsageLines" not in region  # no /v3 route, no usage lines
