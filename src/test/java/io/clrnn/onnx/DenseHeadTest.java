package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;

import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Dense heads (MatMul or Gemm on a constant weight, with a following Add of a bias and an activation folded into
 * one launch) against the same graphs with the weight and bias given as graph inputs, which run operator by
 * operator (each checked by ONNX's node tests): sizes that are no multiple of the 4 x 8 tile.
 */
class DenseHeadTest {
    private static final Device device = TestDevice.shared();
    private static final int M = 7;
    private static final int K = 11;
    private static final int N = 13;

    /** The graph twice: weights as initializers (fused), and as inputs (not). */
    private static void assertSameAsUnfused(String what, int[] aShape, Tensor w, Tensor bias,
            java.util.function.BiConsumer<ModelBuilder, Boolean> nodes, int... outShape) {
        Tensor a = Tensor.randn(3, aShape);
        Map<String, Tensor> results = new HashMap<>();
        for (boolean constant : new boolean[] {true, false}) {
            ModelBuilder m = new ModelBuilder(17).input("A", ModelBuilder.FLOAT, aShape).output("Y", ModelBuilder.FLOAT,
                    outShape);
            Map<String, Tensor> feed = new HashMap<>(Map.of("A", a));
            if (constant) {
                m.initializer("W", w).initializer("bias", bias);
            } else {
                m.input("W", ModelBuilder.FLOAT, w.shape()).input("bias", ModelBuilder.FLOAT, bias.shape());
                feed.put("W", w);
                feed.put("bias", bias);
            }
            nodes.accept(m, constant);
            try (OnnxSession s = OnnxModel.load(m.bytes(), what).open(device)) {
                results.put(constant ? "fused" : "unfused", s.run(feed).get("Y"));
                if (constant) { // and a second run on the same packed weight
                    assertClose(results.get("fused"), s.run(feed).get("Y"), 0, 0, what + ": second run");
                }
            }
        }
        assertClose(results.get("unfused"), results.get("fused"), 1e-5, 1e-5, what);
    }

    @Test
    void gemmWithAlphaBetaAndBias() {
        assertSameAsUnfused("Gemm alpha beta", new int[] {M, K}, Tensor.randn(5, K, N), Tensor.randn(6, N),
                (m, c) -> m.node("Gemm", List.of("A", "W", "bias"), List.of("Y"), ModelBuilder.attr("alpha", 0.5f),
                        ModelBuilder.attr("beta", 2f)), M, N);
    }

    @Test
    void manyTilesEachWayWithRaggedEdges() {
        // 37 rows: several tiles of rows and a partial one; 40 columns: two of 16 and a partial one
        assertSameAsUnfused("MatMul 37 x 19 x 40, Add", new int[] {37, 19}, Tensor.randn(5, 19, 40), Tensor.randn(6, 40),
                (m, c) -> m.node("MatMul", List.of("A", "W"), List.of("P"))
                        .node("Add", List.of("P", "bias"), List.of("Y")), 37, 40);
    }

    @Test
    void gemmTransposedWeightAndRowBiasThenTanh() {
        assertSameAsUnfused("Gemm transB, C [1, N], Tanh", new int[] {M, K}, Tensor.randn(5, N, K),
                Tensor.randn(6, 1, N), (m, c) -> m.node("Gemm", List.of("A", "W", "bias"), List.of("G"),
                        ModelBuilder.attr("transB", 1L)).node("Tanh", List.of("G"), List.of("Y")), M, N);
    }

    @Test
    void matmulOnBatchedRowsWithBiasAndLeakyRelu() {
        assertSameAsUnfused("MatMul 3-D, Add, LeakyRelu", new int[] {2, 3, K}, Tensor.randn(5, K, N),
                Tensor.randn(6, N), (m, c) -> m.node("MatMul", List.of("A", "W"), List.of("P"))
                        .node("Add", List.of("bias", "P"), List.of("Q"))
                        .node("LeakyRelu", List.of("Q"), List.of("Y"), ModelBuilder.attr("alpha", 0.2f)), 2, 3, N);
    }

    @Test
    void matmulWhoseProductIsReadTwiceKeepsItsAdd() {
        // P is read by the Add and by the Mul: the Add cannot be folded into the product
        assertSameAsUnfused("MatMul read twice", new int[] {M, K}, Tensor.randn(5, K, N), Tensor.randn(6, N),
                (m, c) -> m.node("MatMul", List.of("A", "W"), List.of("P"))
                        .node("Add", List.of("P", "bias"), List.of("Q"))
                        .node("Mul", List.of("P", "Q"), List.of("Y")), M, N);
    }
}
