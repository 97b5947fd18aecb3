"""Handler-level cases that need direct access to storage or raw events."""

import base64
import json

from openbin.models import Bin, RecordRef


def test_bin_without_owner(handler_api, storage):
    record: RecordRef = storage.records.save("0" * 24, b'{"legacy": true}')
    storage.bins.create(
        Bin(
            bin_id="5" * 24,
            owner_id=None,
            private=False,
            created_at="2020-01-01T00:00:00.000Z",
            latest_version=0,
            record=record,
            revision="r",
        )
    )
    reply = handler_api.get("/v3/b/" + "5" * 24)
    assert (reply.status, reply.json()) == (
        403,
        {"message": "Bin not associated to any user account"},
    )


def raw_create_event(template, headers: dict, body: str, encoded: bool = False) -> tuple:
    route, _ = template.route_for("POST", "/v3/b")
    event = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": "/v3/b",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/v3/b"}, "stage": "$default"},
        "body": body,
        "isBase64Encoded": encoded,
    }
    return route.function, event


def test_base64_encoded_body(handler_api, template):
    account = handler_api.account()
    function, event = raw_create_event(
        template,
        {"content-type": "application/json", "x-master-key": account.key},
        base64.b64encode(b'{"b64": 1}').decode(),
        encoded=True,
    )
    result = handler_api.runner.invoke(function, event)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["record"] == {"b64": 1}


def test_header_values_are_trimmed_whoever_built_the_event(handler_api, template):
    """API Gateway trims header values; an event from elsewhere (sam local, a test) may not."""
    account = handler_api.account()
    function, event = raw_create_event(
        template,
        {
            "content-type": " application/json ",
            "x-master-key": account.key + " \t",
            "x-bin-name": "\t named  ",
            "x-bin-private": " false ",
        },
        '{"a": 1}',
    )
    result = handler_api.runner.invoke(function, event)
    assert result["statusCode"] == 200, result["body"]
    metadata = json.loads(result["body"])["metadata"]
    assert (metadata["name"], metadata["private"]) == ("named", False)


def test_malformed_event_gets_json_500_not_a_trace(handler_api):
    result = handler_api.runner.invoke("ReadBinFunction", {"nonsense": True})
    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"message": "Internal server error"}
    assert "Traceback" not in result["body"]
