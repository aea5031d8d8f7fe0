"""The dashboard's 'Can this map be trusted?' view, driven by Streamlit's AppTest on the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard import settings

APP = Path(settings.REPO) / "dashboard" / "app.py"
VIEW = "Can this map be trusted?"


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]
    return at


def _chart(at: AppTest, key: str) -> dict:
    [found] = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    return json.loads(found.proto.spec)


def test_trust_view_for_the_current_image_and_the_sample_set():
    at = _run(AppTest.from_file(str(APP), default_timeout=600))
    at.session_state["view"] = VIEW
    at.session_state["keep.t_methods"] = ["attention", "centre"]
    at.session_state["keep.t_steps"] = 4
    at.session_state["keep.t_random"] = False
    _run(at)
    [table] = [d.value for d in at.dataframe if "measure" in d.value.columns]
    assert {"A", "centre Gaussian"} <= set(table.columns)
    assert "deletion AUC, fused" in set(table["measure"])
    curves = _chart(at, "t_chart_curves")
    assert len(curves["data"]) == 4  # two methods x (deletion, insertion)
    assert any("against the centre baseline" in m.value for m in at.markdown)
    at.multiselect(key="keep.t_labels").set_value([at.multiselect(key="keep.t_labels").options[0]])
    _run(at)
    [table] = [d.value for d in at.dataframe if "measure" in d.value.columns]
    assert "deletion AUC, fused" in set(table["measure"])  # any label can be measured, present or not
    at.multiselect(key="keep.t_labels").set_value([])
    at.radio(key="keep.t_scope").set_value("sample set")
    _run(at)
    assert not at.get("plotly_chart")  # nothing is measured before the button
    at.button(key="t_run").click()
    _run(at)
    bars = _chart(at, "t_chart_bars")
    assert "all labels" in bars["data"][0]["x"] and len(bars["data"]) == 2
