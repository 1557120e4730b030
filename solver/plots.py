"""Figures as PNG files: one line plot helper shared by `report`, `compare` and `sweep`.

matplotlib is imported inside the function, with the Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def line_plot(
    path: Path,
    series: Mapping[str, Sequence[tuple[float, float | None]]],
    *,
    x_label: str,
    y_label: str,
    title: str,
    integer_x: bool = False,
    y_percent: bool = False,
    dashed: Sequence[str] = (),
    log_x: bool = False,
) -> None:
    """Write a PNG to `path`: one line with markers per series name, through its (x, y)
    points in order; points with y None are skipped. `integer_x`: x ticks on integers (rounds);
    `y_percent`: y values are fractions, drawn in % on a 0-based axis; `dashed`: series drawn
    dashed (same colour as the series before them); `log_x`: a logarithmic x axis (tokens)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    colour = None
    top = 0.0
    markers = "osD^v<>ph*"
    for number, (name, points) in enumerate(series.items()):
        kept = [(float(x), float(y)) for x, y in points if y is not None]
        xs = [x for x, _ in kept]
        ys = [100 * y if y_percent else y for _, y in kept]
        top = max([top, *ys])
        style = {"linestyle": "--", "color": colour} if name in dashed and colour is not None else {}
        (line,) = ax.plot(xs, ys, marker=markers[number % len(markers)], label=name, **style)
        colour = line.get_color()
    if y_percent:
        ax.set_ylim(0, 100 if top > 50 else max(5.0, top * 1.25))  # low scores stay readable, never below 0
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log_x and any(x > 0 for points in series.values() for x, y in points if y is not None):
        ax.set_xscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
