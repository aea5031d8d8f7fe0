"""analysis.measures.relation_view: the relations view's matrices by name, the synthetic anchor and the
relation fields of every label around one anchor, on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import centroid_offsets, conditional_probability, cooccurrence, probe_sr, relation_fields
from analysis.measures.relation_view import (
    MATRICES,
    MEANING,
    anchor_alone,
    fields_around,
    presence_source,
    relation_matrix,
)
from analysis.tables import LabelMatrix

from .helpers import TINY_LABELS, TINY_TARGETS, tiny_analyses, tiny_model


@pytest.fixture(scope="module")
def tiny():
    """The tiny model and its three analysed images."""
    model = tiny_model()
    return model, tiny_analyses(model)


def test_every_matrix_has_a_meaning_and_unknown_names_are_refused(tiny) -> None:
    model, analyses = tiny
    assert set(MEANING) == set(MATRICES)
    with pytest.raises(ValueError, match="unknown relation matrix 'nope'"):
        relation_matrix("nope", model, analyses, TINY_LABELS)


def test_counting_matrices_follow_the_ground_truth(tiny) -> None:
    model, analyses = tiny
    assert presence_source(analyses) == "truth"
    matrix, counts = relation_matrix("co-occurrence", model, analyses, TINY_LABELS)
    assert counts is None and matrix.values[0, 1] == 2 and matrix.values[1, 1] == 3 and matrix.values[3, 0] == 0
    np.testing.assert_array_equal(matrix.values, cooccurrence(np.array(TINY_TARGETS), TINY_LABELS).values)
    matrix, counts = relation_matrix("P(j | i)", model, analyses, TINY_LABELS)
    assert matrix.values[0, 2] == pytest.approx(0.5) and matrix.values[3, 1] == pytest.approx(1.0)
    np.testing.assert_allclose(matrix.values, conditional_probability(np.array(TINY_TARGETS), TINY_LABELS).values)
    assert counts[:, 0].tolist() == [2, 3, 2, 1, 1]  # images holding the row label


def test_predictions_stand_in_where_an_image_has_no_truth(tiny) -> None:
    model, analyses = tiny
    unlabelled = [analyses[0], analyses[1].__class__(**{**vars(analyses[1]), "targets": None})]
    assert presence_source(unlabelled) == "prediction"
    matrix, _ = relation_matrix("co-occurrence", model, unlabelled, TINY_LABELS, threshold=0.0)
    assert (matrix.values == 2).all()  # every score is above 0: the first image's truth (no car) is not used


def test_offset_matrices_carry_their_counts(tiny) -> None:
    model, analyses = tiny
    stats = centroid_offsets(analyses, "attention", "cells", 0.5)
    for name, values in (
        ("offset consistency", stats.consistency),
        ("mean dx", stats.mean[..., 0]),
        ("mean dy", stats.mean[..., 1]),
    ):
        matrix, counts = relation_matrix(name, model, analyses, TINY_LABELS)
        np.testing.assert_allclose(matrix.values, values, equal_nan=True)
        np.testing.assert_array_equal(counts, stats.count)
    assert stats.count[0, 1] == 2


def test_model_matrices_and_a_supplied_influence(tiny) -> None:
    model, analyses = tiny
    probes = probe_sr(model, TINY_LABELS)
    matrix, counts = relation_matrix("f_sr similarity", model, analyses, TINY_LABELS, probes=probes)
    assert counts is None and matrix.values.shape == (5, 5)
    np.testing.assert_allclose(np.diag(matrix.values)[np.isfinite(np.diag(matrix.values))], 1.0, atol=1e-5)
    given = LabelMatrix(np.eye(5), TINY_LABELS, TINY_LABELS, "given")
    assert relation_matrix("influence", model, analyses, TINY_LABELS, influence=lambda: given)[0] is given
    computed, _ = relation_matrix("influence", model, analyses, TINY_LABELS)
    assert computed.values.shape == (5, 5) and np.isnan(computed.values[4, 4]) == (sum(t[4] for t in TINY_TARGETS) == 0)


def test_anchor_alone_holds_mass_one_at_the_centre() -> None:
    u = anchor_alone(TINY_LABELS, 4, "car")
    assert u.shape == (5, 4, 4) and u.sum() == 1.0 and u[2, 2, 2] == 1.0


def test_fields_around_equal_one_run_and_report_progress(tiny) -> None:
    model, analyses = tiny
    u = analyses[0].weighted_attention
    seen: list[tuple[int, int]] = []
    fields = fields_around(model, u, TINY_LABELS, "dog", batch=3, progress=lambda *step: seen.append(step))
    assert seen == [(3, 4), (4, 4)] and [f.moved for f in fields] == ["cat", "car", "tree", "sun"]
    for batched, whole in zip(fields, relation_fields(model, u, TINY_LABELS, "dog"), strict=True):
        assert batched.moved == whole.moved and batched.anchor == "dog"
        np.testing.assert_allclose(batched.logits, whole.logits, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert [f.moved for f in fields_around(model, u, TINY_LABELS, 0, mass=1.0)] == ["dog", "car", "tree", "sun"]
    with pytest.raises(ValueError, match="batch"):
        fields_around(model, u, TINY_LABELS, "dog", batch=0)
