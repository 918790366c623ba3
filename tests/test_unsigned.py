"""training/unsigned.py: int8 ONNX weights stored as uint8, so every x86 CPU computes the same numbers.

- the rewrite is exact: a quantised model gives identical outputs before and after it;
- every shipped int8 model has been rewritten (no MatMulInteger reads int8 weights), so no CPU
  without VNNI computes them with saturating u8 x s8 sums.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))
from unsigned import unsigned_weights  # noqa: E402

onnx = pytest.importorskip("onnx")
MODELS = ROOT / "qa" / "models"


def matmul_weight_types(path: Path) -> set[int]:
    model = onnx.load(str(path))
    types = {t.name: t.data_type for t in model.graph.initializer}
    return {types[name] for node in model.graph.node if node.op_type == "MatMulInteger"
            for name in node.input[1::2] if name in types}


def run(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_the_rewrite_keeps_every_output_of_a_quantised_model(tmp_path: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((64, 32)).astype(np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 32])], [weight])
    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(fp32))
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    x = (0.1 * rng.standard_normal((5, 64))).astype(np.float32)  # small: no sum can saturate
    before = run(int8, x)
    assert TensorProto.INT8 in matmul_weight_types(int8)

    assert unsigned_weights(int8) > 0
    assert matmul_weight_types(int8) == {TensorProto.UINT8}
    np.testing.assert_array_equal(run(int8, x), before)


@pytest.mark.parametrize("name", ["encoder-int8.onnx", "reader-int8.onnx", "support-int8.onnx"])
def test_shipped_models_keep_no_int8_matmul_weights(name: str) -> None:
    types = matmul_weight_types(MODELS / name)
    assert types == {onnx.TensorProto.UINT8}, f"{name}: MatMulInteger weight types {types}"
