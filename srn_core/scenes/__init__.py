"""Synthetic scenes with known label relations, to train an SRN and check what its analysis finds.

A relation spec (JSON/YAML, see docs/scenes.md) declares the classes and the planted rules:
co-occurrence, exclusion, spatial layout, spatial context, position labels, arrangement labels and
unrelated controls. The generator renders 224x224 scenes that obey it, with ground-truth labels,
boxes and the rules each image fired.
"""

from .generator import generate_dataset, iter_scenes, render_scene, sample_labels
from .glyphs import GLYPH_NAMES
from .render import contact_sheet
from .spec import (
    DEFAULT_SPEC_PATH,
    Arrangement,
    ClassDef,
    Context,
    Cooccurrence,
    Exclusive,
    Layout,
    RenderParams,
    SceneSpec,
    SpecError,
)
from .spec_reader import default_spec, load_spec, parse_spec

__all__ = [
    "DEFAULT_SPEC_PATH",
    "GLYPH_NAMES",
    "Arrangement",
    "ClassDef",
    "Context",
    "Cooccurrence",
    "Exclusive",
    "Layout",
    "RenderParams",
    "SceneSpec",
    "SpecError",
    "contact_sheet",
    "default_spec",
    "generate_dataset",
    "iter_scenes",
    "load_spec",
    "parse_spec",
    "render_scene",
    "sample_labels",
]
