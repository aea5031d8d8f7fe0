"""SRN's four heads by name, and where each keeps its logits in a forward result.

`main` is the main net's y_cls, `attention` the attention branch's y_att, `srn` the spatial
regularisation net's y_sr and `fused` the output y = alpha y_cls + (1 - alpha) y_sr. Every table,
metric and score in the project names the heads this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

HEADS = ("main", "attention", "srn", "fused")
TABLE_HEADS = ("fused", "main", "srn", "attention")  # the order of score tables and CSV columns
HEAD_OUTPUTS = {"main": "cls_logits", "attention": "att_logits", "srn": "sr_logits", "fused": "logits"}


def head_logits(out: Any, heads: Sequence[str] = HEADS) -> dict[str, Any]:
    """{head: logits} of `heads` in one result: an `SRNOutput` ((B, C) tensors) or anything with its logit
    fields, such as a `Prediction` or an `ImageAnalysis` ((C,) arrays)."""
    return {head: getattr(out, HEAD_OUTPUTS[head]) for head in heads}


def stacked_logits(results: Sequence[Any], heads: Sequence[str] = HEADS) -> dict[str, np.ndarray]:
    """{head: (N, C) logits} of N one-image results (`Prediction`s, `ImageAnalysis`es), in their order."""
    return {head: np.stack([np.asarray(getattr(r, HEAD_OUTPUTS[head])) for r in results]) for head in heads}


__all__ = ["HEADS", "HEAD_OUTPUTS", "TABLE_HEADS", "head_logits", "stacked_logits"]
