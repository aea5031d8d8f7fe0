"""Clickable plots: Streamlit reports clicks on scatter points but not on heat-map cells, so a
nearly invisible marker sits on every cell; it carries the hover text and the click is read back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go


def add_click_layer(
    fig: go.Figure,
    xs: Sequence[Any],
    ys: Sequence[Any],
    values: np.ndarray | None = None,
    hovertemplate: str = "x %{x}, y %{y}<extra></extra>",
    size: int = 14,
    counts: np.ndarray | None = None,
    **where: Any,
) -> None:
    """A marker on every (x, y) of the grid xs x ys (values[row, col] shown on hover as %{customdata}, or,
    with `counts`, as %{customdata[0]} and the count as %{customdata[1]}).

    The heat maps beneath should skip hover, so that the markers get every hover and click.
    """
    gx, gy = np.meshgrid(np.asarray(xs, dtype=object), np.asarray(ys, dtype=object))
    custom = None if values is None else np.where(np.isfinite(values), values, np.nan).ravel().tolist()
    if custom is not None and counts is not None:
        custom = [[v, int(n)] for v, n in zip(custom, np.asarray(counts).ravel())]
    fig.add_trace(
        go.Scatter(
            x=gx.ravel().tolist(),
            y=gy.ravel().tolist(),
            mode="markers",
            showlegend=False,
            customdata=custom,
            hovertemplate=hovertemplate,
            name="click",
            marker={"symbol": "square", "size": size, "opacity": 0.01, "color": "white"},
        ),
        **where,
    )
    fig.update_layout(clickmode="event+select", dragmode=False, hovermode="closest")


def clicked_point(event: Any) -> tuple[Any, Any] | None:
    """(x, y) of the clicked point in a plotly selection event (or its dict), None when nothing is selected."""
    if not event:
        return None
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    points = (selection or {}).get("points") or []
    if not points:
        return None
    point = points[-1]
    return point.get("x"), point.get("y")
