"""The Japanese font every document uses: IPAex Gothic, shipped by the locked
`matplotlib-fontja` package, so every machine renders the same glyphs."""

from __future__ import annotations

from pathlib import Path

FAMILY = "IPAexGothic"


def font_dir() -> Path:
    """The folder holding ipaexg.ttf."""
    import matplotlib_fontja

    folder = Path(matplotlib_fontja.__file__).resolve().parent / "fonts"
    if not (folder / "ipaexg.ttf").exists():
        raise RuntimeError(f"IPAex Gothic is missing from {folder}")
    return folder
