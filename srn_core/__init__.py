"""srn_core: a faithful PyTorch Spatial Regularization Network, its data, training and checkpoints."""

from .checkpoint import CheckpointError, CheckpointMeta, load_checkpoint, read_metadata, save_checkpoint
from .images import ImageLoadError, load_image
from .model import SRN, SRNConfig, SRNOutput
from .predictor import Prediction, Predictor
from .preprocess import Preprocessor

__all__ = ["SRN", "SRNConfig", "SRNOutput", "CheckpointError", "CheckpointMeta", "ImageLoadError", "Prediction",
           "Predictor", "Preprocessor", "load_checkpoint", "load_image", "read_metadata", "save_checkpoint"]
