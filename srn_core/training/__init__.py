"""Training an SRN in the four stages of SRN_SPEC.md, on a CPU, a GPU or several (torchrun + DDP)."""

from .config import DataSpec, TrainConfig
from .loop import StepInfo, Trainer, TrainingDiverged, train
from .run_folder import RunFolder, RunFolderError
from .stages import STAGES, Stage, StageModule, freeze_for_stage, masked_bce, set_train_modes, stage_loss
from .state import StateError, load_state, save_state

__all__ = [
    "STAGES",
    "DataSpec",
    "RunFolder",
    "RunFolderError",
    "Stage",
    "StageModule",
    "StateError",
    "StepInfo",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "freeze_for_stage",
    "load_state",
    "masked_bce",
    "save_state",
    "set_train_modes",
    "stage_loss",
    "train",
]
