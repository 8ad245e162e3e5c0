"""Signing in to the web UI from a test client, as a browser does: the sign-in form's
token first, then the form; once in, the session's form token rides on every request
(as the header a page's script sends), so tests post forms as the pages do."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from optline.web.session import CSRF_HEADER

HOST = {"origin": "http://testserver"}
_TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(page: str) -> str:
    """The form token in a page's forms."""
    found = _TOKEN.search(page)
    assert found is not None, "no form token on the page"
    return found.group(1)


def sign_in(
    client: TestClient,
    key: str | None = None,
    *,
    account: str = "",
    user: str = "",
    password: str = "",
) -> httpx.Response:
    """Post the sign-in form (an API key, or an account, user name and password); when
    it succeeds, the client sends the new session's form token from then on."""
    client.headers.pop(CSRF_HEADER, None)
    token = form_token(client.get("/ui/login").text)
    data = {"csrf": token, "account": account, "user": user, "password": password}
    if key is not None:
        data["key"] = key
    response: httpx.Response = client.post(
        "/ui/login", data=data, headers=HOST, follow_redirects=False
    )
    if response.status_code == 303:
        client.headers[CSRF_HEADER] = form_token(client.get("/ui/check").text)
    return response
