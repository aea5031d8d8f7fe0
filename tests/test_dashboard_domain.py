"""The dashboard names the model's domain and labels, and warns when an image is unlike the training data."""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_sample_images
from streamlit.testing.v1 import AppTest

from dashboard import settings, state

APP = Path(settings.REPO) / "dashboard" / "app.py"
PHOTO = Path(load_sample_images().filenames[0])  # scikit-learn's china.jpg, a real photograph
UNLIKE = "looks unlike the training images"


def opened() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_first_page_names_the_domain_and_labels_and_a_photograph_is_flagged() -> None:
    at = opened()
    model = state.load_model(settings.weights_dir() / settings.default_model())
    assert model.meta.domain is not None, "the shipped model must record its training domain"
    [info] = [i.value for i in at.info if "Trained on" in i.value]
    assert model.meta.domain.description.split(",")[0] in info.replace("\\", "")
    assert f"knows {len(model.label_names)} labels" in info
    assert not any(UNLIKE in w for w in warnings(at)), "a held-out sample scene must not be flagged"
    at.file_uploader(key="uploads").set_value([(PHOTO.name, PHOTO.read_bytes(), "image/jpeg")]).run()
    assert not at.exception
    assert at.selectbox(key="image_choice").value == f"upload: {PHOTO.name}"
    assert any(UNLIKE in w for w in warnings(at))
