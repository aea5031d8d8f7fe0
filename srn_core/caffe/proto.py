"""Caffe's message types, built at import time from a table of field numbers (no protoc, no caffe).

The table follows the `caffe.proto` of the Caffe fork that runs the authors' SRN models (an early
yjxiong/caffe, vendored in zhufengx/SRN_multilabel under caffe/): its `BN` layer (`bn_param`, field
137), `Tile` (163), `BatchReduction` (162), its `Scale`/`Bias` numbers (160/161). Three upstream
additions that do not collide with the fork's numbers are included so upstream deploy files read
too: `BatchNorm` (`batch_norm_param`, 139), `Input` (`input_param`, 143) and convolution
`dilation` (18); convolution pad/kernel/stride are repeated, which reads both the fork's single
values and upstream's lists (the wire format is the same).

Each message is written as `name number type [rep|packed] [=default]` entries separated by ";".
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "caffe"
_ENGINE = "DEFAULT CAFFE CUDNN"

ENUMS: dict[str, str] = {
    "Phase": "TRAIN TEST",
    "FillerParameter.VarianceNorm": "FAN_IN FAN_OUT AVERAGE",
    "ParamSpec.DimCheckMode": "STRICT PERMISSIVE",
    "BNParameter.Engine": _ENGINE,
    "ConvolutionParameter.Engine": _ENGINE,
    "DataParameter.DB": "LEVELDB LMDB",
    "EltwiseParameter.EltwiseOp": "PROD SUM MAX",
    "HingeLossParameter.Norm": "L1:1 L2:2",
    "LRNParameter.NormRegion": "ACROSS_CHANNELS WITHIN_CHANNEL",
    "PoolingParameter.PoolMethod": "MAX AVE STOCHASTIC",
    "PoolingParameter.Engine": _ENGINE,
    "ReductionParameter.ReductionOp": "SUM:1 ASUM:2 SUMSQ:3 MEAN:4 TOPK:5",
    "ReLUParameter.Engine": _ENGINE,
    "SigmoidParameter.Engine": _ENGINE,
    "SoftmaxParameter.Engine": _ENGINE,
    "TanHParameter.Engine": _ENGINE,
    "SPPParameter.PoolMethod": "MAX AVE STOCHASTIC",
    "SPPParameter.Engine": _ENGINE,
    "VideoDataParameter.Modality": "RGB FLOW",
    "V1LayerParameter.DimCheckMode": "STRICT PERMISSIVE",
    "V1LayerParameter.LayerType": (
        "NONE:0 ABSVAL:35 ACCURACY:1 ARGMAX:30 BNLL:2 CONCAT:3 CONTRASTIVE_LOSS:37 CONVOLUTION:4 DATA:5 "
        "DECONVOLUTION:39 DROPOUT:6 DUMMY_DATA:32 EUCLIDEAN_LOSS:7 ELTWISE:25 EXP:38 FLATTEN:8 HDF5_DATA:9 "
        "HDF5_OUTPUT:10 HINGE_LOSS:28 IM2COL:11 IMAGE_DATA:12 INFOGAIN_LOSS:13 INNER_PRODUCT:14 LRN:15 "
        "MEMORY_DATA:29 MULTINOMIAL_LOGISTIC_LOSS:16 MVN:34 POOLING:17 POWER:26 RELU:18 SIGMOID:19 "
        "SIGMOID_CROSS_ENTROPY_LOSS:27 SILENCE:36 SOFTMAX:20 SOFTMAX_LOSS:21 SPLIT:22 SLICE:33 TANH:23 "
        "WINDOW_DATA:24 THRESHOLD:31"
    ),
}

_FILLER = (
    "type 1 string =constant; value 2 float; min 3 float; max 4 float =1; mean 5 float; std 6 float =1; "
    "sparse 7 int32 =-1; variance_norm 8 VarianceNorm"
)

MESSAGES: dict[str, str] = {
    "BlobShape": "dim 1 int64 packed",
    "BlobProto": "shape 7 BlobShape; data 5 float packed; diff 6 float packed; num 1 int32; channels 2 int32; "
    "height 3 int32; width 4 int32",
    "BlobProtoVector": "blobs 1 BlobProto rep",
    "FillerParameter": _FILLER,
    "NetParameter": "name 1 string; input 3 string rep; input_shape 8 BlobShape rep; input_dim 4 int32 rep; "
    "force_backward 5 bool; state 6 NetState; debug_info 7 bool; layer 100 LayerParameter rep; "
    "mem_param 200 MemoryOptimizationParameter; layers 2 V1LayerParameter rep",
    "NetState": "phase 1 Phase =TEST; level 2 int32; stage 3 string rep",
    "NetStateRule": "phase 1 Phase; min_level 2 int32; max_level 3 int32; stage 4 string rep; not_stage 5 string rep",
    "ParamSpec": "name 1 string; share_mode 2 DimCheckMode; lr_mult 3 float =1; decay_mult 4 float =1",
    "LayerParameter": (
        "name 1 string; type 2 string; bottom 3 string rep; top 4 string rep; phase 10 Phase; loss_weight 5 float rep; "
        "param 6 ParamSpec rep; blobs 7 BlobProto rep; propagate_down 11 bool rep; include 8 NetStateRule rep; "
        "exclude 9 NetStateRule rep; transform_param 100 TransformationParameter; loss_param 101 LossParameter; "
        "accuracy_param 102 AccuracyParameter; argmax_param 103 ArgMaxParameter; bn_param 137 BNParameter; "
        "concat_param 104 ConcatParameter; contrastive_loss_param 105 ContrastiveLossParameter; "
        "convolution_param 106 ConvolutionParameter; data_param 107 DataParameter; dropout_param 108 DropoutParameter; "
        "dummy_data_param 109 DummyDataParameter; eltwise_param 110 EltwiseParameter; exp_param 111 ExpParameter; "
        "flatten_param 135 FlattenParameter; hdf5_data_param 112 HDF5DataParameter; "
        "hdf5_output_param 113 HDF5OutputParameter; hinge_loss_param 114 HingeLossParameter; "
        "image_data_param 115 ImageDataParameter; infogain_loss_param 116 InfogainLossParameter; "
        "inner_product_param 117 InnerProductParameter; log_param 134 LogParameter; lrn_param 118 LRNParameter; "
        "memory_data_param 119 MemoryDataParameter; mvn_param 120 MVNParameter; pooling_param 121 PoolingParameter; "
        "power_param 122 PowerParameter; prelu_param 131 PReLUParameter; python_param 130 PythonParameter; "
        "reduction_param 136 ReductionParameter; relu_param 123 ReLUParameter; reshape_param 133 ReshapeParameter; "
        "sigmoid_param 124 SigmoidParameter; softmax_param 125 SoftmaxParameter; spp_param 132 SPPParameter; "
        "slice_param 126 SliceParameter; tanh_param 127 TanHParameter; threshold_param 128 ThresholdParameter; "
        "window_data_param 129 WindowDataParameter; video_data_param 140 VideoDataParameter; "
        "roi_pooling_param 150 ROIPoolingParameter; scale_param 160 ScaleParameter; bias_param 161 BiasParameter; "
        "batch_reduction_param 162 BatchReductionParameter; tile_param 163 TileParameter; "
        "batch_norm_param 139 BatchNormParameter; input_param 143 InputParameter"
    ),
    "TransformationParameter": (
        "scale 1 float =1; mirror 2 bool; crop_size 3 uint32; mean_file 4 string; mean_value 5 float rep; "
        "force_color 6 bool; force_gray 7 bool; fix_crop 10 bool; more_fix_crop 15 bool; multi_scale 11 bool; "
        "scale_ratios 12 float rep; max_distort 13 int32 =1; is_flow 14 bool; original_image 20 bool"
    ),
    "LossParameter": "ignore_label 1 int32; normalize 2 bool =true",
    "AccuracyParameter": "top_k 1 uint32 =1; axis 2 int32 =1; ignore_label 3 int32",
    "ArgMaxParameter": "out_max_val 1 bool; top_k 2 uint32 =1",
    "BNParameter": "slope_filler 1 FillerParameter; bias_filler 2 FillerParameter; momentum 3 float =0.9; "
    "eps 4 float =1e-5; frozen 5 bool; engine 6 Engine",
    "BatchNormParameter": "use_global_stats 1 bool; moving_average_fraction 2 float =0.999; eps 3 float =1e-5",
    "InputParameter": "shape 1 BlobShape rep",
    "ConcatParameter": "axis 2 int32 =1; concat_dim 1 uint32 =1",
    "ContrastiveLossParameter": "margin 1 float =1; legacy_version 2 bool",
    "ConvolutionParameter": (
        "num_output 1 uint32; bias_term 2 bool =true; pad 3 uint32 rep; pad_h 9 uint32; pad_w 10 uint32; "
        "kernel_size 4 uint32 rep; kernel_h 11 uint32; kernel_w 12 uint32; group 5 uint32 =1; stride 6 uint32 rep; "
        "stride_h 13 uint32; stride_w 14 uint32; weight_filler 7 FillerParameter; bias_filler 8 FillerParameter; "
        "engine 15 Engine; dilation 18 uint32 rep"
    ),
    "DataParameter": "source 1 string; batch_size 4 uint32; rand_skip 7 uint32; backend 8 DB; scale 2 float =1; "
    "mean_file 3 string; crop_size 5 uint32; mirror 6 bool; force_encoded_color 9 bool; shuffle 10 bool",
    "DropoutParameter": "dropout_ratio 1 float =0.5",
    "DummyDataParameter": "data_filler 1 FillerParameter rep; shape 6 BlobShape rep; num 2 uint32 rep; "
    "channels 3 uint32 rep; height 4 uint32 rep; width 5 uint32 rep",
    "EltwiseParameter": "operation 1 EltwiseOp =SUM; coeff 2 float rep; stable_prod_grad 3 bool =true",
    "ExpParameter": "base 1 float =-1; scale 2 float =1; shift 3 float",
    "FlattenParameter": "axis 1 int32 =1; end_axis 2 int32 =-1",
    "HDF5DataParameter": "source 1 string; batch_size 2 uint32; shuffle 3 bool",
    "HDF5OutputParameter": "file_name 1 string",
    "HingeLossParameter": "norm 1 Norm =L1",
    "ImageDataParameter": "source 1 string; batch_size 4 uint32; rand_skip 7 uint32; shuffle 8 bool; "
    "new_height 9 uint32; new_width 10 uint32; is_color 11 bool =true; scale 2 float =1; "
    "mean_file 3 string; crop_size 5 uint32; mirror 6 bool; root_folder 12 string",
    "VideoDataParameter": "source 1 string; batch_size 4 uint32; rand_skip 7 uint32; shuffle 8 bool; "
    "new_height 9 uint32; new_width 10 uint32; new_length 11 uint32 =1; num_segments 12 uint32 =1; "
    "scale 2 float =1; mean_file 3 string; crop_size 5 uint32; mirror 6 bool; "
    "modality 13 Modality =FLOW; name_pattern 14 string; encoded 15 bool",
    "InfogainLossParameter": "source 1 string",
    "InnerProductParameter": "num_output 1 uint32; bias_term 2 bool =true; weight_filler 3 FillerParameter; "
    "bias_filler 4 FillerParameter; axis 5 int32 =1",
    "LogParameter": "base 1 float =-1; scale 2 float =1; shift 3 float",
    "LRNParameter": "local_size 1 uint32 =5; alpha 2 float =1; beta 3 float =0.75; norm_region 4 NormRegion; "
    "k 5 float =1",
    "MemoryDataParameter": "batch_size 1 uint32; channels 2 uint32; height 3 uint32; width 4 uint32",
    "MVNParameter": "normalize_variance 1 bool =true; across_channels 2 bool; eps 3 float =1e-9",
    "PoolingParameter": "pool 1 PoolMethod =MAX; pad 4 uint32; pad_h 9 uint32; pad_w 10 uint32; kernel_size 2 uint32; "
    "kernel_h 5 uint32; kernel_w 6 uint32; stride 3 uint32 =1; stride_h 7 uint32; stride_w 8 uint32; "
    "engine 11 Engine; global_pooling 12 bool",
    "PowerParameter": "power 1 float =1; scale 2 float =1; shift 3 float",
    "PythonParameter": "module 1 string; layer 2 string; param_str 3 string",
    "ReductionParameter": "operation 1 ReductionOp =SUM; axis 2 int32; coeff 3 float =1; k 4 int32 =1",
    "ReLUParameter": "negative_slope 1 float; engine 2 Engine",
    "ReshapeParameter": "shape 1 BlobShape; axis 2 int32; num_axes 3 int32 =-1",
    "SigmoidParameter": "engine 1 Engine",
    "SliceParameter": "axis 3 int32 =1; slice_point 2 uint32 rep; slice_dim 1 uint32 =1",
    "SoftmaxParameter": "engine 1 Engine; axis 2 int32 =1",
    "TanHParameter": "engine 1 Engine",
    "TileParameter": "axis 1 int32 =1; tiles 2 int32",
    "ThresholdParameter": "threshold 1 float",
    "WindowDataParameter": "source 1 string; scale 2 float =1; mean_file 3 string; batch_size 4 uint32; "
    "crop_size 5 uint32; mirror 6 bool; fg_threshold 7 float =0.5; bg_threshold 8 float =0.5; "
    "fg_fraction 9 float =0.25; context_pad 10 uint32; crop_mode 11 string =warp; "
    "cache_images 12 bool; root_folder 13 string",
    "SPPParameter": "pyramid_height 1 uint32; pool 2 PoolMethod =MAX; engine 6 Engine",
    "ROIPoolingParameter": "pooled_h 1 uint32; pooled_w 2 uint32; spatial_scale 3 float =1",
    "PReLUParameter": "filler 1 FillerParameter; channel_shared 2 bool",
    "ScaleParameter": "axis 1 int32 =1; num_axes 2 int32 =1; filler 3 FillerParameter; bias_term 4 bool; "
    "bias_filler 5 FillerParameter",
    "BiasParameter": "axis 1 int32 =1; num_axes 2 int32 =1; filler 3 FillerParameter",
    "BatchReductionParameter": "level 1 int32 rep; reduction_param 2 ReductionParameter",
    "MemoryOptimizationParameter": "optimize_train 1 bool =true; optimize_test 2 bool; exclude_blob 3 string rep",
    "V1LayerParameter": (
        "bottom 2 string rep; top 3 string rep; name 4 string; include 32 NetStateRule rep; "
        "exclude 33 NetStateRule rep; type 5 LayerType; blobs 6 BlobProto rep; param 1001 string rep; "
        "blob_share_mode 1002 DimCheckMode rep; blobs_lr 7 float rep; weight_decay 8 float rep; "
        "loss_weight 35 float rep; accuracy_param 27 AccuracyParameter; "
        "argmax_param 23 ArgMaxParameter; concat_param 9 ConcatParameter; "
        "contrastive_loss_param 40 ContrastiveLossParameter; convolution_param 10 ConvolutionParameter; "
        "data_param 11 DataParameter; dropout_param 12 DropoutParameter; dummy_data_param 26 DummyDataParameter; "
        "eltwise_param 24 EltwiseParameter; exp_param 41 ExpParameter; hdf5_data_param 13 HDF5DataParameter; "
        "hdf5_output_param 14 HDF5OutputParameter; hinge_loss_param 29 HingeLossParameter; "
        "image_data_param 15 ImageDataParameter; infogain_loss_param 16 InfogainLossParameter; "
        "inner_product_param 17 InnerProductParameter; lrn_param 18 LRNParameter; "
        "memory_data_param 22 MemoryDataParameter; mvn_param 34 MVNParameter; pooling_param 19 PoolingParameter; "
        "power_param 21 PowerParameter; relu_param 30 ReLUParameter; sigmoid_param 38 SigmoidParameter; "
        "softmax_param 39 SoftmaxParameter; slice_param 31 SliceParameter; tanh_param 37 TanHParameter; "
        "threshold_param 25 ThresholdParameter; window_data_param 20 WindowDataParameter; "
        "transform_param 36 TransformationParameter; loss_param 42 LossParameter"
    ),
}

_SCALARS = {
    "double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
    "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "uint32": descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
}


def _enum_values(spec: str) -> list[tuple[str, int]]:
    values = []
    for index, token in enumerate(spec.split()):
        name, _, number = token.partition(":")
        values.append((name, int(number) if number else index))
    return values


def _add_enum(container, name: str, spec: str) -> None:
    enum = container.enum_type.add(name=name)
    for value_name, number in _enum_values(spec):
        enum.value.add(name=value_name, number=number)


def _add_field(message: descriptor_pb2.DescriptorProto, entry: str, local_enums: set[str]) -> None:
    head, _, default = entry.partition("=")
    tokens = head.split()
    name, number, type_name, modifiers = tokens[0], int(tokens[1]), tokens[2], tokens[3:]
    field = message.field.add(name=name, number=number)
    field.label = (
        descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
        if modifiers
        else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    )
    if "packed" in modifiers:
        field.options.packed = True
    if type_name in _SCALARS:
        field.type = _SCALARS[type_name]
    elif type_name in local_enums:
        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_ENUM
        field.type_name = f".{PACKAGE}.{message.name}.{type_name}"
    elif type_name in ENUMS:
        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_ENUM
        field.type_name = f".{PACKAGE}.{type_name}"
    else:
        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
        field.type_name = f".{PACKAGE}.{type_name}"
    if default.strip():
        field.default_value = default.strip()


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(name="srn_caffe_fork.proto", package=PACKAGE, syntax="proto2")
    for name, spec in ENUMS.items():
        if "." not in name:
            _add_enum(proto, name, spec)
    for name, spec in MESSAGES.items():
        message = proto.message_type.add(name=name)
        local = {key.split(".", 1)[1]: value for key, value in ENUMS.items() if key.startswith(name + ".")}
        for enum_name, enum_spec in local.items():
            _add_enum(message, enum_name, enum_spec)
        for entry in spec.split(";"):
            _add_field(message, entry, set(local))
    return proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file_descriptor())


def message_class(name: str) -> type:
    """The generated Python class of Caffe message `name` (e.g. "NetParameter")."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


NetParameter = message_class("NetParameter")
LayerParameter = message_class("LayerParameter")
V1LayerParameter = message_class("V1LayerParameter")
BlobProto = message_class("BlobProto")

__all__ = ["NetParameter", "LayerParameter", "V1LayerParameter", "BlobProto", "message_class", "MESSAGES", "ENUMS"]
