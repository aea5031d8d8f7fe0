"""Import the authors' released Caffe SRN models without Caffe.

`reader` parses .prototxt / .caffemodel with our own message definitions (`proto`), `executor` runs
any net of the supported layer types (`layers`) in PyTorch, `structure` + `mapping` turn an SRN-shaped
graph into our `SRN`, `labels` names the released models' labels and `cli` is `import-caffe`.
"""

from .errors import CaffeImportError, MappingError, UnsupportedLayerError
from .executor import SUPPORTED_TYPES, CaffeExecutor
from .mapping import Conversion, convert
from .reader import CaffeNet, read_net

__all__ = [
    "CaffeImportError",
    "MappingError",
    "UnsupportedLayerError",
    "SUPPORTED_TYPES",
    "CaffeExecutor",
    "Conversion",
    "convert",
    "CaffeNet",
    "read_net",
]
