"""Looking into PDFs the way a reader does: their text, fonts, pictures and signatures,
with tools independent of the ones that made them (pdfium, Poppler)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pypdfium2


def text(pdf: bytes, page: int | None = None) -> str:
    """The text a reader extracts (all pages, or one), with line breaks removed so that
    wrapped phrases still match."""
    document = pypdfium2.PdfDocument(pdf)
    pages = range(len(document)) if page is None else [page]
    out = "".join(document[i].get_textpage().get_text_range() for i in pages)
    document.close()
    return out.replace("\r", "").replace("\n", "")


def image(pdf: bytes, page: int = 0, scale: float = 2.0):
    """A page rendered to a PIL image by pdfium."""
    document = pypdfium2.PdfDocument(pdf)
    bitmap = document[page].render(scale=scale)
    picture = bitmap.to_pil()
    document.close()
    return picture


def poppler(tool: str, pdf: bytes) -> str:
    """Run a Poppler tool (pdfsig, pdffonts) on the bytes and return what it prints."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(
            [tool, str(path)], capture_output=True, text=True, check=False, timeout=120
        )
    return done.stdout + done.stderr


def objects(pdf: bytes, page: int = 0) -> dict[str, int]:
    """How many text, path and image objects a page holds (pdfium's page objects)."""
    import pypdfium2.raw as raw

    names = {
        raw.FPDF_PAGEOBJ_TEXT: "text",
        raw.FPDF_PAGEOBJ_PATH: "path",
        raw.FPDF_PAGEOBJ_IMAGE: "image",
        raw.FPDF_PAGEOBJ_SHADING: "shading",
        raw.FPDF_PAGEOBJ_FORM: "form",
    }
    counts = dict.fromkeys(names.values(), 0)
    document = pypdfium2.PdfDocument(pdf)
    for item in document[page].get_objects(max_depth=8):
        counts[names.get(item.type, "other")] = counts.get(names.get(item.type, "other"), 0) + 1
    document.close()
    return counts
