"""Can these maps be trusted? Faithfulness and sanity checks of every label's map.

For SRN's attention A, U = sigmoid(S) A, Grad-CAM of the main net and two baselines (centre
Gaussian, random): deletion / insertion, ROAD, model randomisation, random-label similarity and
localisation against boxes, with bootstrap intervals over images. See docs/analysis.md.
"""

from .evaluate import FaithfulnessEvaluator, FaithfulnessOptions, ImageFaithfulness
from .localisation import box_masks, localisation, peak_points, relevance_mass, relevance_rank
from .methods import BASELINES, METHOD_NAMES, METHODS, MODEL_METHODS, centre_map, method_maps, random_map
from .perturbation import FILLS, HEADS, Curves, cell_ranks, fill_image, perturbation_curves, road_scores, srn_scores
from .randomisation import CASCADE, randomised_cascade, reinitialise, stage_modules
from .results import FaithfulnessSummary, evaluate_faithfulness, summarise
from .similarity import spearman, ssim
from .summary import ALL_LABELS, bootstrap_table

__all__ = [
    "ALL_LABELS",
    "BASELINES",
    "CASCADE",
    "FILLS",
    "HEADS",
    "METHODS",
    "METHOD_NAMES",
    "MODEL_METHODS",
    "Curves",
    "FaithfulnessEvaluator",
    "FaithfulnessOptions",
    "FaithfulnessSummary",
    "ImageFaithfulness",
    "bootstrap_table",
    "box_masks",
    "cell_ranks",
    "centre_map",
    "evaluate_faithfulness",
    "fill_image",
    "localisation",
    "method_maps",
    "peak_points",
    "perturbation_curves",
    "random_map",
    "randomised_cascade",
    "reinitialise",
    "relevance_mass",
    "relevance_rank",
    "road_scores",
    "spearman",
    "srn_scores",
    "ssim",
    "stage_modules",
    "summarise",
]
