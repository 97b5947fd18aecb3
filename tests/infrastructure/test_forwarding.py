"""A route with a trailing slash, on AWS: the $default function may invoke every function that
owns a /v3 route (an alias variable and a lambda:InvokeFunction grant for each, nothing more),
knows the routes as template.yaml has them, and a template with a route path ending in "/"
(which API Gateway refuses to deploy) is refused here too."""

from __future__ import annotations

import pytest

from openbin_local.template import Template
from tools import forwarding_routes


def _owners(template) -> set[str]:
    return {r.function for r in template.routes if r.path.startswith("/v3/")}


def test_the_route_table_is_current():
    assert forwarding_routes.TABLE.read_text() == forwarding_routes.rendered(), "make template"


def test_default_function_may_invoke_each_route_owner_and_nothing_else(template):
    props = template.resources["RouteNotFoundFunction"]["Properties"]
    variables = props["Environment"]["Variables"]
    owners = _owners(template)
    assert variables == {f"FORWARD_TO_{name.upper()}": {"Ref": f"{name}.Alias"} for name in owners}
    [statement] = [s for policy in props["Policies"] for s in policy["Statement"]]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert sorted(r["Ref"] for r in statement["Resource"]) == sorted(f"{n}.Alias" for n in owners)


def test_a_route_path_ending_in_a_slash_is_refused(tmp_path):
    text = Template().path.read_text().replace("Path: /v3/usage\n", "Path: /v3/usage/\n", 1)
    changed = tmp_path / "template.yaml"
    changed.write_text(text)
    with pytest.raises(ValueError, match="may not end in '/'"):
        _ = Template(changed).routes
