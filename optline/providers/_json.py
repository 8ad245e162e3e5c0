"""Strict JSON decoding for webhook bodies: only PayloadError escapes."""

from __future__ import annotations

import json
from typing import Any

from optline.providers.base import PayloadError


def _no_constants(name: str) -> Any:
    raise PayloadError(f"invalid JSON number {name}")


def load_object(body: bytes) -> dict[str, Any]:
    """Decode ``body`` as a UTF-8 JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body is not valid UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise PayloadError("body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int strings over the digit limit
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return data


def get_object(parent: dict[str, Any], field: str, where: str) -> dict[str, Any]:
    value = parent.get(field)
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{field} must be an object")
    return value


def get_list(parent: dict[str, Any], field: str, where: str) -> list[Any]:
    value = parent.get(field, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}.{field} must be a list")
    return value
