"""The public QR key set, for offline verification (public)."""

from __future__ import annotations

from typing import cast

from litestar import get

from api.problems import documented
from api.routes.answers import PublicKeySet
from api.routes.context import ContextDependency


@get("/api/v1/keys", sync_to_thread=False, responses=documented())
def public_keys(context: ContextDependency) -> PublicKeySet:
    """The public key set, for offline verification."""
    return cast(PublicKeySet, context.keys.get().public_set())


HANDLERS = [public_keys]
