"""int8 ONNX weights stored as uint8, so the model gives the same numbers on every x86 CPU.

`quantize_dynamic` stores MatMul weights as int8 (s8) next to uint8 activations. On CPUs
without VNNI (AVX2 only), onnxruntime multiplies u8 x s8 with `vpmaddubsw`, whose 16-bit sums
saturate: the same file then gives other vectors and scores than on a VNNI CPU (measured here,
AVX2: the encoder's min cosine to torch fp32 over 200 SciFact abstracts was 0.979 with s8 weights
and 0.992 with these, and the article's dev set answered one question differently). Adding 128
to every weight and to its zero point is exact — (w + 128) - (z + 128) = w - z — and u8 x u8
has no saturating path, so the result no longer depends on the CPU.
"""

from __future__ import annotations

from pathlib import Path

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
