package io.clrnn.onnx;

import io.clrnn.Assertions2;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A small graph of every graph kernel (io.clrnn.engine's OclgrindTest runs it on the Oclgrind simulator): those
 * the exported networks do not take (elementwise ops broadcast over up to three merged axes and over four,
 * transposes of four and five axes, a batched MatMul of two run-time operands, reductions) and those they do (an
 * embedding, a dense layer, softmax, layer norm, a transpose of three axes); against ONNX Runtime where it is on
 * the classpath.
 */
public final class OclgrindGraphs {
    private OclgrindGraphs() {}

    static final List<String> OUTPUTS = List.of("tanh_sigmoid_add", "mul_4d", "transpose_4d", "transpose_5d",
            "matmul", "reduce_mean", "reduce_max", "transpose_3d", "softmax", "layer_norm");

    static byte[] model() {
        ModelBuilder b = new ModelBuilder(17)
                .input("X", ModelBuilder.FLOAT, 2, 3, 4, 5)
                .input("Y", ModelBuilder.FLOAT, 2, 3, 5, 4)
                .input("I", ModelBuilder.INT64, 2, 3)
                .initializer("E", Tensor.randn(25, 10, 6))
                .initializer("W", Tensor.randn(26, 6, 5))
                .initializer("Wb", Tensor.randn(27, 5))
                .initializer("G", Tensor.randn(28, 5))
                .initializer("Gb", Tensor.randn(29, 5))
                .initializer("B", Tensor.randn(21, 5))
                .initializer("C", Tensor.randn(22, 2, 1, 4, 1))
                .initializer("S", IntTensor.of(new long[] {2, 3, 2, 2, 5}, 5), ModelBuilder.INT64)
                .node("Tanh", List.of("X"), List.of("t"))
                .node("Sigmoid", List.of("t"), List.of("s"))
                // B over the last axis only: (30, 4, 5) merged, three axes at most
                .node("Add", List.of("s", "B"), List.of("tanh_sigmoid_add"))
                // C over axes 0 and 2: no two neighbours merge, four axes
                .node("Mul", List.of("X", "C"), List.of("mul_4d"))
                .node("Transpose", List.of("X"), List.of("transpose_4d"), ModelBuilder.ints("perm", 0, 2, 1, 3))
                .node("Reshape", List.of("X", "S"), List.of("x5"))
                .node("Transpose", List.of("x5"), List.of("transpose_5d"), ModelBuilder.ints("perm", 4, 3, 2, 1, 0))
                .node("MatMul", List.of("X", "Y"), List.of("matmul"))
                .node("ReduceMean", List.of("X"), List.of("reduce_mean"), ModelBuilder.ints("axes", 2),
                        ModelBuilder.attr("keepdims", 1L))
                .node("ReduceMax", List.of("Y"), List.of("reduce_max"), ModelBuilder.ints("axes", -1),
                        ModelBuilder.attr("keepdims", 0L))
                // what the networks do, for the uninitialized-value pass, which runs no network: an embedding,
                // a dense layer with its bias, softmax, layer norm, a transpose of three axes
                .node("Gather", List.of("E", "I"), List.of("embedded"))
                .node("Transpose", List.of("embedded"), List.of("transpose_3d"), ModelBuilder.ints("perm", 1, 0, 2))
                .node("MatMul", List.of("embedded", "W"), List.of("projected"))
                .node("Add", List.of("projected", "Wb"), List.of("dense"))
                .node("Softmax", List.of("dense"), List.of("softmax"), ModelBuilder.attr("axis", -1L))
                .node("LayerNormalization", List.of("dense", "G", "Gb"), List.of("layer_norm"),
                        ModelBuilder.attr("axis", -1L), ModelBuilder.attr("epsilon", 1e-5f));
        for (String out : OUTPUTS) {
            b.output(out, ModelBuilder.FLOAT, (int[]) null);
        }
        return b.bytes();
    }

    /** Run {@code k} of the exported network {@code name} on {@code session}, as NetworkExportTest checks it. */
    public static void checkNetworkRun(OnnxSession session, String name, int k) throws IOException {
        NetworkExportTest.Case c = NetworkExportTest.cases().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no network fixture " + name));
        NetworkExportTest.checkRun(session, c, k);
    }

    /** Runs the graph on {@code device}; its outputs must equal ONNX Runtime's, when that is on the classpath. */
    public static void run(Device device) {
        byte[] model = model();
        Map<String, Tensor> inputs = Map.of("X", Tensor.randn(23, 2, 3, 4, 5), "Y", Tensor.randn(24, 2, 3, 5, 4));
        Map<String, IntTensor> ids = Map.of("I", IntTensor.of(new long[] {0, 9, 3, -1, 5, 2}, 2, 3));
        Map<String, Tensor> actual;
        try (OnnxSession session = OnnxModel.load(model, "operators.onnx").open(device)) {
            actual = session.run(inputs, ids);
        }
        if (!OrtOracle.available()) {
            return; // the one-jar test bundle: the kernels ran under the simulator, their numbers unchecked
        }
        Map<String, Tensor> expected = Ort.run(model, inputs, ids, List.of("I"));
        for (String out : OUTPUTS) {
            Assertions2.assertClose(expected.get(out), actual.get(out), out);
        }
    }
}
