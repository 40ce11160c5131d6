"""The ASGI entry point for an ASGI server started directly (`granian --interface asgi
api.asgi:app`): settings from the environment, read once. Outside development mode it
refuses development secrets and keys (registry/production.py), without `kaseru serve`'s own
check. `kaseru serve` does not come here: its workers build the app from the settings it
resolved, --db included (api/cli/serve.py)."""

from api.app import create_app
from registry import production
from registry.settings import Settings

settings = Settings.from_env()
production.require(settings, "serve")
app = create_app(settings)
