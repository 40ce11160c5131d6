"""Rendering documents: a JSON-ready dict in, PDF/A-2b bytes out.

The data reaches Typst only as one JSON string in `sys.inputs.data`; templates read it
with `json(bytes(...))` and place its values as text, so nothing in the data can become
Typst markup. One compiler per template is kept warm (fonts parsed once).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import typst

from templates.fonts import font_dir

TEMPLATES = Path(__file__).resolve().parent
KINDS = ("certificate", "notice", "guarantee", "reminder")


class RenderError(RuntimeError):
    """A template failed to compile (a bug in a template, never in the data)."""


class Renderer:
    """Compiles the document templates, keeping one warm Typst compiler per template."""

    def __init__(self) -> None:
        self._fonts = typst.Fonts(include_system_fonts=False, font_paths=[str(font_dir())])
        self._compilers: dict[str, typst.Compiler] = {}
        self._lock = threading.Lock()

    def _compiler(self, kind: str) -> typst.Compiler:
        if kind not in KINDS:
            raise ValueError(f"unknown document kind {kind!r}")
        compiler = self._compilers.get(kind)
        if compiler is None:
            compiler = typst.Compiler(
                str(TEMPLATES / f"{kind}.typ"),
                root=str(TEMPLATES),
                font_paths=self._fonts,
                ignore_system_fonts=True,
            )
            self._compilers[kind] = compiler
        return compiler

    def render(self, kind: str, data: dict[str, Any], created: dt.datetime | None = None) -> bytes:
        """PDF/A-2b bytes of document `kind` for `data`. `created` fixes the PDF's
        creation date, so the same data renders the same bytes."""
        payload = json.dumps(data, ensure_ascii=False, default=str)
        with self._lock:  # a Typst compiler is not safe to share between threads
            try:
                pdf = self._compiler(kind).compile(
                    format="pdf",
                    sys_inputs={"data": payload},
                    pdf_standards="a-2b",
                    timestamp=created,
                )
            except typst.TypstError as error:
                raise RenderError(f"{kind}: {error.message}") from error
        assert isinstance(pdf, bytes)
        return pdf
