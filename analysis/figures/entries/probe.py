"""A relation probe: the mean change of the read label's SRN and fused logits per probe (remove, move,
mirror, add the partner's map), with their 95 % intervals as error bars."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import mpl_text, plotly_text

from ...measures.relation_probes import RelationProbe
from ..catalogue import FigureEntry, register


def _series(probe: RelationProbe) -> tuple[list[str], dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    effects = [e for e in probe.effects.values() if e.images]
    ops = [f"{e.op} ({e.images})" for e in effects]
    series = {}
    for head, mean, ci in (("SRN", "srn_change", "srn_change_ci"), ("fused", "fused_change", "fused_change_ci")):
        values = np.array([getattr(e, mean) for e in effects], dtype=float)
        low = np.array([getattr(e, ci)[0] for e in effects], dtype=float)
        high = np.array([getattr(e, ci)[1] for e in effects], dtype=float)
        series[head] = (values, np.nan_to_num(values - low), np.nan_to_num(high - values))
    return ops, series


def _title(probe: RelationProbe) -> str:
    return f"{probe.read}'s logit when {'+'.join(probe.partners)}'s map is edited: {probe.verdict.upper()}"


def probe_figure_mpl(probe: RelationProbe) -> Figure:
    """Bars of the mean logit change per probe (SRN and fused) with their confidence intervals."""
    ops, series = _series(probe)
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(ops))
    for n, (head, (values, below, above)) in enumerate(series.items()):
        ax.bar(x + (n - 0.5) * 0.38, values, 0.36, yerr=[below, above], capsize=3, label=head)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, ops)
    ax.set_ylabel(mpl_text(f"change of {probe.read}'s logit (after - before)"))
    ax.set_title(mpl_text(_title(probe)), fontsize=9)
    ax.legend(fontsize=8)
    return fig


def probe_figure_plotly(probe: RelationProbe) -> go.Figure:
    """The same bars as `probe_figure_mpl`, interactive."""
    ops, series = _series(probe)
    fig = go.Figure()
    for head, (values, below, above) in series.items():
        fig.add_trace(
            go.Bar(
                name=head,
                x=ops,
                y=values,
                error_y={"type": "data", "array": above, "arrayminus": below, "symmetric": False},
            )
        )
    fig.update_layout(
        barmode="group",
        title=plotly_text(_title(probe)),
        yaxis_title=plotly_text(f"change of {probe.read}'s logit"),
        height=380,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


ENTRY = register(
    FigureEntry(
        "probe",
        "the probe",
        "probe",
        ("probe",),
        mpl=probe_figure_mpl,
        plotly=probe_figure_plotly,
        rows=lambda probe: probe.rows(),
        data=lambda probe: probe,
        marks=frozenset({"bars", "error_bars"}),
    )
)
