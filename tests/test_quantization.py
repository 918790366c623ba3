"""training/quantization.py: int8 ONNX models that lose little and give the same numbers on every x86 CPU.

- the uint8 rewrite is exact: a quantised model gives identical outputs before and after it;
- every shipped int8 model has been rewritten (no MatMulInteger reads int8 weights), so no CPU
  without VNNI computes them with saturating u8 x s8 sums;
- a row-scaled table keeps every row to within half a step of its own scale, where one scale for
  the whole table rounds a small row away; the shipped reader reads no float table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))
from quantization import quantize, row_scaled_tables, unsigned_weights  # noqa: E402

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


def float_tables(path: Path) -> list[str]:
    """The 2-D float initializers of rows (not a column of row scales) that a Gather reads."""
    model = onnx.load(str(path))
    tables = {t.name for t in model.graph.initializer
              if t.data_type == onnx.TensorProto.FLOAT and len(t.dims) == 2 and t.dims[1] > 1}
    return [node.input[0] for node in model.graph.node if node.op_type == "Gather" and node.input[0] in tables]


def embedding_model(path: Path, table: np.ndarray) -> None:
    """A model that looks rows of `table` up: ids (int64) -> rows."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph([helper.make_node("Gather", ["table", "x"], ["y"])], "lookup",
                              [helper.make_tensor_value_info("x", TensorProto.INT64, [None])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, table.shape[1]])],
                              [numpy_helper.from_array(table, "table")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


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


def test_row_scaled_tables_keep_small_rows_that_one_scale_rounds_away(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((50, 16)).astype(np.float32)
    table[7] *= 0.001  # a row far smaller than the rest, as a rare word's embedding can be
    fp32, int8, per_tensor = tmp_path / "fp32.onnx", tmp_path / "int8.onnx", tmp_path / "per-tensor.onnx"
    embedding_model(fp32, table)
    ids = np.arange(50, dtype=np.int64)

    quantize(fp32, int8, per_channel=True, row_tables=True)
    quantize(fp32, per_tensor, per_channel=True, row_tables=False)

    assert float_tables(fp32) == ["table"] and float_tables(int8) == []
    rows = run(int8, ids)
    step = np.abs(table).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(rows - table) <= step / 2 + 1e-7)
    small_row_error = np.abs(run(per_tensor, ids)[7] - table[7]).max()
    assert np.abs(rows[7] - table[7]).max() * 100 < small_row_error


def test_a_table_another_node_also_reads_is_left_alone() -> None:
    from onnx import TensorProto, helper, numpy_helper

    table = numpy_helper.from_array(np.ones((8, 8), dtype=np.float32), "t")
    graph = helper.make_graph([helper.make_node("Gather", ["t", "x"], ["y"]), helper.make_node("MatMul", ["y", "t"], ["z"])],
                              "tied", [helper.make_tensor_value_info("x", TensorProto.INT64, [None])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, 8])], [table])
    model = helper.make_model(graph)
    assert row_scaled_tables(model) == 0
    assert [t.name for t in model.graph.initializer] == ["t"]


def test_row_scaled_tables_is_deterministic() -> None:
    from onnx import TensorProto, helper, numpy_helper

    def model() -> object:
        table = numpy_helper.from_array(np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8), "t")
        graph = helper.make_graph([helper.make_node("Gather", ["t", "x"], ["y"])], "g",
                                  [helper.make_tensor_value_info("x", TensorProto.INT64, [None])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8])], [table])
        return helper.make_model(graph)

    a, b = model(), model()
    assert row_scaled_tables(a) == row_scaled_tables(b) == 1
    assert a.SerializeToString() == b.SerializeToString()


def test_the_shipped_reader_scales_each_embedding_row() -> None:
    model = onnx.load(str(MODELS / "reader-int8.onnx"))
    tensors = {t.name: t for t in model.graph.initializer}
    read = [tensors[n.input[0]] for n in model.graph.node if n.op_type == "Gather" and n.input[0] in tensors]
    tables = [t for t in read if t.data_type == onnx.TensorProto.INT8]
    scales = [t for t in read if t.data_type == onnx.TensorProto.FLOAT and t.dims[1:] == [1]]
    assert float_tables(MODELS / "reader-int8.onnx") == []
    assert len(tables) == 3  # word, position and token-type embeddings
    assert sorted(t.dims[0] for t in scales) == sorted(t.dims[0] for t in tables)
