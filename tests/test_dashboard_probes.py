"""The relation probes view driven by Streamlit's AppTest on the shipped model and samples: a verdict, the
effects table with intervals, presets and controls that change the result, and the real-map relation field."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis.measures.relation_probes import PROBE_OPS, VERDICTS
from dashboard import settings

APP = settings.REPO / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    at.session_state["view"] = "Relation probes"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def effects(at: AppTest):
    [found] = [d.value for d in at.dataframe if {"op", "srn_change", "srn_change_ci_low"} <= set(d.value.columns)]
    return found.set_index("op")


def verdict(at: AppTest) -> str:
    shown = [m.value for kind in ("success", "info", "warning") for m in at.get(kind) if "**" in m.value]
    assert len(shown) == 1, shown
    return shown[0].split("**")[1]


def test_the_view_shows_a_verdict_and_every_probe_with_intervals(app: AppTest) -> None:
    assert verdict(app) in VERDICTS
    table = effects(app)
    assert list(table.index) == list(PROBE_OPS)
    assert (table["main_change"] == 0).all()
    np.testing.assert_allclose(table["fused_change"], 0.5 * table["srn_change"], rtol=1e-5, atol=1e-6)
    measured = table[table["images"] >= 2]
    assert len(measured) and (measured["srn_change_ci_low"] <= measured["srn_change"] + 1e-9).all()
    assert (measured["srn_change"] <= measured["srn_change_ci_high"] + 1e-9).all()


def test_controls_and_presets_change_what_is_probed(app: AppTest) -> None:
    before = effects(app)
    names = app.selectbox(key="keep.p_read").options
    presets = [p for p in app.selectbox(key="keep.p_preset").options if p != "(choose the labels)"]
    if presets:
        app.selectbox(key="keep.p_preset").set_value(presets[-1]).run()
        assert not app.exception and app.session_state["keep.p_read"] in names
    app.slider(key="keep.p_dx").set_value(-2).run()
    app.slider(key="keep.p_dy").set_value(1).run()
    after = effects(app)
    assert "dx=-2, dy=1" in after.loc["move", "description"]
    assert not before.equals(after)
    app.multiselect(key="keep.p_partners").set_value([]).run()
    assert any("Pick at least one partner" in m.value for m in app.info)


def test_the_pair_view_measures_the_relation_field_on_real_maps_by_default() -> None:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.session_state["view"] = "Label relations"
    at.run()
    assert not at.exception and not at.error
    choice = at.selectbox(key="keep.r_field_source")
    assert choice.value.startswith("real maps") or "No image holds both" in " ".join(m.value for m in at.info)
