"""Label names of the three released SRN models, or read from a file the user passes.

COCO: the 80 categories in ascending category-id order (the order of the instances JSON and of
the usual 80-column label matrices). NUS-WIDE: the 81 concepts of NUS-WIDE's Concepts81.txt.
WIDER-Attribute: the 14 attributes in the order of the dataset's annotation. The official split
files could not be read here, so these orders are the datasets' own; if your label matrix uses
another order, pass a names file (one name a line, in column order).
"""

from __future__ import annotations

from pathlib import Path

from ..datasets.base import DatasetError, check_label_names, text_lines
from .errors import CaffeImportError

COCO = (
    "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant stop_sign "
    "parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe backpack umbrella handbag tie "
    "suitcase frisbee skis snowboard sports_ball kite baseball_bat baseball_glove skateboard surfboard "
    "tennis_racket bottle wine_glass cup fork knife spoon bowl banana apple sandwich orange broccoli carrot "
    "hot_dog pizza donut cake chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard "
    "cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear hair_drier toothbrush"
)
NUS_WIDE = (
    "airport animal beach bear birds boats book bridge buildings cars castle cat cityscape clouds computer coral "
    "cow dancing dog earthquake elk fire fish flags flowers food fox frost garden glacier grass harbor horses "
    "house lake leaf map military moon mountain nighttime ocean person plane plants police protest railroad "
    "rainbow reflection road rocks running sand sign sky snow soccer sports statue street sun sunset surf swimmers "
    "tattoo temple tiger tower town toy train tree valley vehicle water waterfall wedding whales window zebra"
)
WIDER_ATTRIBUTE = (
    "Male longHair sunglass Hat Tshirt longSleeve formal shorts jeans longPants skirt faceMask logo stripe"
)

BUILTIN = {"coco": COCO, "nus_wide": NUS_WIDE, "wider_att": WIDER_ATTRIBUTE}


def builtin_names(name: str) -> list[str]:
    """The label names of a released model ("coco", "nus_wide", "wider_att"); COCO's with spaces."""
    return [label.replace("_", " ") if name == "coco" else label for label in BUILTIN[name].split()]


def resolve_labels(spec: str, num_labels: int) -> list[str]:
    """Label names from a built-in set name or a names file, checked against the model's label count."""
    try:
        if spec in BUILTIN:
            names, source = builtin_names(spec), f"built-in label set {spec!r}"
        else:
            names, source = [text for _, text in text_lines(Path(spec), "labels file")], str(spec)
        names = check_label_names(names, source)
    except DatasetError as exc:
        raise CaffeImportError(str(exc)) from None
    if len(names) != num_labels:
        raise CaffeImportError(f"{source}: gives {len(names)} label names but the model has {num_labels} labels")
    return names
