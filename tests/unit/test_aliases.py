"""``openbin aliases save|restore``: the deploy workflow saves every function's live alias
version before ``sam deploy`` and puts them back when the smoke check fails."""

from __future__ import annotations

import json

from openbin_cli import aliases


class Paginator:
    def __init__(self, pages):
        self.pages = pages

    def paginate(self, **_):
        return iter(self.pages)


class CloudFormation:
    def get_paginator(self, name):
        assert name == "list_stack_resources"
        resources = [
            {"ResourceType": "AWS::Lambda::Function", "PhysicalResourceId": "stack-ReadBin"},
            {"ResourceType": "AWS::DynamoDB::Table", "PhysicalResourceId": "stack-bins"},
        ]
        more = [{"ResourceType": "AWS::Lambda::Function", "PhysicalResourceId": "stack-NoAlias"}]
        return Paginator([{"StackResourceSummaries": resources}, {"StackResourceSummaries": more}])


class Lambda:
    class exceptions:  # noqa: N801 (botocore's attribute)
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, versions):
        self.versions = versions
        self.updates = []

    def get_alias(self, FunctionName, Name):  # noqa: N803 (botocore's names)
        assert Name == "live"
        if FunctionName not in self.versions:
            raise self.exceptions.ResourceNotFoundException()
        return {"FunctionVersion": self.versions[FunctionName]}

    def update_alias(self, FunctionName, Name, FunctionVersion):  # noqa: N803
        self.updates.append((FunctionName, FunctionVersion))
        self.versions[FunctionName] = FunctionVersion


def test_save_then_restore_after_a_deploy(tmp_path):
    client = Lambda({"stack-ReadBin": "7"})
    file = tmp_path / "aliases.json"
    assert aliases.save(CloudFormation(), client, "stack", file) == {"stack-ReadBin": "7"}
    assert json.loads(file.read_text()) == {"stack-ReadBin": "7"}
    client.versions["stack-ReadBin"] = "8"  # the deploy published a version that fails
    assert aliases.restore(client, file) == {"stack-ReadBin": "7"}
    assert client.updates == [("stack-ReadBin", "7")]
    assert aliases.restore(client, file) == {}  # nothing left to move


class StackWithVersions(CloudFormation):
    def get_paginator(self, name):
        version = {
            "ResourceType": "AWS::Lambda::Version",
            "PhysicalResourceId": "arn:aws:lambda:us-east-1:1:function:stack-ReadBin:8",
        }
        return Paginator([{"StackResourceSummaries": [version]}])


def test_sync_points_the_aliases_at_what_the_stack_deployed():
    """A smoke check failed and the aliases went back to 7; the next deploy of the same code is
    an empty changeset, so the stack still names 8: sync makes the smoke check test 8 again."""
    client = Lambda({"stack-ReadBin": "7"})
    assert aliases.sync(StackWithVersions(), client, "stack") == {"stack-ReadBin": "8"}
    assert aliases.sync(StackWithVersions(), client, "stack") == {}
