"""The ASGI entry point for `kaseru serve`: settings from the environment, read once.
Outside development mode it refuses development secrets and keys (registry/production.py)
also when started by an ASGI server directly, without `kaseru serve`'s own check."""

from api.app import create_app
from registry import production
from registry.settings import Settings

settings = Settings.from_env()
production.require(settings, "serve")
app = create_app(settings)
