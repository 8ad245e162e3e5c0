"""Helpers for the REST API tests (the real app on real databases).

Imported by the ``test_api*`` modules; holds no tests itself. Its fixtures (``engine``,
``client``, ``acme``, ``other``) are in ``conftest.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from account_support import HELP_CONTACT
from fastapi.testclient import TestClient

ADMIN_KEY = "admin-" + "k" * 40
PROBLEM = "application/problem+json"

A = "+14155550100"  # long code of account acme
B = "+14155550101"  # second long code of acme
TF = "+18005550199"  # toll-free of acme
OTHER = "+14155550177"  # long code of account other
BOB = "+14155552671"
EVE = "+12025550143"
ZED = "+13125550188"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Tenant:
    """An account as its owner sees it through the API."""

    client: TestClient
    key: str
    name: str

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.key)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(path, headers=self.headers, **kw)
        return response

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        response: httpx.Response = self.client.post(path, json=json, headers=self.headers, **kw)
        return response

    def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        response: httpx.Response = self.client.put(path, json=json, headers=self.headers, **kw)
        return response

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        response: httpx.Response = self.client.delete(path, headers=self.headers, **kw)
        return response

    def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        response = self.client.request(method, path, json=json, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


def new_tenant(
    client: TestClient,
    name: str,
    profile: str = "default",
    senders: tuple[str, ...] = (),
    overrides: dict[str, Any] | None = None,
) -> Tenant:
    body = {"name": name, "profile": profile, "overrides": {**HELP_CONTACT, **(overrides or {})}}
    response = client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY))
    assert response.status_code == 201, response.text
    tenant = Tenant(client, response.json()["api_key"], name)
    for number in senders:
        tenant.ok("POST", "/v1/senders", {"number": number}, status=201)
    return tenant


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> Any:
    """A problem-details answer with this status (and code), a readable detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body
