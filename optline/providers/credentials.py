"""What a sender's provider and credentials must be, checked when it is registered.

A credential that cannot be used would be found out later, one request at a time: a
Telnyx public key that does not load makes every webhook to the sender a 403. So each
is checked here, whichever way the sender is registered (API, CLI, library), and a bad
one is refused before anything is stored. The rules for every credential are here;
what a provider needs, and what it cannot use, its provider object says.
"""

from __future__ import annotations

from collections.abc import Mapping

from optline.providers.registry import PROVIDERS

# Credentials are secrets and ids, not texts: anything longer is a paste gone wrong.
MAX_CREDENTIAL_CHARS = 1000


def check(provider: str | None, credentials: Mapping[str, str]) -> None:
    """Raise ValueError naming the first thing wrong with ``provider`` and its
    ``credentials``: an unknown provider, a credential it needs that is missing or
    empty, a value that is not plain text, or one its provider cannot use."""
    if provider is not None and provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r} (known: {known})")
    for name, value in credentials.items():
        if not isinstance(value, str):
            raise ValueError(f"{name}: a credential is text, got {type(value).__name__}")
        if len(value) > MAX_CREDENTIAL_CHARS:
            raise ValueError(f"{name}: longer than {MAX_CREDENTIAL_CHARS} characters")
        if not value.isprintable():
            raise ValueError(f"{name}: only printable characters (no line breaks or controls)")
    if provider is None:
        return
    found = PROVIDERS[provider]
    missing = [name for name in found.credentials if not credentials.get(name)]
    if missing:
        raise ValueError(f"{provider} sender needs credentials: {', '.join(missing)}")
    found.check_credentials(credentials)
