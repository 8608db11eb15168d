"""Model exchange: a saved model as an ONNX graph that outputs the PD our scorer gives.

The graph takes one input per feature, shaped ``[n, 1]``: numeric features as ``double`` (NaN
for missing), categorical ones as ``string`` (the empty string for missing; a category not seen
in development is read as missing, as :mod:`puhui.risk.scorer` does). Its output ``pd`` is a
``double`` ``[n, 1]``.

- Gradient boosting: the categories become the model's own codes (a ``LabelEncoder``), the trees
  come from LightGBM's model through onnxmltools (with the thresholds and leaf values put back in
  double precision, so a value a hair from a split goes the way LightGBM sends it), then the
  calibration: Platt's sigmoid or the isotonic steps as a sum of clipped ramps.
- Scorecard: each characteristic's bin is found as the number of edges at or below the value
  (special codes and missing values to their own bins), its points gathered from the points
  table, and the PD is the logistic of the scaled total.

PMML is not offered: the evaluators installable from PyPI need Java, so an export could not be
tested here (ADR 0012).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from puhui.domain.errors import InvalidInput
from puhui.risk.artefact import ModelArtefact
from puhui.risk.dataset import FeatureKind
from puhui.risk.gbm import Calibrator, GbmModel
from puhui.risk.scorecard import Characteristic, ScorecardModel

EXPORT_FORMATS = ("onnx",)
OPSET = 21
ML_OPSET = 5  # TreeEnsemble (double in, double out) arrived in ai.onnx.ml 5
CONVERTER_OPSET = 15  # the newest onnxmltools' LightGBM converter writes
PD_OUTPUT = "pd"
# A LightGBM model read as a regression: its raw output is the margin, with no sigmoid.
_BINARY_HEADER = "objective=binary sigmoid:1"
_BINARY_PARAMETER = "[objective: binary]"


class UnsupportedExportFormat(InvalidInput):
    """Models are exported to the formats a test can score here (ONNX); others are refused."""

    code = "unsupported_export_format"


def export_model(artefact: ModelArtefact, export_format: str) -> bytes:
    """The model serialised in ``export_format``; refuse a format we do not write."""
    wanted = export_format.strip().lower()
    if wanted == "pmml":
        raise UnsupportedExportFormat(
            "PMML export is not offered (its evaluators need Java, so it cannot be tested "
            "here): use --format onnx"
        )
    if wanted not in EXPORT_FORMATS:
        raise UnsupportedExportFormat(
            f"unknown export format {export_format!r}: choose one of {', '.join(EXPORT_FORMATS)}"
        )
    serialised: bytes = to_onnx(artefact.model).SerializeToString()
    return serialised


def to_onnx(model: GbmModel | ScorecardModel) -> onnx.ModelProto:
    """The ONNX graph of a fitted model of either kind (checked by onnx's checker)."""
    if isinstance(model, GbmModel):
        graph = _gbm_graph(model)
    elif isinstance(model, ScorecardModel):
        graph = _scorecard_graph(model)
    else:  # pragma: no cover - the artefact holds one of the two kinds
        raise UnsupportedExportFormat(f"no ONNX export for {type(model).__name__}")
    exported = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="puhui",
    )
    exported.ir_version = 10
    onnx.checker.check_model(exported)
    return exported


def _input(name: str, kind: FeatureKind) -> onnx.ValueInfoProto:
    element = TensorProto.STRING if kind is FeatureKind.CATEGORICAL else TensorProto.DOUBLE
    return helper.make_tensor_value_info(name, element, [None, 1])


def _constant(name: str, values: Any, dtype: Any = np.float64) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name=name)


class _Graph:
    """Nodes and constants collected while a model is translated; names stay unique."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.constants: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, values: Any, dtype: Any = np.float64) -> str:
        name = self.name(hint)
        self.constants.append(_constant(name, values, dtype))
        return name

    def op(self, op_type: str, inputs: Sequence[str], domain: str = "", **attrs: Any) -> str:
        output = self.name(op_type.lower())
        self.nodes.append(
            helper.make_node(op_type, list(inputs), [output], domain=domain or None, **attrs)
        )
        return output


# --- gradient boosting -----------------------------------------------------------------------


def _regression_booster(model_text: str) -> lgb.Booster:
    """The booster relabelled as a regression, so the converter outputs the raw margin."""
    if _BINARY_HEADER not in model_text:
        raise UnsupportedExportFormat("only binary LightGBM models are exported")
    text = model_text.replace(_BINARY_HEADER, "objective=regression")
    return lgb.Booster(model_str=text.replace(_BINARY_PARAMETER, "[objective: regression]"))


def _double_lookup(model_text: str) -> tuple[dict[tuple[int, int, float], float], dict[Any, float]]:
    """Every split threshold and leaf value in double precision, keyed by tree, feature and
    the float32 value the converter writes (the converter keeps only float32)."""
    dump = lgb.Booster(model_str=model_text).dump_model()
    thresholds: dict[tuple[int, int, float], float] = {}
    leaves: dict[tuple[int, float], float] = {}
    for tree in dump["tree_info"]:
        t = int(tree["tree_index"])
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "leaf_value" in node:
                value = float(node["leaf_value"])
                leaves[(t, float(np.float32(value)))] = value
                continue
            value = float(node["threshold"])
            thresholds[(t, int(node["split_feature"]), float(np.float32(value)))] = value
            stack.extend((node["left_child"], node["right_child"]))
    return thresholds, leaves


_MODES = {"BRANCH_LEQ": 0, "BRANCH_LT": 1, "BRANCH_GTE": 2, "BRANCH_GT": 3, "BRANCH_EQ": 4}


def _converted_trees(model: GbmModel) -> dict[str, Any]:
    """The attributes of the TreeEnsembleRegressor onnxmltools makes of LightGBM's trees."""
    from onnxmltools import convert_lightgbm  # noqa: PLC0415 - heavy, needed only here
    from onnxmltools.convert.common.data_types import DoubleTensorType  # noqa: PLC0415

    converted = convert_lightgbm(
        _regression_booster(model.model_text),
        initial_types=[("features", DoubleTensorType([None, len(model.specs)]))],
        target_opset=CONVERTER_OPSET,
        zipmap=False,
    )
    trees = [n for n in converted.graph.node if n.op_type == "TreeEnsembleRegressor"]
    if len(trees) != 1:
        raise UnsupportedExportFormat("the converter did not give one tree ensemble")
    attrs = {a.name: helper.get_attribute_value(a) for a in trees[0].attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}


def _trees_node(graph: _Graph, model: GbmModel, features: str) -> str:
    """LightGBM's trees as one ``TreeEnsemble`` (ai.onnx.ml 5): onnxmltools' translation of
    every split (missing-value rules included), re-laid in the newer operator, which computes
    in double like our scorer; thresholds and leaf values are taken back at double precision
    (the converter keeps float32, and a value a hair from a split must go where LightGBM
    sends it). Returns the raw margin [n, 1]."""
    attrs = _converted_trees(model)
    thresholds, leaves = _double_lookup(model.model_text)
    weight_of: dict[tuple[int, int], float] = {}
    for t, n, w in zip(
        attrs["target_treeids"], attrs["target_nodeids"], attrs["target_weights"], strict=True
    ):
        key = (int(t), int(n))
        weight_of[key] = weight_of.get(key, 0.0) + leaves.get(
            (int(t), float(np.float32(w))), float(w)
        )
    by_tree: dict[int, dict[int, int]] = {}
    for i, (t, n) in enumerate(zip(attrs["nodes_treeids"], attrs["nodes_nodeids"], strict=True)):
        by_tree.setdefault(int(t), {})[int(n)] = i
    modes = [m.decode() if isinstance(m, bytes) else str(m) for m in attrs["nodes_modes"]]
    tracks_missing = attrs.get("nodes_missing_value_tracks_true") or [0] * len(modes)
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "roots", "feature", "split", "mode", "true", "true_leaf", "false", "false_leaf",
            "missing", "leaf_weight",
        )
    }  # fmt: skip
    for t in sorted(by_tree):
        nodes = by_tree[t]
        inner = {n: len(out["feature"]) + k for k, n in enumerate(
            n for n in sorted(nodes) if modes[nodes[n]] != "LEAF"
        )}  # fmt: skip
        leaf = {n: len(out["leaf_weight"]) + k for k, n in enumerate(
            n for n in sorted(nodes) if modes[nodes[n]] == "LEAF"
        )}  # fmt: skip
        out["leaf_weight"].extend(weight_of.get((t, n), 0.0) for n in sorted(leaf))
        if not inner:  # a single-leaf tree: a split whose both branches reach the leaf
            only = leaf[min(leaf)]
            out["roots"].append(len(out["feature"]))
            for name, value in (("feature", 0), ("split", 0.0), ("mode", 0), ("true", only),
                                ("true_leaf", 1), ("false", only), ("false_leaf", 1),
                                ("missing", 0)):  # fmt: skip
                out[name].append(value)
            continue
        children = {
            int(attrs[f"nodes_{side}nodeids"][nodes[n]])
            for n in inner
            for side in ("true", "false")
        }
        root_id = min(n for n in inner if n not in children)
        out["roots"].append(inner[root_id])
        for n in sorted(inner):
            i = nodes[n]
            feature = int(attrs["nodes_featureids"][i])
            value = float(attrs["nodes_values"][i])
            out["feature"].append(feature)
            out["split"].append(thresholds.get((t, feature, float(np.float32(value))), value))
            out["mode"].append(_MODES[modes[i]])
            out["missing"].append(int(tracks_missing[i]))
            for side in ("true", "false"):
                child = int(attrs[f"nodes_{side}nodeids"][i])
                is_leaf = child in leaf
                out[side].append(leaf[child] if is_leaf else inner[child])
                out[f"{side}_leaf"].append(int(is_leaf))
    raw = graph.op(
        "TreeEnsemble",
        [features],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function=1,  # SUM
        post_transform=0,  # NONE: the raw margin
        tree_roots=out["roots"],
        nodes_featureids=out["feature"],
        nodes_splits=_constant("nodes_splits", out["split"]),
        nodes_modes=_constant("nodes_modes", out["mode"], np.uint8),
        nodes_truenodeids=out["true"],
        nodes_trueleafs=out["true_leaf"],
        nodes_falsenodeids=out["false"],
        nodes_falseleafs=out["false_leaf"],
        nodes_missing_value_tracks_true=out["missing"],
        leaf_targetids=[0] * len(out["leaf_weight"]),
        leaf_weights=_constant("leaf_weights", out["leaf_weight"]),
    )
    base = sum(float(v) for v in attrs.get("base_values", []) or [])
    return graph.op("Add", [raw, graph.const("base_value", [base])]) if base else raw


def _calibration(graph: _Graph, raw: str, calibrator: Calibrator) -> str:
    if calibrator.kind == "platt":
        scaled = graph.op("Mul", [raw, graph.const("platt_a", [calibrator.a])])
        return graph.op(
            "Sigmoid", [graph.op("Add", [scaled, graph.const("platt_b", [calibrator.b])])]
        )
    # np.interp with clipping at both ends: y0 + Σ slope_i·(clip(raw, x_i, x_{i+1}) - x_i).
    xs, ys = np.asarray(calibrator.x), np.asarray(calibrator.y)
    if xs.size == 1:
        zero = graph.op("Mul", [raw, graph.const("zero", [0.0])])
        return graph.op("Add", [zero, graph.const("y0", [ys[0]])])
    lo, hi = xs[:-1], xs[1:]
    width = hi - lo
    slope = np.divide(np.diff(ys), width, out=np.zeros_like(width), where=width > 0)
    clipped = graph.op(
        "Max", [graph.op("Min", [raw, graph.const("hi", hi)]), graph.const("lo", lo)]
    )
    ramps = graph.op(
        "Mul", [graph.op("Sub", [clipped, graph.const("lo", lo)]), graph.const("slope", slope)]
    )
    total = graph.op("ReduceSum", [ramps, graph.const("axis", [1], np.int64)], keepdims=1)
    return graph.op("Add", [total, graph.const("y0", [ys[0]])])


def _gbm_graph(model: GbmModel) -> onnx.GraphProto:
    graph = _Graph()
    columns: list[str] = []
    for spec in model.specs:
        if spec.kind is FeatureKind.CATEGORICAL:
            codes = model.category_codes[spec.name]
            coded = graph.op(
                "LabelEncoder",
                [spec.name],
                domain="ai.onnx.ml",
                keys_strings=list(codes),
                values_floats=[float(v) for v in codes.values()],
                default_float=math.nan,
            )
            columns.append(graph.op("Cast", [coded], to=TensorProto.DOUBLE))
        else:
            columns.append(spec.name)
    features = graph.op("Concat", columns, axis=1) if len(columns) > 1 else columns[0]
    pd = _calibration(graph, _trees_node(graph, model, features), model.calibrator)
    graph.nodes.append(helper.make_node("Identity", [pd], [PD_OUTPUT]))
    return helper.make_graph(
        graph.nodes,
        "puhui_gbm",
        [_input(spec.name, spec.kind) for spec in model.specs],
        [helper.make_tensor_value_info(PD_OUTPUT, TensorProto.DOUBLE, [None, 1])],
        initializer=graph.constants,
    )


# --- scorecard -------------------------------------------------------------------------------


def _bin_index(graph: _Graph, c: Characteristic) -> str:
    """The bin of every row as int64 [n, 1]: regular bins, then special, then missing."""
    n = c.n_bins
    if c.kind is FeatureKind.CATEGORICAL:
        return graph.op(
            "LabelEncoder",
            [c.name],
            domain="ai.onnx.ml",
            keys_strings=list(c.categories),
            values_int64s=[int(v) for v in c.categories.values()],
            default_int64=n + 1,
        )
    if c.edges:
        # Bin i holds edges[i-1] <= x < edges[i]: the count of edges at or below x.
        at_or_above = graph.op("GreaterOrEqual", [c.name, graph.const("edges", c.edges)])
        counted = graph.op("Cast", [at_or_above], to=TensorProto.INT64)
        index = graph.op("ReduceSum", [counted, graph.const("axis", [1], np.int64)], keepdims=1)
    else:
        zeros = graph.op("Mul", [c.name, graph.const("zero", [0.0])])
        index = graph.op(
            "Cast",
            [graph.op("Where", [graph.op("IsNaN", [c.name]), graph.const("z", [0.0]), zeros])],
            to=TensorProto.INT64,
        )
    if c.special_codes:
        equal = graph.op("Equal", [c.name, graph.const("specials", c.special_codes)])
        hits = graph.op("Cast", [equal], to=TensorProto.INT64)
        any_hit = graph.op("ReduceMax", [hits, graph.const("axis", [1], np.int64)], keepdims=1)
        is_special = graph.op("Cast", [any_hit], to=TensorProto.BOOL)
        index = graph.op("Where", [is_special, graph.const("special_bin", [n], np.int64), index])
    missing = graph.op("IsNaN", [c.name])
    return graph.op("Where", [missing, graph.const("missing_bin", [n + 1], np.int64), index])


def _scorecard_graph(model: ScorecardModel) -> onnx.GraphProto:
    if not model.characteristics:
        raise UnsupportedExportFormat("a scorecard without characteristics has nothing to export")
    graph = _Graph()
    points: list[str] = []
    for c in model.characteristics:
        index = _bin_index(graph, c)
        points.append(graph.op("Gather", [graph.const("points", c.points), index], axis=0))
    total = graph.op("Sum", points) if len(points) > 1 else points[0]
    config = model.config
    # PD = 1 / (1 + exp((points - offset) / factor)) = sigmoid((offset - points) / factor).
    log_odds = graph.op(
        "Div",
        [
            graph.op("Sub", [graph.const("offset", [config.offset]), total]),
            graph.const("factor", [config.factor]),
        ],
    )
    graph.nodes.append(helper.make_node("Sigmoid", [log_odds], [PD_OUTPUT]))
    return helper.make_graph(
        graph.nodes,
        "puhui_scorecard",
        [_input(c.name, c.kind) for c in model.characteristics],
        [helper.make_tensor_value_info(PD_OUTPUT, TensorProto.DOUBLE, [None, 1])],
        initializer=graph.constants,
    )
