"""Multi-label datasets: the in-memory form, the readers of each format, and the manifest writer."""

from .base import NEGATIVE, POSITIVE, UNKNOWN, Box, DatasetError, MultiLabelDataset, Sample
from .coco import read_coco
from .loading import FORMATS, detect_format, load_dataset
from .manifest import read_manifest, write_manifest
from .srn_split import read_srn_split
from .voc import VOC_CLASSES, read_voc

__all__ = [
    "FORMATS",
    "NEGATIVE",
    "POSITIVE",
    "UNKNOWN",
    "VOC_CLASSES",
    "Box",
    "DatasetError",
    "MultiLabelDataset",
    "Sample",
    "detect_format",
    "load_dataset",
    "read_coco",
    "read_manifest",
    "read_srn_split",
    "read_voc",
    "write_manifest",
]
