"""LightGBM trees as flat arrays: generated Python for one row, NumPy or Numba for batch."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from puhui.codegen import compile_function, literal
from puhui.risk.errors import UnsupportedModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]

# LightGBM decision_type bits: 1 = categorical split, 2 = default left, bits 2-3 = missing type.
_CATEGORICAL_MASK = 1
_DEFAULT_LEFT_MASK = 2
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
# LightGBM's kZeroThreshold: |x| at or below it counts as zero for the "zero as missing" rule.
ZERO_THRESHOLD = 1e-35
# Rows walked through one tree before the next (their nodes stay in the L1 cache).
_BLOCK_ROWS = 1024
# Deeper trees would make the complete layout (2**depth nodes per tree) larger than the cache.
MAX_COMPLETE_DEPTH = 10
# Rows of one block of the complete-tree kernel (a multiple of 8: the kernel walks eight rows
# side by side, independent dependency chains that keep the core busy while one row waits on
# its loads).
_LANE_BLOCK_ROWS = 128


@dataclass(frozen=True)
class TreeEnsemble:
    """Every tree's nodes in flat arrays with global indices.

    A child ``>= 0`` is an internal node; ``< 0`` is leaf ``-child - 1``. ``roots[t]`` is the
    first node of tree ``t`` (negative for a tree that is a single leaf).
    """

    n_features: int
    roots: IntArray
    feature: IntArray
    threshold: FloatArray
    left: IntArray
    right: IntArray
    default_left: npt.NDArray[np.bool_]
    missing_type: npt.NDArray[np.int8]
    leaf_value: FloatArray

    @property
    def n_trees(self) -> int:
        return int(self.roots.size)

    @cached_property
    def complete(self) -> CompleteTrees | None:
        """The trees padded to one depth for the batch kernel, or None where it cannot apply."""
        return _complete_layout(self)

    def features_missing_type(self) -> dict[int, int]:
        """The missing-value rule of each split feature (LightGBM fixes one per feature)."""
        rules: dict[int, int] = {}
        for f, m in zip(self.feature.tolist(), self.missing_type.tolist(), strict=True):
            if rules.setdefault(f, m) != m:
                raise UnsupportedModel(f"feature {f} has splits with different missing rules")
        return rules


@dataclass(frozen=True)
class CompleteTrees:
    """Every tree padded to a complete binary tree of ``depth`` levels (heap order: node ``k``
    has children ``2k+1`` and ``2k+2``), so a row takes exactly ``depth`` steps per tree with no
    branch. A leaf above the bottom is copied to every bottom slot below it, so the padding
    nodes' tests do not matter. ``feature`` indexes the *tripled* row: column ``f`` holds the
    value with NaN as -inf (missing goes left), column ``n_features + f`` with NaN as +inf
    (missing goes right); each node reads the column of its missing direction, so the missing
    rule costs nothing per step. A split at +inf whose missing values go right (LightGBM's
    "missing or not" split) cannot use +inf as a stand-in: it reads column
    ``2·n_features + f``, 1.0 where the value is missing, against 0.5.
    """

    depth: int
    feature: IntArray  # n_trees x (2**depth - 1)
    threshold: FloatArray  # n_trees x (2**depth - 1)
    leaf_value: FloatArray  # n_trees x 2**depth


def _tree_depth(ensemble: TreeEnsemble, root: int) -> int:
    deepest, stack = 0, [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node < 0:
            deepest = max(deepest, depth)
            continue
        stack.append((int(ensemble.left[node]), depth + 1))
        stack.append((int(ensemble.right[node]), depth + 1))
    return deepest


def _complete_layout(ensemble: TreeEnsemble) -> CompleteTrees | None:
    """Pad the trees; None with the "zero is missing" rule, a NaN threshold or trees deeper than
    :data:`MAX_COMPLETE_DEPTH` (the general kernel serves those)."""
    if (ensemble.missing_type == MISSING_ZERO).any() or np.isnan(ensemble.threshold).any():
        return None
    roots = ensemble.roots.tolist()
    depth = max([_tree_depth(ensemble, r) for r in roots], default=0)
    if depth > MAX_COMPLETE_DEPTH:
        return None
    n_inner, n_trees = max((1 << depth) - 1, 1), len(roots)
    feature = np.zeros((n_trees, n_inner), dtype=np.int32)
    threshold = np.zeros((n_trees, n_inner))
    leaf_value = np.zeros((n_trees, 1 << depth))
    # Rule "none": LightGBM reads a missing value as 0.0, so its side is fixed by the threshold.
    nan_left = np.where(
        ensemble.missing_type == MISSING_NONE, ensemble.threshold >= 0.0, ensemble.default_left
    )
    for t, root in enumerate(roots):
        stack = [(root, 0, 0)]  # (node, heap position, level)
        while stack:
            node, position, level = stack.pop()
            if node < 0:
                span = 1 << (depth - level)
                first = (position - ((1 << level) - 1)) * span
                leaf_value[t, first : first + span] = ensemble.leaf_value[-node - 1]
                continue
            column, limit = int(ensemble.feature[node]), float(ensemble.threshold[node])
            if nan_left[node]:
                feature[t, position], threshold[t, position] = column, limit
            elif limit == math.inf:  # every value goes left, missing ones right
                feature[t, position] = column + 2 * ensemble.n_features
                threshold[t, position] = 0.5
            else:
                feature[t, position] = column + ensemble.n_features
                threshold[t, position] = limit
            stack.append((int(ensemble.left[node]), 2 * position + 1, level + 1))
            stack.append((int(ensemble.right[node]), 2 * position + 2, level + 1))
    return CompleteTrees(depth, feature, threshold, leaf_value)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split()] if text else []


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split()] if text else []


def parse_lightgbm(model_text: str) -> TreeEnsemble:
    """Read LightGBM's text model (full double precision) into flat arrays."""
    header, _, body = model_text.partition("Tree=")
    fields = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)
    n_features = int(fields["max_feature_idx"]) + 1
    if "average_output" in header.split():
        raise UnsupportedModel("random-forest (average_output) models are not supported")
    blocks = ("Tree=" + body).split("\nTree=")
    roots: list[int] = []
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    default_left: list[bool] = []
    missing_type: list[int] = []
    leaf_value: list[float] = []
    for raw_block in blocks:
        block = raw_block.split("end of trees")[0]
        tree = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if not tree.get("leaf_value"):
            continue
        if int(tree.get("is_linear", "0")):
            raise UnsupportedModel("linear trees are not supported")
        node_base, leaf_base = len(feature), len(leaf_value)
        leaves = _floats(tree["leaf_value"])
        if int(tree["num_leaves"]) == 1:
            roots.append(-(leaf_base + 1))
            leaf_value.extend(leaves)
            continue
        decision = _ints(tree["decision_type"])
        if any(d & _CATEGORICAL_MASK for d in decision):
            raise UnsupportedModel("categorical splits are not supported: encode categories first")

        def glob(child: int, node_base: int = node_base, leaf_base: int = leaf_base) -> int:
            if child >= 0:
                return child + node_base
            leaf = leaf_base + (-child - 1)
            return -(leaf + 1)

        roots.append(node_base)
        feature.extend(_ints(tree["split_feature"]))
        threshold.extend(_floats(tree["threshold"]))
        left.extend(glob(c) for c in _ints(tree["left_child"]))
        right.extend(glob(c) for c in _ints(tree["right_child"]))
        default_left.extend(bool(d & _DEFAULT_LEFT_MASK) for d in decision)
        missing_type.extend((d >> 2) & 3 for d in decision)
        leaf_value.extend(leaves)
    return TreeEnsemble(
        n_features=n_features,
        roots=np.asarray(roots, dtype=np.int32),
        feature=np.asarray(feature, dtype=np.int32),
        threshold=np.asarray(threshold, dtype=np.float64),
        left=np.asarray(left, dtype=np.int32),
        right=np.asarray(right, dtype=np.int32),
        default_left=np.asarray(default_left, dtype=np.bool_),
        missing_type=np.asarray(missing_type, dtype=np.int8),
        leaf_value=np.asarray(leaf_value, dtype=np.float64),
    )


# --- one row: generated Python source --------------------------------------------------------


def _condition(ensemble: TreeEnsemble, node: int) -> str:
    """The Python test that sends a row left at ``node``, with LightGBM's missing-value rules."""
    f = int(ensemble.feature[node])
    thr = literal(float(ensemble.threshold[node]))
    rule = int(ensemble.missing_type[node])
    go_default_left = bool(ensemble.default_left[node])
    if rule == MISSING_NAN:
        # x is NaN when missing; NaN compares False, so the default side needs the test flipped.
        return f"not (x{f} > {thr})" if go_default_left else f"x{f} <= {thr}"
    if rule == MISSING_ZERO:
        zero = f"-{literal(ZERO_THRESHOLD)} <= z{f} <= {literal(ZERO_THRESHOLD)}"
        return (
            f"({zero}) or z{f} <= {thr}" if go_default_left else f"not ({zero}) and z{f} <= {thr}"
        )
    return f"z{f} <= {thr}"


def _emit_node(ensemble: TreeEnsemble, tree: int, child: int, depth: int, lines: list[str]) -> None:
    pad = "    " * depth
    if child < 0:
        # A constant store allocates nothing; the leaves are summed once at the end.
        lines.append(f"{pad}t{tree} = {literal(float(ensemble.leaf_value[-child - 1]))}")
        return
    lines.append(f"{pad}if {_condition(ensemble, child)}:")
    _emit_node(ensemble, tree, int(ensemble.left[child]), depth + 1, lines)
    lines.append(f"{pad}else:")
    _emit_node(ensemble, tree, int(ensemble.right[child]), depth + 1, lines)


def python_source(ensemble: TreeEnsemble, loaders: Sequence[str]) -> str:
    """Source of ``raw(row) -> float``: ``loaders[f]`` is an expression giving feature ``f``.

    Loaded values are None or NaN when missing; ``x{f}`` keeps NaN, ``z{f}`` maps it to 0.0
    (LightGBM's rule for features trained without missing values).
    """
    rules = ensemble.features_missing_type()
    lines = ["def raw(row):", "    g = row.get"]
    for f, rule in sorted(rules.items()):
        lines.append(f"    x{f} = {loaders[f]}")
        lines.append(f"    if x{f} is None: x{f} = NAN")
        if rule != MISSING_NAN:
            lines.append(f"    z{f} = 0.0 if x{f} != x{f} else x{f}")
    for tree, root in enumerate(ensemble.roots.tolist()):
        _emit_node(ensemble, tree, root, 1, lines)
    # sum() adds in tree order in C doubles, as LightGBM does: the same result to the last bit.
    leaves = ", ".join(f"t{tree}" for tree in range(ensemble.n_trees))
    lines.append(f"    return sum(({leaves},))")
    return "\n".join(lines) + "\n"


def compile_row_function(
    ensemble: TreeEnsemble, loaders: Sequence[str], namespace: Mapping[str, Any]
) -> Callable[[Mapping[str, Any]], float]:
    """Compile the generated source once; ``namespace`` provides names the loaders use."""
    scope: dict[str, Any] = {"NAN": math.nan, **namespace}
    function: Callable[[Mapping[str, Any]], float] = compile_function(
        python_source(ensemble, loaders), "raw", namespace=scope, label="trees"
    )
    return function


# --- batch: NumPy level-wise traversal, or Numba when installed -------------------------------


def predict_raw_numpy(ensemble: TreeEnsemble, x: FloatArray) -> FloatArray:
    """Raw margin of every row by walking all rows one tree level at a time."""
    n = x.shape[0]
    out = np.zeros(n)
    rows = np.arange(n)
    for root in ensemble.roots.tolist():
        node = np.full(n, root, dtype=np.int64)
        active = rows[node >= 0]
        while active.size:
            at = node[active]
            values = x[active, ensemble.feature[at]]
            rule = ensemble.missing_type[at]
            is_nan = np.isnan(values)
            zeroed = np.where(is_nan & (rule != MISSING_NAN), 0.0, values)
            go_left = zeroed <= ensemble.threshold[at]
            use_default = (is_nan & (rule == MISSING_NAN)) | (
                (rule == MISSING_ZERO) & (np.abs(zeroed) <= ZERO_THRESHOLD)
            )
            go_left = np.where(use_default, ensemble.default_left[at], go_left)
            node[active] = np.where(go_left, ensemble.left[at], ensemble.right[at])
            active = active[node[active] >= 0]
        out += ensemble.leaf_value[-node - 1]
    return out


try:  # pragma: no cover - exercised when numba is installed
    import numba

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _numba_raw(  # noqa: PLR0917 - numba kernels take plain arrays
        x: FloatArray,
        roots: IntArray,
        feature: IntArray,
        threshold: FloatArray,
        left: IntArray,
        right: IntArray,
        default_left: npt.NDArray[np.bool_],
        missing_type: npt.NDArray[np.int8],
        leaf_value: FloatArray,
    ) -> FloatArray:
        n = x.shape[0]
        out = np.empty(n)
        n_trees = roots.shape[0]
        for i in numba.prange(n):
            total = 0.0
            for t in range(n_trees):
                node = roots[t]
                while node >= 0:
                    value = x[i, feature[node]]
                    rule = missing_type[node]
                    if np.isnan(value):
                        # Rule "none": LightGBM reads a missing value as 0.0.
                        go_left = threshold[node] >= 0.0 if rule == 0 else default_left[node]
                    elif rule == 1 and -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
                        go_left = default_left[node]
                    else:
                        go_left = value <= threshold[node]
                    node = left[node] if go_left else right[node]
                total += leaf_value[-node - 1]
            out[i] = total
        return out

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _numba_raw_blocked(  # noqa: PLR0917 - numba kernels take plain arrays
        x: FloatArray,
        roots: IntArray,
        feature: IntArray,
        threshold: FloatArray,
        children: IntArray,
        nan_left: npt.NDArray[np.bool_],
        leaf_value: FloatArray,
    ) -> FloatArray:
        """Blocks of rows, tree by tree: one tree's nodes stay in L1 while a block walks it,
        and the child is chosen without a branch (``children[2·node + go_right]``)."""
        n = x.shape[0]
        out = np.zeros(n)
        n_blocks = (n + _BLOCK_ROWS - 1) // _BLOCK_ROWS
        for b in numba.prange(n_blocks):
            lo = b * _BLOCK_ROWS
            hi = min(n, lo + _BLOCK_ROWS)
            for t in range(roots.shape[0]):
                root = roots[t]
                for i in range(lo, hi):
                    node = root
                    while node >= 0:
                        value = x[i, feature[node]]
                        if np.isnan(value):
                            go_right = not nan_left[node]
                        else:
                            go_right = value > threshold[node]
                        node = children[2 * node + go_right]
                    out[i] += leaf_value[-node - 1]
        return out

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _numba_raw_complete(
        x: FloatArray, depth: int, feature: IntArray, threshold: FloatArray, leaf_value: FloatArray
    ) -> FloatArray:
        """Complete trees over blocks of rows: the block is copied feature-major with NaN as
        -inf, as +inf and as a 0/1 flag (see :class:`CompleteTrees`), then walked tree by
        tree, eight rows side by side, each step ``node = 2·node + 1 + (value > threshold)``.
        Leaves are added in tree order, as LightGBM does."""
        n, width = x.shape
        out = np.empty(n)
        n_trees = feature.shape[0]
        first_leaf = (1 << depth) - 1
        block = _LANE_BLOCK_ROWS
        for b in numba.prange((n + block - 1) // block):
            lo = b * block
            rows = min(n, lo + block) - lo
            columns = np.zeros((3 * width, block))
            for j in range(rows):
                for f in range(width):
                    value = x[lo + j, f]
                    if np.isnan(value):
                        columns[f, j] = -np.inf
                        columns[width + f, j] = np.inf
                        columns[2 * width + f, j] = 1.0
                    else:
                        columns[f, j] = value
                        columns[width + f, j] = value
            total = np.zeros(block)
            for t in range(n_trees):
                tf, th, leaf = feature[t], threshold[t], leaf_value[t]
                for j in range(0, block, 8):
                    # Eight scalars, not an array: LLVM keeps them in registers (an array
                    # would cost a store and a reload per step).
                    n0 = n1 = n2 = n3 = n4 = n5 = n6 = n7 = 0
                    for _ in range(depth):
                        n0 = 2 * n0 + 1 + (columns[tf[n0], j] > th[n0])
                        n1 = 2 * n1 + 1 + (columns[tf[n1], j + 1] > th[n1])
                        n2 = 2 * n2 + 1 + (columns[tf[n2], j + 2] > th[n2])
                        n3 = 2 * n3 + 1 + (columns[tf[n3], j + 3] > th[n3])
                        n4 = 2 * n4 + 1 + (columns[tf[n4], j + 4] > th[n4])
                        n5 = 2 * n5 + 1 + (columns[tf[n5], j + 5] > th[n5])
                        n6 = 2 * n6 + 1 + (columns[tf[n6], j + 6] > th[n6])
                        n7 = 2 * n7 + 1 + (columns[tf[n7], j + 7] > th[n7])
                    total[j] += leaf[n0 - first_leaf]
                    total[j + 1] += leaf[n1 - first_leaf]
                    total[j + 2] += leaf[n2 - first_leaf]
                    total[j + 3] += leaf[n3 - first_leaf]
                    total[j + 4] += leaf[n4 - first_leaf]
                    total[j + 5] += leaf[n5 - first_leaf]
                    total[j + 6] += leaf[n6 - first_leaf]
                    total[j + 7] += leaf[n7 - first_leaf]
            for j in range(rows):
                out[lo + j] = total[j]
        return out

    def _row_kernel(ensemble: TreeEnsemble) -> Callable[[FloatArray], float]:
        """One row through every tree, with the arrays frozen into the compiled code as
        constants: a call passes one argument, which keeps Numba's dispatch under a µs."""
        roots, feature, threshold = ensemble.roots, ensemble.feature, ensemble.threshold
        left, right, leaf_value = ensemble.left, ensemble.right, ensemble.leaf_value
        default_left, missing_type = ensemble.default_left, ensemble.missing_type

        @numba.njit(nogil=True)
        def raw_one(x: FloatArray) -> float:
            total = 0.0
            for t in range(roots.shape[0]):
                node = roots[t]
                while node >= 0:
                    value = x[feature[node]]
                    rule = missing_type[node]
                    if np.isnan(value):
                        go_left = threshold[node] >= 0.0 if rule == 0 else default_left[node]
                    elif rule == 1 and -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
                        go_left = default_left[node]
                    else:
                        go_left = value <= threshold[node]
                    node = left[node] if go_left else right[node]
                total += leaf_value[-node - 1]
            return total

        raw_one(np.zeros(ensemble.n_features))  # compile now, not on the first applicant
        kernel: Callable[[FloatArray], float] = raw_one
        return kernel

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_NUMBA = False


def row_kernel(ensemble: TreeEnsemble) -> Callable[[FloatArray], float] | None:
    """A compiled single-row scorer over a float vector, or None without Numba."""
    return _row_kernel(ensemble) if HAVE_NUMBA else None


def predict_raw(ensemble: TreeEnsemble, x: FloatArray) -> FloatArray:
    """Raw margin (sum of leaf values) of every row of ``x`` (n_rows × n_features, NaN missing)."""
    matrix = np.ascontiguousarray(x, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < ensemble.n_features:
        raise UnsupportedModel(f"expected a matrix with {ensemble.n_features} feature columns")
    if not HAVE_NUMBA:
        return predict_raw_numpy(ensemble, matrix)
    complete = ensemble.complete
    if complete is not None:
        fast: FloatArray = _numba_raw_complete(
            matrix[:, : ensemble.n_features],
            complete.depth,
            complete.feature,
            complete.threshold,
            complete.leaf_value,
        )
        return fast
    if not (ensemble.missing_type == MISSING_ZERO).any():
        # Without the "zero is missing" rule a NaN's side is fixed per node: precompute it.
        children = np.empty(2 * ensemble.feature.size, dtype=np.int32)
        children[0::2] = ensemble.left
        children[1::2] = ensemble.right
        nan_left = np.where(
            ensemble.missing_type == MISSING_NONE,
            ensemble.threshold >= 0.0,
            ensemble.default_left,
        )
        blocked: FloatArray = _numba_raw_blocked(
            matrix,
            ensemble.roots,
            ensemble.feature,
            ensemble.threshold,
            children,
            nan_left,
            ensemble.leaf_value,
        )
        return blocked
    result: FloatArray = _numba_raw(
        matrix,
        ensemble.roots,
        ensemble.feature,
        ensemble.threshold,
        ensemble.left,
        ensemble.right,
        ensemble.default_left,
        ensemble.missing_type,
        ensemble.leaf_value,
    )
    return result
