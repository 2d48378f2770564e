package io.clrnn.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A network's operators given what they cannot take: one line naming the node, refused before anything is
 * allocated for the result, and the session still runs afterwards.
 */
class OperatorErrorsTest {
    private static final Device device = TestDevice.shared();

    private static void assertRefused(ModelBuilder m, Map<String, Tensor> floats, Map<String, IntTensor> ints,
            String fragment, Map<String, Tensor> goodFloats, Map<String, IntTensor> goodInts) {
        try (OnnxSession s = OnnxModel.load(m.bytes(), "bad.onnx").open(device)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> s.run(floats, ints));
            OnnxHostileTest.assertOneLine(e, fragment);
            s.run(goodFloats, goodInts); // nothing left behind
        }
    }

    @Test
    void anEmbeddingIndexOutOfRange() {
        ModelBuilder m = new ModelBuilder(14).input("ids", ModelBuilder.INT64, 1, 3)
                .initializer("table", Tensor.randn(1, 10, 4)).output("y", ModelBuilder.FLOAT, 1, 3, 4)
                .node("Gather", List.of("table", "ids"), List.of("y"));
        assertRefused(m, Map.of(), Map.of("ids", IntTensor.of(new long[] {1, 10, 2}, 1, 3)),
                "node 'Gather_0' (Gather): index 10 is out of range for axis 0 of size 10", Map.of(),
                Map.of("ids", IntTensor.of(new long[] {1, -10, 9}, 1, 3)));
    }

    @Test
    void shapesThatDoNotBroadcast() {
        ModelBuilder m = new ModelBuilder(14).input("a", ModelBuilder.FLOAT, -1, 3).input("b", ModelBuilder.FLOAT, -1)
                .output("y", ModelBuilder.FLOAT, -1, 3).node("Add", List.of("a", "b"), List.of("y"));
        assertRefused(m, Map.of("a", Tensor.randn(1, 2, 3), "b", Tensor.randn(2, 4)), Map.of(),
                "node 'Add_0' (Add): shapes [2, 3] and [4] do not broadcast",
                Map.of("a", Tensor.randn(1, 2, 3), "b", Tensor.randn(2, 3)), Map.of());
    }

    @Test
    void aMatMulWhoseProductWouldBeTooLarge() {
        ModelBuilder m = new ModelBuilder(14).input("a", ModelBuilder.FLOAT, -1, -1)
                .input("b", ModelBuilder.FLOAT, -1, -1).output("y", ModelBuilder.FLOAT, -1, -1)
                .node("MatMul", List.of("a", "b"), List.of("y"));
        assertRefused(m, Map.of("a", Tensor.zeros(1 << 15, 1), "b", Tensor.zeros(1, 1 << 15)), Map.of(),
                "node 'MatMul_0' (MatMul): shape [32768, 32768] has more than 2^28 elements",
                Map.of("a", Tensor.randn(1, 2, 3), "b", Tensor.randn(2, 3, 2)), Map.of());
    }

    @Test
    void aMatMulWhoseSizesDoNotMatch() {
        ModelBuilder m = new ModelBuilder(14).input("a", ModelBuilder.FLOAT, -1, -1)
                .initializer("w", Tensor.randn(3, 5, 2)).output("y", ModelBuilder.FLOAT, -1, 2)
                .node("MatMul", List.of("a", "w"), List.of("y"));
        assertRefused(m, Map.of("a", Tensor.randn(1, 4, 4)), Map.of(),
                "node 'MatMul_0' (MatMul): cannot multiply [4, 4] by [5, 2]: 4 != 5",
                Map.of("a", Tensor.randn(1, 4, 5)), Map.of());
    }

    /** A declared dimension larger than any tensor can have is a fixed size no input has, not a free one. */
    @Test
    void aHugeDeclaredDimensionMatchesNoInput() {
        io.clrnn.onnx.proto.ValueInfoProto huge = io.clrnn.onnx.proto.ValueInfoProto.newBuilder().setName("a")
                .setType(io.clrnn.onnx.proto.TypeProto.newBuilder().setTensorType(io.clrnn.onnx.proto.TypeProto.Tensor
                        .newBuilder().setElemType(ModelBuilder.FLOAT).setShape(io.clrnn.onnx.proto.TensorShapeProto
                                .newBuilder().addDim(io.clrnn.onnx.proto.TensorShapeProto.Dimension.newBuilder()
                                        .setDimValue(1L << 62))))).build();
        ModelBuilder m = new ModelBuilder(14).output("y", ModelBuilder.FLOAT, -1)
                .node("Relu", List.of("a"), List.of("y"));
        byte[] bytes = m.build().toBuilder().setGraph(m.build().getGraph().toBuilder().addInput(huge)).build()
                .toByteArray();
        try (OnnxSession s = OnnxModel.load(bytes, "huge.onnx").open(device)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> s.run(Map.of("a",
                    Tensor.randn(1, 3))));
            OnnxHostileTest.assertOneLine(e, "input 'a' has shape [3]; the model takes [4611686018427387904]");
        }
    }
}
