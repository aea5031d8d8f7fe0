"""srn_core.heads: one map from head names to the logits of a forward result, for tensors and arrays."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from srn_core.heads import HEADS, TABLE_HEADS, head_logits, stacked_logits

from .helpers import tiny_model


def _result(base: float) -> SimpleNamespace:
    return SimpleNamespace(
        cls_logits=np.array([base, 1.0]),
        att_logits=np.array([base, 2.0]),
        sr_logits=np.array([base, 3.0]),
        logits=np.array([base, 4.0]),
    )


def test_heads_read_their_own_fields_in_the_order_asked() -> None:
    result = _result(0.0)
    assert list(head_logits(result)) == list(HEADS) == ["main", "attention", "srn", "fused"]
    assert [float(v[1]) for v in head_logits(result).values()] == [1.0, 2.0, 3.0, 4.0]
    assert [float(v[1]) for v in head_logits(result, TABLE_HEADS).values()] == [4.0, 1.0, 3.0, 2.0]


def test_stacked_logits_keep_the_image_order() -> None:
    stacked = stacked_logits([_result(0.0), _result(-5.0), _result(7.0)], ("srn", "main"))
    assert list(stacked) == ["srn", "main"]
    assert stacked["srn"].shape == (3, 2) and stacked["srn"][:, 0].tolist() == [0.0, -5.0, 7.0]
    assert stacked["main"][:, 1].tolist() == [1.0, 1.0, 1.0]


def test_head_logits_read_every_head_of_a_forward_pass() -> None:
    model = tiny_model().eval()
    with torch.inference_mode():
        out = model(torch.zeros(2, 3, model.config.input_size, model.config.input_size))
    logits = head_logits(out)
    assert list(logits) == list(HEADS)
    assert logits["main"] is out.cls_logits and logits["attention"] is out.att_logits
    assert logits["srn"] is out.sr_logits and logits["fused"] is out.logits
    assert list(head_logits(out, ("fused", "main"))) == ["fused", "main"]
    with pytest.raises(KeyError):
        head_logits(out, ("confidence",))
