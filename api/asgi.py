"""The ASGI entry point for `kaseru serve`: settings from the environment, read once."""

from api.app import create_app
from registry.settings import Settings

app = create_app(Settings.from_env())
