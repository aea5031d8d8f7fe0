"""Find SRN's parts in a Caffe graph by structure and shapes, never by layer names.

The walk starts at the image input: the stem (7x7/2 conv, norm, ReLU, 3x3/2 max-pool), then
bottleneck blocks (an Eltwise SUM of a three-conv branch and an identity or projection shortcut)
until no block follows. The blob at stride 16 feeding the heads is X (res4); f_att is the
conv-ReLU-conv-ReLU-conv chain reading X, the confidence conv the other 1x1 conv reading X, conv4
the grouped convolution whose kernel spans the whole grid, and the fusion the Eltwise SUM of the
two C-way InnerProducts. Anything else is a MappingError that says what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import MappingError
from .executor import Graph, Node
from .layers import hw_pair

TRANSPARENT = ("Split", "Dropout")
NORM_TYPES = ("BN", "BatchNorm", "Scale")


@dataclass
class ConvUnit:
    """A convolution with the per-channel normalisation layers after it and whether a ReLU follows."""

    conv: Node
    norms: list[Node] = field(default_factory=list)
    relu: bool = False
    out: int = -1


@dataclass
class Block:
    """One bottleneck: branch2a/b/c and an optional projection shortcut (branch1)."""

    units: list[ConvUnit]
    shortcut: ConvUnit | None
    out: int


@dataclass
class SRNStructure:
    """The parts of a Caffe SRN, as graph nodes and value ids."""

    image: int
    stem: ConvUnit
    stages: list[list[Block]]
    features: int
    att: list[ConvUnit]
    confidence: ConvUnit
    sr: list[ConvUnit]
    fc_cls: Node
    fc_sr: Node
    fusion: Node
    attention: int
    weighted_attention: int


class GraphView:
    """Data-flow queries on a Graph that look through Split and Dropout layers."""

    def __init__(self, graph: Graph, shapes: dict[int, tuple[int, ...]]) -> None:
        self.graph, self.shapes = graph, shapes

    def source(self, value: int) -> int:
        node = self.graph.producer.get(value)
        while node is not None and node.layer.type in TRANSPARENT:
            value = node.inputs[0]
            node = self.graph.producer.get(value)
        return value

    def users(self, value: int) -> list[Node]:
        found = []
        for node in self.graph.consumers.get(value, []):
            if node.layer.type in TRANSPARENT:
                for out in node.outputs:
                    found.extend(self.users(out))
            else:
                found.append(node)
        return found

    def only_user(self, value: int) -> Node | None:
        users = self.users(value)
        return users[0] if len(users) == 1 else None

    def channels(self, value: int) -> int:
        return self.shapes[value][1]

    def spatial(self, value: int) -> tuple[int, ...]:
        return self.shapes[value][2:]

    def unit(self, conv: Node) -> ConvUnit:
        """Follow `conv` through BN / BatchNorm / Scale layers and an optional ReLU."""
        unit = ConvUnit(conv, out=conv.outputs[0])
        nxt = self.only_user(unit.out)
        while nxt is not None and nxt.layer.type in NORM_TYPES and len(nxt.inputs) == 1:
            unit.norms.append(nxt)
            unit.out = nxt.outputs[0]
            nxt = self.only_user(unit.out)
        if nxt is not None and nxt.layer.type == "ReLU" and not nxt.layer.param.relu_param.negative_slope:
            unit.relu, unit.out = True, nxt.outputs[0]
        return unit


def conv_geometry(node: Node) -> dict[str, int]:
    """kernel, stride, pad, group, dilation of a Convolution (square only; else a MappingError)."""
    p = node.layer.param.convolution_param
    values = {
        "kernel": hw_pair(p, "kernel_size", "kernel_h", "kernel_w", 0),
        "stride": hw_pair(p, "stride", "stride_h", "stride_w", 1),
        "pad": hw_pair(p, "pad", "pad_h", "pad_w", 0),
        "dilation": (int(p.dilation[0]), int(p.dilation[-1])) if len(p.dilation) else (1, 1),
    }
    for key, (h, w) in values.items():
        if h != w:
            raise MappingError(f"{node.layer.describe()}: non-square {key} ({h}, {w}); SRN's convolutions are square")
    return {**{key: hw[0] for key, hw in values.items()}, "group": int(p.group), "out": int(p.num_output)}


def _expect(node: Node, what: str, **wanted: int) -> None:
    geometry = conv_geometry(node)
    wrong = {k: (geometry[k], v) for k, v in wanted.items() if geometry[k] != v}
    if wrong:
        found = ", ".join(f"{k} {have} (expected {want})" for k, (have, want) in wrong.items())
        raise MappingError(f"{node.layer.describe()}, {what}: {found}")


class SRNFinder:
    """Walks a graph (with value shapes) and returns its SRNStructure or raises a MappingError."""

    def __init__(self, graph: Graph, shapes: dict[int, tuple[int, ...]], image: int) -> None:
        self.view = GraphView(graph, shapes)
        self.image = image

    def _convs(self, value: int) -> list[Node]:
        return [n for n in self.view.users(value) if n.layer.type == "Convolution"]

    def _stem(self) -> tuple[ConvUnit, int]:
        convs = self._convs(self.image)
        if len(convs) != 1:
            raise MappingError(f"the image input feeds {len(convs)} convolutions; a ResNet stem has exactly one")
        stem = self.view.unit(convs[0])
        _expect(stem.conv, "ResNet stem", kernel=7, stride=2, pad=3, group=1, dilation=1)
        pool = self.view.only_user(stem.out)
        if pool is None or pool.layer.type != "Pooling" or not stem.relu:
            raise MappingError("the stem conv is not followed by a ReLU and a single pooling layer")
        p = pool.layer.param.pooling_param
        if p.pool != 0 or p.global_pooling or p.kernel_size != 3 or p.stride != 2 or p.pad or p.HasField("pad_h"):
            raise MappingError(
                f"{pool.layer.describe()}: the Caffe-style ResNet stem needs a 3x3 max-pool with "
                f"stride 2 and no padding"
            )
        return stem, pool.outputs[0]

    def _block(self, value: int) -> Block | None:
        """The bottleneck starting at `value`, or None if the backbone ends there."""
        sums: dict[int, list[tuple[int, list[ConvUnit]]]] = {}
        for conv in self._convs(value):
            chain = [self.view.unit(conv)]
            while len(chain) < 3 and chain[-1].relu:
                nxt = self.view.only_user(chain[-1].out)
                if nxt is None or nxt.layer.type != "Convolution":
                    break
                chain.append(self.view.unit(nxt))
            end = self.view.only_user(chain[-1].out)
            if end is not None and end.layer.type == "Eltwise" and end.layer.param.eltwise_param.operation == 1:
                sums.setdefault(end.index, []).append((chain[-1].out, chain))
        if not sums:
            return None
        if len(sums) > 1:
            raise MappingError(f"blob {self.view.graph.value_names[value]!r} starts {len(sums)} residual blocks")
        node = next(n for n in self.view.graph.nodes if n.index in sums)
        branches = sums[node.index]
        residual = [chain for _, chain in branches if len(chain) == 3]
        shortcut = [chain for _, chain in branches if len(chain) == 1]
        inputs = [self.view.source(v) for v in node.inputs]
        coeffs = list(node.layer.param.eltwise_param.coeff)
        if len(residual) != 1 or len(inputs) != 2 or any(c != 1 for c in coeffs):
            raise MappingError(f"{node.layer.describe()}: not a bottleneck sum of a three-conv branch and a shortcut")
        if not shortcut and value not in inputs:
            raise MappingError(f"{node.layer.describe()}: the shortcut is neither the block input nor one convolution")
        relu = self.view.only_user(node.outputs[0])
        if relu is None or relu.layer.type != "ReLU":
            raise MappingError(f"{node.layer.describe()}: the residual sum is not followed by a ReLU")
        return Block(residual[0], shortcut[0][0] if shortcut else None, relu.outputs[0])

    def _check_block(self, block: Block, in_ch: int) -> tuple[int, int]:
        a, b, c = block.units
        stride = conv_geometry(a.conv)["stride"]
        width = conv_geometry(a.conv)["out"]
        _expect(a.conv, "bottleneck branch2a", kernel=1, pad=0, group=1, dilation=1)
        _expect(
            b.conv,
            "bottleneck branch2b (a torchvision-style stride here is not Caffe-style)",
            kernel=3,
            stride=1,
            pad=1,
            group=1,
            dilation=1,
            out=width,
        )
        _expect(c.conv, "bottleneck branch2c", kernel=1, stride=1, pad=0, group=1, dilation=1, out=4 * width)
        if c.relu or not (a.relu and b.relu):
            raise MappingError(f"{c.conv.layer.describe()}: ReLUs are not where a bottleneck has them")
        if block.shortcut is not None:
            _expect(block.shortcut.conv, "projection shortcut", kernel=1, stride=stride, pad=0, group=1, out=4 * width)
        elif stride != 1 or in_ch != 4 * width:
            raise MappingError(f"{a.conv.layer.describe()}: a block that changes shape needs a projection shortcut")
        return stride, width

    def _backbone(self, value: int, stem_ch: int) -> list[list[Block]]:
        stages: list[list[Block]] = []
        in_ch = stem_ch
        while (block := self._block(value)) is not None:
            stride, width = self._check_block(block, in_ch)
            if block.shortcut is not None:
                expected = 1 if not stages else 2
                if stride != expected:
                    raise MappingError(
                        f"{block.units[0].conv.layer.describe()}: stage {len(stages) + 1} starts with "
                        f"stride {stride}, a ResNet uses {expected}"
                    )
                stages.append([])
            elif not stages:
                raise MappingError("the first residual block has no projection shortcut")
            stages[-1].append(block)
            value, in_ch = block.out, 4 * width
        if len(stages) != 4:
            raise MappingError(
                f"the backbone has {len(stages)} stages of bottleneck blocks; the SRN mapping needs a four-stage ResNet"
            )
        return stages

    def _att_chain(self, features: int, used: set[int]) -> tuple[list[ConvUnit], ConvUnit]:
        heads = [self.view.unit(n) for n in self._convs(features) if n.index not in used]
        att = [u for u in heads if u.relu]
        conf = [u for u in heads if not u.relu]
        if len(att) != 1 or len(conf) != 1:
            raise MappingError(
                f"X (res4) feeds {len(att)} conv+ReLU heads and {len(conf)} plain conv heads; SRN has "
                f"one of each (f_att and the confidence conv)"
            )
        chain = att
        while len(chain) < 3:
            nxt = self.view.only_user(chain[-1].out)
            if nxt is None or nxt.layer.type != "Convolution":
                raise MappingError(f"{chain[-1].conv.layer.describe()}: f_att does not continue with a convolution")
            chain.append(self.view.unit(nxt))
        for unit in (*chain, conf[0]):
            if unit.norms:
                raise MappingError(f"{unit.conv.layer.describe()}: followed by normalisation, which SRN's heads lack")
        if chain[2].relu:
            raise MappingError(f"{chain[2].conv.layer.describe()}: f_att's last conv must not have a ReLU")
        return chain, conf[0]

    def _attention(self, z: int, num_labels: int, grid: int) -> int:
        value, seen_softmax = z, False
        while True:
            node = self.view.only_user(value)
            if node is None or node.layer.type not in ("Reshape", "Flatten", "Softmax"):
                break
            seen_softmax |= node.layer.type == "Softmax"
            value = node.outputs[0]
            if seen_softmax and self.view.shapes[value][1:] == (num_labels, grid, grid):
                return value
        raise MappingError("f_att's output Z does not reach a (C, g, g) attention map through Reshape/Softmax layers")

    def _fc_after(self, value: int, what: str) -> Node:
        node = self.view.only_user(value)
        while node is not None and node.layer.type in ("Flatten", "Reshape"):
            node = self.view.only_user(node.outputs[0])
        if node is None or node.layer.type != "InnerProduct":
            raise MappingError(f"{what} is not followed by an InnerProduct classifier")
        return node

    def find(self) -> SRNStructure:
        stem, pooled = self._stem()
        stages = self._backbone(pooled, conv_geometry(stem.conv)["out"])
        features = stages[2][-1].out
        used = {u.conv.index for u in stages[3][0].units}
        if stages[3][0].shortcut is not None:
            used.add(stages[3][0].shortcut.conv.index)
        att, conf = self._att_chain(features, used)
        num_labels, grid = self.view.channels(att[2].out), self.view.spatial(features)[0]
        if self.view.channels(conf.out) != num_labels:
            raise MappingError(f"confidence conv has {self.view.channels(conf.out)} channels, f_att {num_labels}")
        attention = self._attention(att[2].out, num_labels, grid)
        conv4s = [
            n
            for n in self.view.graph.nodes
            if n.layer.type == "Convolution" and conv_geometry(n)["group"] > 1 and conv_geometry(n)["kernel"] == grid
        ]
        if len(conv4s) != 1:
            raise MappingError(f"found {len(conv4s)} grouped {grid}x{grid} convolutions; f_sr has exactly one (conv4)")
        sr = [self.view.unit(conv4s[0])]
        for _ in range(2):
            relu = self.view.graph.producer.get(self.view.source(sr[0].conv.inputs[0]))
            conv = (
                self.view.graph.producer.get(relu.inputs[0]) if relu is not None and relu.layer.type == "ReLU" else None
            )
            if conv is None or conv.layer.type != "Convolution":
                raise MappingError(f"{sr[0].conv.layer.describe()}: not preceded by conv + ReLU as f_sr's conv2/conv3")
            sr.insert(0, self.view.unit(conv))
        for unit in sr:
            if unit.norms or not unit.relu:
                raise MappingError(f"{unit.conv.layer.describe()}: f_sr convs are conv + ReLU without normalisation")
        head = self.view.only_user(stages[3][-1].out)
        if head is None or head.layer.type != "Pooling" or head.layer.param.pooling_param.pool != 1:
            raise MappingError("the last ResNet stage is not followed by one average pooling (f_cls)")
        if self.view.spatial(head.outputs[0]) != (1, 1):
            raise MappingError(f"{head.layer.describe()}: f_cls pooling must be global")
        fc_cls, fc_sr = self._fc_after(head.outputs[0], "f_cls pooling"), self._fc_after(sr[2].out, "conv4")
        fusion = [
            n
            for n in self.view.users(fc_cls.outputs[0])
            if n.layer.type == "Eltwise"
            and {self.view.source(v) for v in n.inputs} == {fc_cls.outputs[0], fc_sr.outputs[0]}
        ]
        if len(fusion) != 1 or fusion[0].layer.param.eltwise_param.operation != 1:
            raise MappingError("no Eltwise SUM fuses the main-net classifier with the f_sr classifier")
        return SRNStructure(
            self.image,
            stem,
            stages,
            features,
            att,
            conf,
            sr,
            fc_cls,
            fc_sr,
            fusion[0],
            attention,
            self.view.source(sr[0].conv.inputs[0]),
        )
