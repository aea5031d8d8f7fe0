"""analysis.measures.filters: conv4 viewed as channels x filters, and which labels drive which channels and filters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis import conv4_filters, filter_readout, path_table, probe_attention, probe_sr, sr_stages, weight_drive

from .helpers import TINY_LABELS, blank_f_sr, tiny_model


def test_conv4_view_and_filter_statistics():
    model = tiny_model()
    filters = conv4_filters(model)
    weight = model.f_sr.conv4.weight.detach().numpy()
    assert filters.weights.shape == (16, 4, 4, 4) and filters.norm.shape == (16, 4)
    np.testing.assert_array_equal(filters.weights[3, 2], weight[3 * 4 + 2, 0])
    np.testing.assert_allclose(filters.norm[5, 1], np.linalg.norm(weight[21]), rtol=1e-6)
    np.testing.assert_array_equal(filters.sign, np.sign(weight.sum(axis=(1, 2, 3))).reshape(16, 4))
    assert ((filters.positive_fraction >= 0) & (filters.positive_fraction <= 1)).all()
    assert len(filters.rows()) == 64 and filters.rows()[5]["channel"] == 1


def test_sr_stages_reproduce_f_sr():
    model = tiny_model()
    u = torch.rand(3, 5, 4, 4)
    with torch.no_grad():
        stages = sr_stages(model, u)
        torch.testing.assert_close(stages["y"], model.f_sr(u))
    assert stages["h3"].shape == (3, 16, 4, 4) and stages["a4"].shape == (3, 64)


def test_probe_inputs_hold_one_label_each():
    probes = probe_attention(5, 4, "uniform", mass=2.0)
    assert probes.shape == (6, 5, 4, 4) and probes[0].abs().sum() == 0
    np.testing.assert_allclose(probes[1:].sum(dim=(2, 3)).numpy(), 2.0 * np.eye(5))
    assert probe_attention(5, 4, "centre")[3, 2, 2, 2] == 1.0
    assert probe_attention(5, 4, (0, 3))[1, 0, 0, 3] == 1.0
    with pytest.raises(ValueError, match="outside"):
        probe_attention(5, 4, (4, 0))


@pytest.fixture
def wired():
    """f_sr wired by hand: label 0 writes only into channel 3, label 1 only into channel 7 (negatively
    into channel 8); conv3 is the identity; channel 3's filter 1 is the only one label 'dog' reads."""
    model = blank_f_sr(tiny_model())
    sr = model.f_sr
    with torch.no_grad():
        sr.conv2.weight[3, 0] = 2.0
        sr.conv2.weight[7, 1] = 1.0
        sr.conv2.weight[8, 1] = -1.0
        sr.conv4.weight[:, 0] = torch.rand(64, 4, 4) + 0.1
        sr.fc.weight[1, 3 * 4 + 1] = 1.5
        sr.fc.weight[2, 7 * 4 + 0] = -1.0
    return model


def test_weight_drive_names_the_wired_channel(wired):
    drive = weight_drive(wired, TINY_LABELS)
    assert drive.values.shape == (5, 16)
    assert drive.top("cat", 1)[0][0] == "ch3" and drive.top("dog", 1)[0][0] == "ch7"
    assert drive.values[1, 8] == -1.0
    assert drive.top_in_column("ch3", 1)[0][0] == "cat"


def test_measured_drive_respects_the_relus(wired):
    probes = probe_sr(wired, TINY_LABELS, "uniform", mass=1.0)
    assert probes.channel_drive.shape == (5, 16) and probes.filter_drive.shape == (5, 16, 4)
    assert probes.label_channels("cat", 1)[0][0] == 3
    assert probes.channel_drive[0, 3] == pytest.approx(2.0 / 16)
    assert probes.channel_drive[1, 8] == 0.0
    assert np.count_nonzero(probes.channel_drive[2:]) == 0
    assert {c for c, _, _ in probes.label_filters("cat", 4)} == {3}
    assert probes.channel_labels(7, 1)[0][0] == "dog"
    assert probes.logit_change[0, 1] > 0 and probes.logit_change[1, 2] < 0
    assert np.count_nonzero(probes.logit_change[0]) == 1


def test_filter_readout_and_path_table(wired):
    readout = filter_readout(wired, TINY_LABELS)
    assert readout.values.shape == (64, 5)
    assert readout.top_in_column("dog", 1)[0][0] == "ch3/f1"
    assert readout.top("ch7/f0", 1, absolute=True) == [("car", -1.0)]
    probes = probe_sr(wired, TINY_LABELS)
    rows = path_table(wired, probes, ["cat", "dog"], top=3)
    first = rows[0]
    assert (first["source"], first["channel"], first["filter"], first["target"]) == ("cat", 3, 1, "dog")
    assert first["contribution"] == pytest.approx(probes.logit_change[0, 1])
    dog = [r for r in rows if r["source"] == "dog"][0]
    assert (dog["channel"], dog["filter"], dog["target"]) == (7, 0, "car") and dog["contribution"] < 0


def test_path_contributions_add_up_to_the_probe_effect():
    model = tiny_model(seed=3)
    probes = probe_sr(model, TINY_LABELS, "centre")
    rows = path_table(model, probes, ["sun"], top=64 * 5)
    total = {}
    for row in rows:
        total[row["target"]] = total.get(row["target"], 0.0) + row["contribution"]
    for j, name in enumerate(TINY_LABELS):
        assert total[name] == pytest.approx(probes.logit_change[4, j], abs=1e-6)
