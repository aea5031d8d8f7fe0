"""Read a Caffe net: the .prototxt (text format) and the .caffemodel (binary), V1 `layers` or V2 `layer`.

Nothing in the files is executed: both are parsed as protobuf messages of the types in `proto`,
V1 layers are rewritten as V2 layers, TRAIN-only layers are dropped as Caffe's TEST phase does, and
the trained blobs are attached to the prototxt's layers by layer name (as Caffe copies weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from google.protobuf import text_format
from google.protobuf.message import DecodeError

from .errors import CaffeImportError
from .proto import LayerParameter, NetParameter, V1LayerParameter

MAX_PROTOTXT_BYTES = 64 * 1024 * 1024
MAX_CAFFEMODEL_BYTES = 4 * 1024 * 1024 * 1024
TEST_PHASE = 1

_V1_NAMES = {
    "ABSVAL": "AbsVal",
    "ACCURACY": "Accuracy",
    "ARGMAX": "ArgMax",
    "BNLL": "BNLL",
    "CONCAT": "Concat",
    "CONTRASTIVE_LOSS": "ContrastiveLoss",
    "CONVOLUTION": "Convolution",
    "DATA": "Data",
    "DECONVOLUTION": "Deconvolution",
    "DROPOUT": "Dropout",
    "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss",
    "ELTWISE": "Eltwise",
    "EXP": "Exp",
    "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data",
    "HDF5_OUTPUT": "HDF5Output",
    "HINGE_LOSS": "HingeLoss",
    "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData",
    "INFOGAIN_LOSS": "InfogainLoss",
    "INNER_PRODUCT": "InnerProduct",
    "LRN": "LRN",
    "MEMORY_DATA": "MemoryData",
    "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN",
    "POOLING": "Pooling",
    "POWER": "Power",
    "RELU": "ReLU",
    "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss",
    "SILENCE": "Silence",
    "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "SPLIT": "Split",
    "SLICE": "Slice",
    "TANH": "TanH",
    "WINDOW_DATA": "WindowData",
    "THRESHOLD": "Threshold",
}
_V1_SHARED_FIELDS = ("name", "bottom", "top", "include", "exclude", "blobs", "loss_weight")
_NET_FIELDS = {field.number for field in NetParameter.DESCRIPTOR.fields}
_FOREIGN_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (a PyTorch .pth file?)",
    b"\x80": "a Python pickle",
    b"\x89HDF": "an HDF5 file",
    b"\x1f\x8b": "a gzip archive",
    b"\x93NUMPY": "a NumPy .npy file",
}


@dataclass
class Layer:
    """One layer in V2 form with its trained blobs (float32 arrays) once a caffemodel is attached."""

    param: object
    blobs: list[np.ndarray] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.param.name

    @property
    def type(self) -> str:
        return self.param.type

    @property
    def bottoms(self) -> list[str]:
        return list(self.param.bottom)

    @property
    def tops(self) -> list[str]:
        return list(self.param.top)

    def describe(self) -> str:
        return f"layer {self.name!r} ({self.type})"


@dataclass
class CaffeNet:
    """A net ready to run: declared inputs with their shapes, then the TEST-phase layers in order."""

    name: str
    inputs: dict[str, tuple[int, ...]]
    layers: list[Layer]
    source: str = ""
    weights_source: str = ""


def _read_bytes(path: Path, limit: int, what: str) -> bytes:
    if not path.is_file():
        raise CaffeImportError(f"{path}: {what} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise CaffeImportError(f"{path}: {what} is empty")
    if size > limit:
        raise CaffeImportError(f"{path}: {what} is {size} bytes, more than the {limit} this reader accepts")
    return path.read_bytes()


def _v1_to_v2(v1) -> object:
    layer = LayerParameter()
    for name in _V1_SHARED_FIELDS:
        value = getattr(v1, name)
        if isinstance(value, str):
            setattr(layer, name, value)
        else:
            getattr(layer, name).extend(value)
    type_name = V1LayerParameter.LayerType.Name(v1.type) if v1.type else "NONE"
    layer.type = _V1_NAMES.get(type_name, type_name)
    for descriptor, value in v1.ListFields():
        if descriptor.name.endswith("_param") and descriptor.name in LayerParameter.DESCRIPTOR.fields_by_name:
            getattr(layer, descriptor.name).CopyFrom(value)
    return layer


def net_layers(net, source: str = "net") -> list:
    """The layers of a NetParameter as V2 LayerParameters (V1 `layers` are converted)."""
    if len(net.layer) and len(net.layers):
        raise CaffeImportError(f"{source}: the net mixes V1 `layers` and V2 `layer` entries")
    return list(net.layer) if len(net.layer) else [_v1_to_v2(v1) for v1 in net.layers]


def _rule_matches(rule, level: int = 0) -> bool:
    if rule.HasField("phase") and rule.phase != TEST_PHASE:
        return False
    if rule.HasField("min_level") and level < rule.min_level:
        return False
    if rule.HasField("max_level") and level > rule.max_level:
        return False
    return not len(rule.stage)


def in_test_phase(layer) -> bool:
    """Caffe's state filter for phase TEST, level 0, no stages."""
    if len(layer.include):
        return any(_rule_matches(rule) for rule in layer.include)
    return not any(_rule_matches(rule) for rule in layer.exclude)


def _declared_inputs(net, source: str) -> dict[str, tuple[int, ...]]:
    names = list(net.input)
    if len(net.input_dim) and len(net.input_shape):
        raise CaffeImportError(f"{source}: gives both input_dim and input_shape")
    if len(net.input_dim):
        if len(net.input_dim) != 4 * len(names):
            raise CaffeImportError(
                f"{source}: {len(names)} inputs need {4 * len(names)} input_dim values, found {len(net.input_dim)}"
            )
        return {name: tuple(net.input_dim[4 * i : 4 * i + 4]) for i, name in enumerate(names)}
    if len(net.input_shape) != len(names):
        raise CaffeImportError(f"{source}: {len(names)} inputs but {len(net.input_shape)} input_shape entries")
    return {name: tuple(int(d) for d in shape.dim) for name, shape in zip(names, net.input_shape)}


def read_prototxt(path: str | Path) -> CaffeNet:
    """Parse a .prototxt into a CaffeNet (TEST phase, no weights yet)."""
    path = Path(path)
    raw = _read_bytes(path, MAX_PROTOTXT_BYTES, "prototxt")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text or "\x00" in text:
        raise CaffeImportError(f"{path}: not a text prototxt (binary content; a .caffemodel goes to --caffemodel)")
    net = NetParameter()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as exc:
        raise CaffeImportError(f"{path}: not a valid Caffe prototxt: {exc}") from None
    layers = [Layer(param) for param in net_layers(net, str(path)) if in_test_phase(param)]
    if not layers:
        raise CaffeImportError(f"{path}: the prototxt defines no layers for the TEST phase")
    return CaffeNet(net.name, _declared_inputs(net, str(path)), layers, str(path))


def _check_binary_start(path: Path, raw: bytes) -> None:
    for magic, what in _FOREIGN_MAGIC.items():
        if raw.startswith(magic):
            raise CaffeImportError(f"{path}: not a caffemodel: the file is {what}")
    head = raw[:512]
    if all(byte in b"\t\n\r" or 32 <= byte < 127 for byte in head):
        raise CaffeImportError(f"{path}: not a caffemodel: it is text (a prototxt?); the binary .caffemodel is needed")
    tag, shift = 0, 0
    for byte in raw[:5]:
        tag |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    if tag & 0x07 not in (0, 2) or tag >> 3 not in _NET_FIELDS:
        raise CaffeImportError(
            f"{path}: not a caffemodel: it does not start like a Caffe NetParameter (first bytes {raw[:4].hex()})"
        )


def read_caffemodel(path: str | Path) -> NetParameter:
    """Parse a binary .caffemodel (refusing text, foreign formats and truncated or corrupt data)."""
    path = Path(path)
    raw = _read_bytes(path, MAX_CAFFEMODEL_BYTES, "caffemodel")
    _check_binary_start(path, raw)
    net = NetParameter()
    try:
        net.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise CaffeImportError(f"{path}: not a valid caffemodel (truncated or corrupt protobuf data: {exc})") from None
    if not len(net.layer) and not len(net.layers):
        raise CaffeImportError(f"{path}: not a valid caffemodel (it holds no layers)")
    return net


def blob_array(blob, where: str) -> np.ndarray:
    """A BlobProto as a float32 array of its declared shape (new `shape` or legacy num/channels/h/w)."""
    if blob.HasField("shape"):
        shape = tuple(int(d) for d in blob.shape.dim)
    else:
        shape = (blob.num, blob.channels, blob.height, blob.width)
    if any(d < 0 for d in shape):
        raise CaffeImportError(f"{where}: negative dimension in shape {shape}")
    expected = int(np.prod(shape, dtype=np.int64))
    if len(blob.data) != expected:
        raise CaffeImportError(
            f"{where}: holds {len(blob.data)} values but its shape {shape} needs {expected} "
            f"(truncated or corrupt caffemodel)"
        )
    return np.asarray(blob.data, dtype=np.float32).reshape(shape)


def attach_weights(net: CaffeNet, weights, source: str) -> CaffeNet:
    """Give each prototxt layer the blobs of the caffemodel layer of the same name (as Caffe does)."""
    trained = {}
    for layer in net_layers(weights, source):
        if len(layer.blobs):
            trained[layer.name] = [
                blob_array(blob, f"{source}: layer {layer.name!r} blob {i}") for i, blob in enumerate(layer.blobs)
            ]
    for layer in net.layers:
        layer.blobs = trained.get(layer.name, [])
    net.weights_source = source
    return net


def read_net(prototxt: str | Path, caffemodel: str | Path | None = None) -> CaffeNet:
    """Read a prototxt and, if given, attach the trained blobs of a caffemodel."""
    net = read_prototxt(prototxt)
    if caffemodel is not None:
        attach_weights(net, read_caffemodel(caffemodel), str(caffemodel))
    return net
