"""IAM, enforced locally: every AWS call a function of ``template.yaml`` makes is checked
against that function's own policy, as AWS checks it, and a call the policy does not allow
fails as on AWS (DynamoDB: ``AccessDeniedException``, HTTP 400; S3: ``AccessDenied``, 403).

What is checked, per call (the actions IAM evaluates, on the resources' ARNs):
- DynamoDB: the operation's own action on the table (``dynamodb:Query`` on
  ``table/T/index/I`` for an index); ``BatchGetItem`` and ``BatchWriteItem`` on every table
  they name (a batch write as ``PutItem``/``DeleteItem``, as IAM evaluates it);
  ``TransactWriteItems`` as each of its parts (``PutItem``, ``UpdateItem``, ``DeleteItem``,
  ``ConditionCheckItem``) on its table; ``TransactGetItems`` as ``GetItem``.
- S3: ``GetObject``, ``PutObject``, ``DeleteObject`` on the object's ARN, ``DeleteObjects``
  as ``s3:DeleteObject`` on every key, ``ListObjectsV2`` as ``s3:ListBucket`` and
  ``ListObjectVersions`` as ``s3:ListBucketVersions`` on the bucket. A ``GetObject`` or
  ``HeadObject`` of a missing key answers 403 ``AccessDenied``, not 404, when the caller may
  not ``s3:ListBucket`` (S3 does not tell who may not list whether a key exists).

Only calls made by a function's code are checked (``runtime.invoking`` names it); the CLI's
own calls (the operator's) and the test harness's are outside, as docs/LOCAL_RUNTIME.md says.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
S3_OBJECT_ACTIONS = {"GetObject": "GetObject", "HeadObject": "GetObject"}


@dataclass(frozen=True)
class Grant:
    """One action allowed on one resource, the resource named by its logical ID and the part
    of its ARN after it (``BinsTable``, ``BinsTable/index/*``, ``RecordsBucket/records/*``)."""

    action: str
    resource: str
    deny: bool = False  # Effect Deny: refuses what it covers, whatever allows it
    # StringLike/StringEquals on condition keys (``s3:prefix``), as (operator, key, values);
    # a request that does not carry the key (a GetObject has no s3:prefix) is not covered
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def covers(self, action: str, resource: str, context: dict | None = None) -> bool:
        if self.action != action and not (
            self.action.endswith("*") and action.startswith(self.action[:-1])
        ):
            return False
        if self.resource.endswith("*"):
            if not resource.startswith(self.resource[:-1]):
                return False
        elif resource != self.resource:
            return False
        return all(_holds(condition, context or {}) for condition in self.conditions)


def _holds(condition: tuple[str, str, tuple[str, ...]], context: dict) -> bool:
    operator, key, values = condition
    if key not in context:
        return False
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(context[key], value) for value in values)
    if operator == "StringEquals":
        return context[key] in values
    return False  # an operator this model does not know: refused, never granted by mistake


def _conditions(statement: dict) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple(
        (operator, key, tuple(_as_list(values)))
        for operator, pairs in (statement.get("Condition") or {}).items()
        for key, values in pairs.items()
    )


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def resource_name(value) -> str:
    """``!GetAtt X.Arn`` → X; ``!Sub "${X.Arn}/records/*"`` → X/records/*; ``!Ref X`` → X."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
        if "Ref" in value:
            return value["Ref"]
        if "Fn::Sub" in value:
            found = re.fullmatch(r"\$\{(\w+)(?:\.Arn)?\}(.*)", value["Fn::Sub"])
            if found:
                return found.group(1) + found.group(2)
    return str(value)


def grants_of(template, function: str) -> list[Grant]:
    """The function's inline policy statements (Effect Allow) as grants."""
    grants = []
    for policy in template.resources[function]["Properties"].get("Policies", []) or []:
        if not isinstance(policy, dict):
            continue
        for statement in policy.get("Statement", []):
            if "NotAction" in statement or "NotResource" in statement:
                raise ValueError(f"{function}: NotAction and NotResource are not modelled here")
            deny = statement.get("Effect") == "Deny"
            conditions = _conditions(statement)
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    grants.append(Grant(action, resource_name(resource), deny, conditions))
    return grants


class Policies:
    """Every function's grants, and the physical names of the resources they name."""

    def __init__(self, template) -> None:
        self.template = template
        self.grants = {name: grants_of(template, name) for name in template.functions}
        self._logical: dict[str, str] = {}  # physical name -> logical ID
        self.removed: set[tuple[str, Grant]] = set()  # a test's: grants taken away
        self.used: dict[str, set[Grant]] = {}  # grants that allowed a call, by function
        self.denials: list[tuple[str, str, str]] = []  # (function, action, resource)
        # (function, action, resource, s3:prefix) of every call, while recording
        self.recorded: set[tuple[str, str, str, str | None]] | None = None

    def name_resources(self, names: dict[str, str]) -> None:
        """Logical ID -> physical name, for one set of the template's resources."""
        self._logical.update({physical: logical for logical, physical in names.items()})

    def logical(self, physical: str) -> str:
        return self._logical.get(physical, physical)

    def allowing(
        self, function: str, action: str, resource: str, context: dict | None = None
    ) -> Grant | None:
        """The grant that allows the call (None: refused): an explicit Deny wins, as in IAM."""
        covering = [
            grant
            for grant in self.grants.get(function, [])
            if (function, grant) not in self.removed and grant.covers(action, resource, context)
        ]
        if any(grant.deny for grant in covering):
            return None
        return covering[0] if covering else None

    def check(self, function: str, service: str, operation: str, params: dict) -> None:
        """Raise what AWS raises when ``function``'s policy does not allow the call."""
        context = {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
        for action, resource in self.requested(service, operation, params):
            if self.recorded is not None:
                self.recorded.add((function, action, resource, params.get("Prefix")))
            grant = self.allowing(function, action, resource, context)
            if grant is None:
                arn = self.arn(resource)
                # on AWS the function's own error log shows it; here, the server's output
                print(f"openbin: IAM denied {function} {action} on {arn}", file=sys.stderr)
                self.denials.append((function, action, resource))
                raise denied(function, service, operation, action, arn)
            self.used.setdefault(function, set()).add(grant)

    def sole_grants(
        self, calls: Iterable[tuple[str, str, str, str | None]]
    ) -> dict[str, set[Grant]]:
        """By function, the grants that some call needs and no other grant of the function
        covers: taking any of them away makes that call fail."""
        needed: dict[str, set[Grant]] = {}
        for function, action, resource, prefix in calls:
            context = {"s3:prefix": prefix} if prefix is not None else {}
            covering = [
                g for g in self.grants.get(function, []) if g.covers(action, resource, context)
            ]
            if len(covering) == 1:
                needed.setdefault(function, set()).add(covering[0])
        return needed

    def may_list(self, function: str, bucket: str) -> bool:
        return self.allowing(function, "s3:ListBucket", self.logical(bucket)) is not None

    def requested(self, service: str, operation: str, params: dict) -> Iterable[tuple[str, str]]:
        """(action, resource) pairs that IAM evaluates for the call."""
        if service == "lambda":  # Invoke, by a function's alias ARN
            yield "lambda:InvokeFunction", self.logical(params["FunctionName"])
            return
        if service == "sqs":  # by the queue's URL, whose last part is its name
            yield (
                f"sqs:{operation}",
                self.logical(str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]),
            )
            return
        if service == "s3":
            bucket = self.logical(params["Bucket"])
            if operation == "DeleteObjects":
                for obj in params["Delete"]["Objects"]:
                    action = "s3:DeleteObjectVersion" if obj.get("VersionId") else "s3:DeleteObject"
                    yield action, f"{bucket}/{obj['Key']}"
            elif operation == "ListObjectsV2":
                yield "s3:ListBucket", bucket
            elif operation == "ListObjectVersions":
                yield "s3:ListBucketVersions", bucket
            elif "Key" in params:
                action = S3_OBJECT_ACTIONS.get(operation, operation)
                if params.get("VersionId") and action in ("GetObject", "DeleteObject"):
                    action += "Version"
                yield f"s3:{action}", f"{bucket}/{params['Key']}"
            else:
                yield f"s3:{operation}", bucket
            return
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                for part, body in item.items():
                    yield f"dynamodb:{TRANSACT_PARTS[part]}", self.logical(body["TableName"])
        elif operation == "TransactGetItems":
            for item in params["TransactItems"]:
                yield "dynamodb:GetItem", self.logical(item["Get"]["TableName"])
        elif operation == "BatchGetItem":
            for table in params["RequestItems"]:
                yield "dynamodb:BatchGetItem", self.logical(table)
        elif operation == "BatchWriteItem":
            for table, writes in params["RequestItems"].items():
                for write in writes:
                    action = "PutItem" if "PutRequest" in write else "DeleteItem"
                    yield f"dynamodb:{action}", self.logical(table)
        elif "TableName" in params:
            table = self.logical(params["TableName"])
            if params.get("IndexName"):
                table += f"/index/{params['IndexName']}"
            yield f"dynamodb:{operation}", table
        else:
            yield f"dynamodb:{operation}", "*"

    def arn(self, resource: str) -> str:
        logical, _, rest = resource.partition("/")
        kind = self.template.resources.get(logical, {}).get("Type", "")
        physical = next((p for p, name in self._logical.items() if name == logical), logical)
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{physical}" + (f"/{rest}" if rest else "")
        if logical.endswith(".Alias"):
            return physical
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical}"
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}" + (
            f"/{rest}" if rest else ""
        )


def denied(function: str, service: str, operation: str, action: str, arn: str) -> ClientError:
    who = f"arn:aws:sts::{ACCOUNT}:assumed-role/{function}Role/{function}"
    message = (
        f"User: {who} is not authorized to perform: {action} on resource: {arn} "
        f"because no identity-based policy allows the {action} action"
    )
    if service == "s3":
        code, status = "AccessDenied", 403
    else:
        code, status = "AccessDeniedException", 400
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


MISSING = ("NoSuchKey", "404", "NotFound")


def _access_denied(operation: str) -> ClientError:
    """What S3 answers, for a key that does not exist, a caller that may not list the bucket."""
    return ClientError(
        {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        operation,
    )


_policies: Policies | None = None


def enforce(template, names: dict[str, str]) -> Policies:
    """Check every call of a function's code from now on (idempotent); ``names``: the logical
    IDs of one set of the template's resources and their physical names."""
    global _policies
    if _policies is None or _policies.template.path != template.path:
        _policies = Policies(template)
    _policies.name_resources(names)
    _install()
    return _policies


def policies() -> Policies | None:
    return _policies


def _install() -> None:
    from botocore.client import BaseClient

    if getattr(BaseClient._make_api_call, "enforces_iam", False):
        return
    original = BaseClient._make_api_call

    def checked(client, operation, params):
        from openbin_local.runtime import invoking

        function, enforced = invoking.get(), _policies
        if function is None or enforced is None:
            return original(client, operation, params)
        service = client.meta.service_model.endpoint_prefix
        enforced.check(function, service, operation, params)
        if service != "s3" or operation not in S3_OBJECT_ACTIONS:
            return original(client, operation, params)
        try:
            return original(client, operation, params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in MISSING and not enforced.may_list(function, params["Bucket"]):
                raise _access_denied(operation) from None
            raise

    checked.enforces_iam = True  # type: ignore[attr-defined]
    BaseClient._make_api_call = checked
