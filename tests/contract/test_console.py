"""The web console's files (issue 18): served at / and /console/<file> by ConsoleFunction, at
both levels, with a strict Content-Security-Policy; nothing outside its directory."""

from __future__ import annotations

import re

import pytest

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
NOT_FOUND = {"message": "Console file not found"}


def test_the_page_is_served_under_a_strict_policy(api):
    page = api.get("/")
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert page.header("Content-Security-Policy") == CSP
    assert page.header("X-Content-Type-Options") == "nosniff"
    assert page.header("Referrer-Policy") == "no-referrer"
    assert page.header("Cache-Control") == "no-cache"
    html = page.body.decode()
    assert '<script src="/console/app.js" defer></script>' in html
    # no inline script, no inline style, no handler attribute, nothing from another host
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"\son[a-z]+=", html) == []
    assert re.findall(r"(?:src|href)=\"(?!/console/)", html) == []


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")],
)
def test_scripts_and_styles_are_served_and_cached_briefly(api, name, content_type):
    reply = api.get(f"/console/{name}")
    assert (reply.status, reply.header("Content-Type")) == (200, content_type)
    assert reply.header("Content-Security-Policy") == CSP
    assert reply.header("Cache-Control") == "public, max-age=300"
    assert reply.body


def test_the_script_never_renders_api_text_as_html_nor_keeps_the_key_beyond_the_tab(api):
    script = api.get("/console/app.js").body.decode()
    for unsafe in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "localStorage",
    ):
        assert unsafe not in script, unsafe
    assert "sessionStorage" in script


@pytest.mark.parametrize(
    "name", [".env", "missing.js", "app.exe", "APP.JS", "..", "index.html.bak", "%2e%2e"]
)
def test_nothing_else_is_served(api, name):
    reply = api.get(f"/console/{name}")
    assert (reply.status, reply.json()) == (404, NOT_FOUND)


def test_the_api_stays_where_it_is(api):
    assert api.get("/v3/nothing").json() == {"message": "Route not found"}


def test_no_form_field_of_the_page_could_submit_the_key(api):
    """Without the script (and its policy), a form submits its named fields: the key field has
    no name, so it is never sent, and the sign-in form posts (nothing in a URL)."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        named: list = []
        forms: list = []

        def handle_starttag(self, tag, attrs):
            found = dict(attrs)
            if tag in ("input", "select", "textarea") and "name" in found:
                self.named.append(found)
            if tag == "form":
                self.forms.append(found)

    page = Fields()
    page.feed(api.get("/").body.decode())
    assert page.named == []
    sign_in = next(form for form in page.forms if form.get("id") == "sign-in-form")
    assert sign_in.get("method") == "post"
