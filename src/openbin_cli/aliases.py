"""The version each function's ``live`` alias points at, saved before a deploy and put back
when the smoke check after it fails (``openbin aliases save|restore``): the API invokes the
aliases, so a broken deploy stops serving as soon as they point at the versions that passed.
The stack itself still names the new versions; the next deploy replaces them."""

from __future__ import annotations

import json
from pathlib import Path

ALIAS = "live"


def functions_of(cloudformation, stack: str) -> list[str]:
    """The physical names of the stack's functions."""
    names: list[str] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        names += [
            r["PhysicalResourceId"]
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::Lambda::Function"
        ]
    return sorted(names)


def save(cloudformation, lambda_client, stack: str, file: Path) -> dict[str, str]:
    """Write {function: version of its live alias} (functions without one are left out)."""
    versions: dict[str, str] = {}
    for function in functions_of(cloudformation, stack):
        try:
            alias = lambda_client.get_alias(FunctionName=function, Name=ALIAS)
        except lambda_client.exceptions.ResourceNotFoundException:
            continue  # a function that is not behind the alias (yet)
        versions[function] = alias["FunctionVersion"]
    file.write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n")
    return versions


def stack_versions(cloudformation, stack: str) -> dict[str, str]:
    """{function: the version the stack published for it} (its AWS::Lambda::Version resources,
    whose physical IDs are ``arn:…:function:<name>:<version>``)."""
    versions: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::Lambda::Version":
                function, version = resource["PhysicalResourceId"].rsplit(":", 2)[-2:]
                versions[function] = version
    return versions


def sync(cloudformation, lambda_client, stack: str) -> dict[str, str]:
    """Point every live alias at the version the stack names, when it points elsewhere: after
    a smoke check failed and ``restore`` moved the aliases back, a deploy with the same code is
    an empty changeset and would leave them there, so the next smoke check would test the old
    code. {function: version} of those that moved."""
    moved: dict[str, str] = {}
    for function, version in sorted(stack_versions(cloudformation, stack).items()):
        current = lambda_client.get_alias(FunctionName=function, Name=ALIAS)["FunctionVersion"]
        if current != version:
            lambda_client.update_alias(FunctionName=function, Name=ALIAS, FunctionVersion=version)
            moved[function] = version
    return moved


def restore(lambda_client, file: Path) -> dict[str, str]:
    """Point every saved function's live alias back at its saved version; {function: version}
    of those that moved."""
    saved: dict[str, str] = json.loads(file.read_text())
    moved: dict[str, str] = {}
    for function, version in sorted(saved.items()):
        current = lambda_client.get_alias(FunctionName=function, Name=ALIAS)["FunctionVersion"]
        if current != version:
            lambda_client.update_alias(FunctionName=function, Name=ALIAS, FunctionVersion=version)
            moved[function] = version
    return moved
