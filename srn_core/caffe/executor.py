"""Run a Caffe net in PyTorch and return every named blob.

The net is first turned into a graph in which every top is a value of its own (an in-place layer,
top == bottom, makes a new value of the same name), so analysis can follow the data flow exactly.
The graph is checked before anything runs: unknown layer types and bottoms that no input or
earlier layer produces are errors naming the layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import CaffeImportError, UnsupportedLayerError
from .layers import LAYERS
from .reader import CaffeNet, Layer

MAX_BLOB_ELEMENTS = 1 << 30
"""Largest blob a forward may create (4 GB of float32); a hostile prototxt cannot exhaust memory."""
INPUT_LAYERS = ("Input", "Data", "ImageData", "VideoData", "MemoryData", "DummyData", "HDF5Data", "WindowData")
SUPPORTED_TYPES = tuple(sorted((*LAYERS, *INPUT_LAYERS)))


@dataclass
class Node:
    """One layer with the value ids it reads and writes."""

    index: int
    layer: Layer
    inputs: list[int]
    outputs: list[int]


@dataclass
class Graph:
    """A net in single-assignment form: values are numbered, each produced once."""

    net: CaffeNet
    value_names: list[str] = field(default_factory=list)
    inputs: dict[int, tuple[int, ...] | None] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    producer: dict[int, Node] = field(default_factory=dict)
    consumers: dict[int, list[Node]] = field(default_factory=dict)

    def new_value(self, name: str) -> int:
        self.value_names.append(name)
        return len(self.value_names) - 1

    def final_values(self) -> dict[str, int]:
        """Blob name -> the id of its last value (what Caffe's net.blobs[name] holds after a forward)."""
        return {name: index for index, name in enumerate(self.value_names)}


def _input_layer_shapes(layer: Layer) -> list[tuple[int, ...] | None]:
    count = len(layer.tops)
    if layer.type == "Input":
        shapes = [tuple(int(d) for d in s.dim) for s in layer.param.input_param.shape]
        return shapes * count if len(shapes) == 1 else shapes + [None] * (count - len(shapes))
    if layer.type == "MemoryData":
        p = layer.param.memory_data_param
        return [(p.batch_size, p.channels, p.height, p.width)] + [(p.batch_size,)] * (count - 1)
    if layer.type == "DummyData":
        p = layer.param.dummy_data_param
        if len(p.shape):
            return [tuple(int(d) for d in s.dim) for s in p.shape][:count]
        return [(p.num[i], p.channels[i], p.height[i], p.width[i]) for i in range(min(count, len(p.num)))]
    crop = layer.param.transform_param.crop_size
    return [(1, 3, crop, crop) if crop else None] + [None] * (count - 1)


def build_graph(net: CaffeNet) -> Graph:
    """The single-assignment graph of `net`; raises on unsupported layers and disconnected bottoms."""
    graph = Graph(net)
    current: dict[str, int] = {}
    for name, shape in net.inputs.items():
        current[name] = graph.new_value(name)
        graph.inputs[current[name]] = shape
    for index, layer in enumerate(net.layers):
        if layer.type not in SUPPORTED_TYPES:
            raise UnsupportedLayerError(
                f"{net.source}: layer {layer.name!r} has type {layer.type!r}, which the importer does not support "
                f"(supported: {', '.join(SUPPORTED_TYPES)})"
            )
        missing = [b for b in layer.bottoms if b not in current]
        if missing:
            raise CaffeImportError(
                f"{net.source}: {layer.describe()} reads blob {missing[0]!r}, which no input or "
                f"earlier layer produces (the tops do not connect)"
            )
        if layer.type not in INPUT_LAYERS and not layer.bottoms and layer.type != "Silence":
            raise CaffeImportError(f"{net.source}: {layer.describe()} has no bottom blob")
        if layer.type not in ("Silence",) and not layer.tops:
            raise CaffeImportError(f"{net.source}: {layer.describe()} has no top blob")
        inputs = [current[b] for b in layer.bottoms]
        outputs = [graph.new_value(top) for top in layer.tops]
        node = Node(index, layer, inputs, outputs)
        if layer.type in INPUT_LAYERS:
            for value, shape in zip(outputs, _input_layer_shapes(layer)):
                graph.inputs[value] = shape
        else:
            for value in outputs:
                graph.producer[value] = node
        for value in inputs:
            graph.consumers.setdefault(value, []).append(node)
        graph.nodes.append(node)
        current.update(zip(layer.tops, outputs))
    if not graph.inputs:
        raise CaffeImportError(f"{net.source}: the net declares no input (no `input:` and no Input or data layer)")
    return graph


class CaffeExecutor:
    """A Caffe net with its weights as tensors; `run` returns every named blob after one forward."""

    def __init__(self, net: CaffeNet, device: str | torch.device = "cpu") -> None:
        self.graph = build_graph(net)
        self.device = torch.device(device)
        self.blobs = [
            [torch.from_numpy(np.ascontiguousarray(b)).to(self.device) for b in node.layer.blobs]
            for node in self.graph.nodes
        ]
        self._checked: set[tuple] = set()

    @property
    def image_input(self) -> int:
        """The value id of the first net input (the image in the SRN deploy files)."""
        return next(iter(self.graph.inputs))

    def input_shape(self, value: int | None = None) -> tuple[int, ...] | None:
        return self.graph.inputs[self.image_input if value is None else value]

    def _feeds(
        self, inputs: torch.Tensor | Mapping[str, torch.Tensor], device: torch.device
    ) -> dict[int, torch.Tensor]:
        given = {self.graph.value_names[self.image_input]: inputs} if isinstance(inputs, torch.Tensor) else dict(inputs)
        feeds = {}
        for value, shape in self.graph.inputs.items():
            name = self.graph.value_names[value]
            if name in given:
                feeds[value] = given[name].to(device)
            elif shape is not None and all(d > 0 for d in shape):
                if math.prod(shape) > MAX_BLOB_ELEMENTS:
                    raise CaffeImportError(
                        f"{self.graph.net.source}: input {name!r} declares shape {shape}, more than "
                        f"{MAX_BLOB_ELEMENTS} values"
                    )
                feeds[value] = torch.zeros(shape, device=device)
            elif self.graph.consumers.get(value):
                raise CaffeImportError(
                    f"{self.graph.net.source}: input {name!r} has no declared shape; pass a tensor for it"
                )
        return feeds

    def run_values(
        self, inputs: torch.Tensor | Mapping[str, torch.Tensor], device: torch.device | None = None
    ) -> dict[int, torch.Tensor]:
        """Every value of the graph (by value id) after one forward pass in TEST mode."""
        device = device or self.device
        values = self._feeds(inputs, device)
        if device.type != "meta":
            self._check_sizes(values)
        with torch.no_grad():
            for node, blobs in zip(self.graph.nodes, self.blobs):
                if node.layer.type in INPUT_LAYERS:
                    continue
                bottoms = [values[v] for v in node.inputs]
                try:
                    tops = LAYERS[node.layer.type](node.layer, bottoms, [b.to(device) for b in blobs])
                except CaffeImportError:
                    raise
                except (RuntimeError, ValueError, IndexError) as exc:
                    shapes = [tuple(b.shape) for b in bottoms]
                    raise CaffeImportError(
                        f"{node.layer.describe()}: cannot run on inputs of shapes {shapes}: {str(exc).splitlines()[0]}"
                    ) from None
                values.update(zip(node.outputs, tops))
        return values

    def _check_sizes(self, feeds: dict[int, torch.Tensor]) -> None:
        """Refuse, before allocating anything, a forward whose blobs would exceed MAX_BLOB_ELEMENTS."""
        key = tuple((v, tuple(t.shape)) for v, t in sorted(feeds.items()))
        if key in self._checked:
            return
        names = self.graph.value_names
        meta = self.run_values(
            {names[v]: torch.empty(t.shape, device="meta") for v, t in feeds.items()}, torch.device("meta")
        )
        for value, tensor in meta.items():
            if tensor.numel() > MAX_BLOB_ELEMENTS:
                raise CaffeImportError(
                    f"{self.graph.net.source}: blob {names[value]!r} would hold {tensor.numel()} "
                    f"values (shape {tuple(tensor.shape)}), more than {MAX_BLOB_ELEMENTS}"
                )
        self._checked.add(key)

    def run(self, inputs: torch.Tensor | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Blob name -> tensor for every named blob (an in-place blob holds its last value, as in Caffe)."""
        values = self.run_values(inputs)
        return {name: values[v] for name, v in self.graph.final_values().items() if v in values}

    def shapes(self, image_shape: tuple[int, ...] | None = None) -> dict[int, tuple[int, ...]]:
        """The shape of every value, computed on PyTorch's meta device (no arithmetic, no memory)."""
        shape = image_shape or self.input_shape()
        if shape is None:
            raise CaffeImportError(f"{self.graph.net.source}: the input's size is not declared; give it explicitly")
        values = self.run_values(torch.empty(shape, device="meta"), torch.device("meta"))
        return {v: tuple(t.shape) for v, t in values.items()}
