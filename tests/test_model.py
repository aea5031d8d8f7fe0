"""Shapes and invariants of the SRN forward pass, for the compact backbone and ResNet-101."""

from __future__ import annotations

import pytest
import torch

from srn_core import SRN
from srn_core.backbones import PretrainedWeightsError

from .helpers import TINY, tiny_model

CONFIGS = {
    "compact-224": dict(backbone="compact", input_size=224),
    "resnet101-224": dict(backbone="resnet101", input_size=224),
    "tiny-64": dict(backbone="compact", widths=(8, 16, 32, 64), input_size=64, att_channels=16, sr_channels=16),
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def model_and_output(request):
    torch.manual_seed(0)
    model = SRN(7, **CONFIGS[request.param]).eval()
    size = model.config.input_size
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size))
    return model, out


def test_output_shapes(model_and_output):
    model, out = model_and_output
    g = model.config.grid
    for name in ("logits", "cls_logits", "sr_logits", "att_logits"):
        assert getattr(out, name).shape == (2, 7), name
    for name in ("attention", "confidence_logits", "weighted_attention"):
        assert getattr(out, name).shape == (2, 7, g, g), name


def test_attention_maps_are_distributions(model_and_output):
    _, out = model_and_output
    assert torch.all(out.attention >= 0)
    torch.testing.assert_close(out.attention.sum(dim=(2, 3)), torch.ones(2, 7))


def test_weighted_attention_is_sigmoid_confidence_times_attention(model_and_output):
    _, out = model_and_output
    torch.testing.assert_close(out.weighted_attention, torch.sigmoid(out.confidence_logits) * out.attention)


def test_att_logits_are_attention_weighted_confidence(model_and_output):
    _, out = model_and_output
    torch.testing.assert_close(out.att_logits, (out.attention * out.confidence_logits).sum(dim=(2, 3)))


def test_fusion_is_alpha_weighted(model_and_output):
    model, out = model_and_output
    a = model.config.alpha
    torch.testing.assert_close(out.logits, a * out.cls_logits + (1 - a) * out.sr_logits)


def test_sr_logits_come_from_weighted_attention(model_and_output):
    model, out = model_and_output
    with torch.no_grad():
        torch.testing.assert_close(model.f_sr(out.weighted_attention), out.sr_logits)


def test_f_sr_methods_composed_equal_its_forward(model_and_output):
    model, out = model_and_output
    sr, u = model.f_sr, out.weighted_attention
    with torch.no_grad():
        h = sr.channel_maps(u)
        z = sr.filter_preactivations(h)
        torch.testing.assert_close(sr.readout(z), sr(u), rtol=0, atol=1e-6)
        torch.testing.assert_close(sr.readout(z), out.sr_logits, rtol=0, atol=1e-6)
        torch.testing.assert_close(sr.cell_terms(h).sum(dim=2) + sr.conv4.bias, z, rtol=0, atol=1e-6)
        conv2 = torch.einsum("kc,bcyx->bkyx", sr.conv2.weight.flatten(1), u) + sr.conv2.bias[:, None, None]
        conv3 = torch.einsum("jk,bkyx->bjyx", sr.conv3.weight.flatten(1), conv2.relu()) + sr.conv3.bias[:, None, None]
        torch.testing.assert_close(h, conv3.relu(), rtol=0, atol=1e-6)
    assert h.shape == (2, sr.conv3.out_channels, model.config.grid, model.config.grid)
    assert z.shape == (2, sr.conv4.out_channels) and sr.filters_per_channel == model.config.filters_per_channel


@pytest.mark.parametrize("alpha", [0.0, 0.25, 1.0])
def test_alpha_is_used(alpha):
    model = tiny_model(alpha=alpha)
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    torch.testing.assert_close(out.logits, alpha * out.cls_logits + (1 - alpha) * out.sr_logits)


def test_each_conv4_filter_sees_exactly_one_channel(model_and_output):
    model, _ = model_and_output
    conv4 = model.f_sr.conv4
    channels = conv4.in_channels
    per = conv4.out_channels // channels
    assert conv4.weight.shape == (channels * per, 1, model.config.grid, model.config.grid)
    g = model.config.grid
    torch.manual_seed(1)
    x = torch.randn(1, channels, g, g)
    with torch.no_grad():
        base = conv4(x).flatten()
        for channel in (0, 3, channels - 1):
            changed = x.clone()
            changed[0, channel] += torch.randn(g, g)
            diff = (conv4(changed).flatten() - base).abs() > 1e-6
            expected = torch.zeros_like(diff)
            expected[per * channel : per * channel + per] = True
            assert torch.equal(diff, expected), channel


def test_paper_layer_shapes_for_resnet101():
    model = SRN(80, backbone="resnet101")
    assert model.f_att.conv1.weight.shape == (512, 1024, 1, 1)
    assert model.f_att.conv2.weight.shape == (512, 512, 3, 3)
    assert model.f_att.conv3.weight.shape == (80, 512, 1, 1)
    assert model.conv1.weight.shape == (80, 1024, 1, 1)
    assert model.f_sr.conv2.weight.shape == (512, 80, 1, 1)
    assert model.f_sr.conv3.weight.shape == (512, 512, 1, 1)
    assert model.f_sr.conv4.weight.shape == (2048, 1, 14, 14)
    assert model.f_sr.conv4.groups == 512
    assert model.f_sr.fc.weight.shape == (80, 2048)
    assert model.f_cls.fc.weight.shape == (80, 2048)


@pytest.mark.parametrize("labels,grid,channels,per", [(80, 14, 512, 4), (5, 4, 16, 4), (12, 14, 512, 4)])
def test_f_sr_parameter_count_matches_layer_formula(labels, grid, channels, per):
    model = SRN(labels, backbone="compact", input_size=grid * 16, sr_channels=channels, filters_per_channel=per)
    filters = channels * per
    formula = (
        (labels * channels + channels)
        + (channels * channels + channels)
        + (filters * grid * grid + filters)
        + (filters * labels + labels)
    )
    assert sum(p.numel() for p in model.f_sr.parameters()) == formula


@pytest.mark.parametrize("shape", [(1, 3, 63, 64), (1, 3, 96, 96), (1, 1, 64, 64), (3, 64, 64)])
def test_wrong_input_size_names_the_expected_size(shape):
    model = tiny_model()
    with pytest.raises(ValueError, match=r"\(B, 3, 64, 64\).*4x4"):
        model(torch.randn(*shape))


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="multiple of 16"):
        SRN(3, backbone="compact", input_size=100)
    with pytest.raises(ValueError, match="unknown backbone"):
        SRN(3, backbone="vgg16")
    with pytest.raises(ValueError, match="alpha"):
        SRN(3, backbone="compact", alpha=1.5)


def test_reflect_padding_hides_the_border_and_survives_a_checkpoint(tmp_path):
    """With reflect padding a uniform image gives the same features at every cell: nothing tells the
    border apart. With zero padding the border cells differ."""
    from srn_core.checkpoint import load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    flat = torch.full((1, 3, 64, 64), 0.7)
    spread = {}
    for mode in ("zeros", "reflect"):
        model = SRN(3, padding_mode=mode, **TINY).eval()
        with torch.no_grad():
            features = model.f_cnn(flat)
        spread[mode] = float((features - features.mean(dim=(2, 3), keepdim=True)).abs().max())
    assert spread["reflect"] < 1e-5 < spread["zeros"]
    path = save_checkpoint(tmp_path / "m.safetensors", model, ["a", "b", "c"], {})
    loaded, meta = load_checkpoint(path)
    assert meta.config.padding_mode == "reflect"
    convs = [m for m in loaded.modules() if isinstance(m, torch.nn.Conv2d) and any(m.padding)]
    assert convs and all(m.padding_mode == "reflect" for m in convs)
    with torch.no_grad():
        torch.testing.assert_close(loaded(flat).logits, model(flat).logits)
    with pytest.raises(ValueError, match="padding_mode"):
        SRN(3, padding_mode="circular", **TINY)


def test_missing_imagenet_weights_say_what_to_provide(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(PretrainedWeightsError, match=r"resnet18-f37072fd\.pth.*--pretrained"):
        SRN(3, backbone="resnet18", pretrained=True)
    with pytest.raises(PretrainedWeightsError, match="does not exist"):
        SRN(3, backbone="resnet18", pretrained=tmp_path / "nope.pth")


def test_imagenet_weights_come_from_a_local_file(tmp_path):
    from torchvision.models import resnet18

    torch.manual_seed(3)
    reference = resnet18()
    path = tmp_path / "r18.pth"
    torch.save(reference.state_dict(), path)
    model = SRN(3, backbone="resnet18", pretrained=path)
    torch.testing.assert_close(model.f_cnn[0].weight, reference.conv1.weight)
    torch.testing.assert_close(model.f_cls.layer4[0].conv1.weight, reference.layer4[0].conv1.weight)
