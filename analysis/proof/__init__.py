"""Proof: check on relation scenes, whose relations are planted and known, that the measures find them.

`scene_proof` measures heads, pointing, offsets, controls and co-occurrence rankings; `relation_proof`
the spatial relations (AP per family, relation probes, position filters); `model_card` and
`card_relations` write the model card; `cli` and `probe_cli` are the `scene-proof` and `probe` subcommands.
"""

from .model_card import render_model_card
from .relation_proof import relation_proof
from .scene_inputs import analyse_scenes
from .scene_proof import SceneProof, Tolerances, run_scene_proof

__all__ = ["SceneProof", "Tolerances", "analyse_scenes", "relation_proof", "render_model_card", "run_scene_proof"]
