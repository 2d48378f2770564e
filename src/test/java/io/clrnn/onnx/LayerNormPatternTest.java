package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;

import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The nine nodes older exports write for nn.LayerNorm (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div,
 * Mul, Add), which a session runs as one normalisation, against opset 17's LayerNormalization node; and the
 * same nodes with a scale that does not fit the pattern, which then run as written.
 */
class LayerNormPatternTest {
    private static final Device device = TestDevice.shared();

    private static ModelBuilder decomposed(Tensor scale, Tensor bias) {
        return new ModelBuilder(14).input("x", ModelBuilder.FLOAT, -1, -1, 6).output("y", ModelBuilder.FLOAT, -1, -1, 6)
                .initializer("two", Tensor.of(new float[] {2f})).initializer("eps", Tensor.of(new float[] {1e-3f}))
                .initializer("w", scale).initializer("b", bias)
                .node("ReduceMean", List.of("x"), List.of("mean"), ModelBuilder.ints("axes", -1))
                .node("Sub", List.of("x", "mean"), List.of("d"))
                .node("Pow", List.of("d", "two"), List.of("p"))
                .node("ReduceMean", List.of("p"), List.of("var"), ModelBuilder.ints("axes", -1))
                .node("Add", List.of("var", "eps"), List.of("ve"))
                .node("Sqrt", List.of("ve"), List.of("s"))
                .node("Div", List.of("d", "s"), List.of("n"))
                .node("Mul", List.of("n", "w"), List.of("m"))
                .node("Add", List.of("m", "b"), List.of("y"));
    }

    private static Tensor layerNormalization(Tensor x, Tensor scale, Tensor bias) {
        ModelBuilder m = new ModelBuilder(17).input("x", ModelBuilder.FLOAT, -1, -1, 6)
                .output("y", ModelBuilder.FLOAT, -1, -1, 6).initializer("w", scale).initializer("b", bias)
                .node("LayerNormalization", List.of("x", "w", "b"), List.of("y"), ModelBuilder.attr("epsilon", 1e-3f));
        try (OnnxSession s = OnnxModel.load(m.bytes(), "ln.onnx").open(device)) {
            return s.run(Map.of("x", x)).get("y");
        }
    }

    private static void assertMatches(Tensor scale, Tensor bias, String what) {
        Tensor x = Tensor.randn(4, 3, 5, 6);
        try (OnnxSession s = OnnxModel.load(decomposed(scale, bias).bytes(), "pattern.onnx").open(device)) {
            for (int run = 0; run < 2; run++) {
                assertClose(layerNormalization(x, scale, bias), s.run(Map.of("x", x)).get("y"), 1e-5, 1e-4,
                        what + ", run " + run);
            }
        }
    }

    @Test
    void runsAsOneNormalisation() {
        assertMatches(Tensor.randn(1, 6), Tensor.randn(2, 6), "a scale and bias per feature");
    }

    @Test
    void aScaleThatDoesNotFitRunsNodeByNode() {
        assertMatches(Tensor.of(new float[] {1.5f}, 1), Tensor.randn(2, 6), "one scale for every feature");
    }
}
