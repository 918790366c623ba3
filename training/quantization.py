"""int8 ONNX models (`quantize`) that lose little to fp32 and give the same numbers on every x86 CPU.

* MatMul weights: int8 from `onnxruntime.quantization.quantize_dynamic`, with one scale per output
  channel (`per_channel`) rather than one per tensor.
* Tables read by Gather (word, position and token-type embeddings): int8 with one scale per row
  (`row_scaled_tables`). `quantize_dynamic` gives a whole Gather table one scale, so a rare word's
  small row keeps few distinct values. Measured on the reader's 1,588 held-out questions
  (`train_reader.py --evaluate`), sentence hit@1 / span F1 / answerability AUC: fp32 84.2 / 70.8 /
  0.936; per-tensor int8 83.0 / 68.7 / 0.925; per-channel MatMuls 83.7 / 69.6 / 0.934; and with
  row-scaled tables 83.7 / 70.3 / 0.933, the same size (23 MB) and speed.
* MatMul weights stored as uint8 (`unsigned_weights`). `quantize_dynamic` stores them as int8 (s8)
  next to uint8 activations. On CPUs without VNNI (AVX2 only), onnxruntime multiplies u8 x s8 with
  `vpmaddubsw`, whose 16-bit sums saturate: the same file then gives other vectors and scores than on
  a VNNI CPU (measured here, AVX2: the encoder's min cosine to torch fp32 over 200 SciFact abstracts
  was 0.979 with s8 weights and 0.992 with these, and the article's dev set answered one question
  differently). Adding 128 to every weight and to its zero point is exact — (w + 128) - (z + 128) =
  w - z — and u8 x u8 has no saturating path, so the result no longer depends on the CPU.

Every step is deterministic: the same fp32 file gives the same bytes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np


def unsigned_weights(path: Path) -> int:
    """Rewrite `path` in place: the int8 weights (and zero points) of its MatMulInteger nodes as
    uint8 plus 128. Returns how many tensors changed. Deterministic."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    initializers = {t.name: t for t in model.graph.initializer}
    changed = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        for name in node.input[1::2]:  # B and, when given, its zero point (inputs 1 and 3)
            tensor = initializers.get(name)
            if tensor is not None and tensor.data_type == onnx.TensorProto.INT8:
                shifted = numpy_helper.to_array(tensor).astype(np.int16) + 128
                tensor.CopyFrom(numpy_helper.from_array(shifted.astype(np.uint8), name))
                changed += 1
    onnx.save(model, str(path))
    return changed


def row_scaled_tables(model: Any) -> int:
    """Rewrite each Gather of a 2-D float table in the ONNX `model` (in place) as a Gather of the table
    in int8 times a Gather of its rows' scales (max |w| / 127). Only a table that this one Gather
    reads changes (not one shared with another node). Returns how many tables changed."""
    from collections import Counter

    from onnx import TensorProto, helper, numpy_helper

    uses = Counter(name for node in model.graph.node for name in node.input)
    tables = {t.name: t for t in model.graph.initializer
              if t.data_type == TensorProto.FLOAT and len(t.dims) == 2 and uses[t.name] == 1}
    nodes, changed = [], 0
    for node in model.graph.node:
        table = tables.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(table)
        scale = np.abs(w).max(axis=1, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        name, ids, out = table.name, node.input[1], node.output[0]
        model.graph.initializer.remove(table)
        model.graph.initializer.extend([numpy_helper.from_array(q, f"{name}_int8"),
                                        numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale")])
        nodes += [helper.make_node("Gather", [f"{name}_int8", ids], [f"{out}_int8"], name=f"{node.name}_int8"),
                  helper.make_node("Cast", [f"{out}_int8"], [f"{out}_unscaled"], to=TensorProto.FLOAT, name=f"{node.name}_cast"),
                  helper.make_node("Gather", [f"{name}_scale", ids], [f"{out}_scale"], name=f"{node.name}_scale"),
                  helper.make_node("Mul", [f"{out}_unscaled", f"{out}_scale"], [out], name=f"{node.name}_mul")]
        changed += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return changed


def quantize(src: Path, dst: Path, *, per_channel: bool, row_tables: bool) -> None:
    """Write the int8 model of the fp32 ONNX file `src` to `dst`: MatMul weights (one scale per output
    channel with `per_channel`, else per tensor) stored as uint8, and Gather tables, one scale per
    row with `row_tables`, else per tensor. The reader uses both; the encoder and the support check
    ship per-tensor tables (and the check per-tensor MatMuls), as their cards were made."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(src))
    ops = ["MatMul", "Gather"]
    if row_tables:
        row_scaled_tables(model)
        ops = ["MatMul"]  # the tables are int8 now; their scale columns stay float
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # it logs every tensor it leaves alone
    try:
        quantize_dynamic(model, str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=ops, per_channel=per_channel)
    finally:
        root.setLevel(level)
    unsigned_weights(dst)
