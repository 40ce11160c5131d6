"""The two faces of the registry: the `kaseru` command line and (later) the HTTP API."""
