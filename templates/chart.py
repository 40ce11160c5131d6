"""Charts for documents, drawn with matplotlib as SVG (vector, text as paths so the
document needs no font for them)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from templates.fonts import font_dir


def rent_chart(
    years: Sequence[int], scenarios: Mapping[str, Sequence[int]], floor: int, floor_label: str
) -> str:
    """Market rent falling with the building's age under each scenario, against the flat
    guaranteed floor. Amounts are yen a month."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter

    path = font_dir() / "ipaexg.ttf"
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    with matplotlib.rc_context(
        {
            "font.family": family,
            "svg.fonttype": "path",
            "svg.hashsalt": "kaseru",
            "font.size": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        figure, axes = plt.subplots(figsize=(7.0, 2.35), dpi=100)
        shades = ["#1d4f91", "#4a78b5", "#7ea1d1", "#b3c8e6"]
        for (label, values), colour in zip(scenarios.items(), shades, strict=False):
            axes.plot(years, [v / 10_000 for v in values], color=colour, linewidth=1.4, label=label)
        axes.axhline(floor / 10_000, color="#7a1f2b", linewidth=2.2, label=floor_label)
        axes.set_xlabel("築年数（年）")
        axes.set_ylabel("月額（万円）")
        axes.set_xlim(min(years), max(years))
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axes.grid(axis="y", color="#dde2e7", linewidth=0.6)
        axes.legend(loc="lower left", fontsize=6.5, frameon=False, ncol=2)
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        plt.close(figure)
    return out.getvalue()
