package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import io.clrnn.onnx.proto.ModelProto;
import io.clrnn.onnx.proto.TensorProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * ONNX's own backend node tests for RNN, GRU and LSTM, as Debian's libonnx-testdata installs them (scripts/setup
 * installs it): each a model.onnx with test_data_set_0/input_N.pb and output_N.pb, TensorProto files. The one-jar
 * test bundle carries a copy (scripts/test-bundle puts them under onnx-node/), for machines without the package.
 */
public final class OnnxTestData {
    public static final Path INSTALLED = Path.of("/usr/share/libonnx-testdata/data/node");

    /** The twelve recurrent cases ONNX 1.12 ships. */
    public static final List<String> CASES = List.of(
            "test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias", "test_simple_rnn_batchwise",
            "test_rnn_seq_length",
            "test_gru_defaults", "test_gru_with_initial_bias", "test_gru_seq_length", "test_gru_batchwise",
            "test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes", "test_lstm_batchwise");

    /** Node tests written at opsets 1 and 6, before the first clrnn runs (7): refused at load, as any such model. */
    static final List<String> OLD_OPSETS = List.of("test_elu", "test_elu_default", "test_elu_example", "test_softplus",
            "test_softplus_example");

    /**
     * ONNX's node tests for the operators around the recurrent core, every one of them ONNX 1.12 ships for those
     * operators but the ones on types clrnn keeps as float32 or does not read (double, string, float16 casts)
     * and training-mode dropout.
     */
    public static final List<String> OPERATOR_CASES = operatorCases();

    private static List<String> operatorCases() {
        List<String> prefixes = List.of("test_add", "test_sub", "test_mul", "test_div", "test_pow", "test_relu",
                "test_tanh", "test_sigmoid", "test_leakyrelu", "test_elu", "test_erf", "test_softplus", "test_clip",
                "test_neg", "test_exp", "test_log", "test_sqrt", "test_gemm", "test_matmul_", "test_softmax",
                "test_logsoftmax", "test_layer_normalization", "test_reduce_mean", "test_reduce_sum",
                "test_reduce_max", "test_gather_", "test_dropout_default", "test_identity", "test_flatten",
                "test_argmax", "test_where", "test_equal", "test_transpose", "test_slice", "test_concat",
                "test_expand", "test_squeeze", "test_unsqueeze", "test_reshape", "test_shape", "test_size",
                "test_constantofshape", "test_identity", "test_cast_FLOAT", "test_gelu", "test_abs",
                "test_reciprocal", "test_reduce_min", "test_argmin");
        try (Stream<Path> dirs = Files.list(root())) {
            return dirs.map(p -> p.getFileName().toString())
                    .filter(n -> prefixes.stream().anyMatch(n::startsWith))
                    .filter(n -> !n.startsWith("test_gather_elements") // GatherElements: another operator
                            && !n.equals("test_identity_opt") && !n.equals("test_identity_sequence") // not tensors
                            && !OLD_OPSETS.contains(n)
                            // strings are no tensor clrnn reads; bfloat16 results are stored as raw uint16
                            && !n.equals("test_cast_FLOAT_to_STRING") && !n.equals("test_cast_FLOAT_to_BFLOAT16"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private OnnxTestData() {}

    /** A named tensor of a test case: a float Tensor or an IntTensor. */
    public record Named(String name, Tensor floats, IntTensor ints) {
        public boolean isInt() {
            return ints != null;
        }
    }

    public record Case(String name, Path model, List<Named> inputs, List<Named> outputs) {
        /** The float inputs by name, for {@link OnnxSession#run(java.util.Map, java.util.Map)}. */
        public java.util.Map<String, Tensor> floatInputs() {
            java.util.Map<String, Tensor> m = new java.util.HashMap<>();
            inputs.stream().filter(n -> !n.isInt()).forEach(n -> m.put(n.name(), n.floats()));
            return m;
        }

        /** The integer inputs by name. */
        public java.util.Map<String, IntTensor> intInputs() {
            java.util.Map<String, IntTensor> m = new java.util.HashMap<>();
            inputs.stream().filter(Named::isInt).forEach(n -> m.put(n.name(), n.ints()));
            return m;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Where the cases are: the installed package, else the bundle's copy; never skipped when neither is there. */
    public static Path root() {
        if (Files.isDirectory(INSTALLED)) {
            return INSTALLED;
        }
        if (OnnxTestData.class.getResource("/onnx-node") != null) {
            return io.clrnn.TestResources.path("onnx-node");
        }
        throw new IllegalStateException(INSTALLED + " is missing: install Debian's libonnx-testdata (scripts/setup "
                + "does: apt-get install libonnx-testdata)");
    }

    public static Case load(String name) {
        Path dir = root().resolve(name);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(dir + " is missing from ONNX's node tests");
        }
        Path data = dir.resolve("test_data_set_0");
        try {
            ModelProto model = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
            List<Named> inputs = new ArrayList<>();
            for (int i = 0; Files.exists(data.resolve("input_" + i + ".pb")); i++) {
                inputs.add(readTensor(data.resolve("input_" + i + ".pb"), model.getGraph().getInput(i).getName()));
            }
            List<Named> outputs = new ArrayList<>();
            for (int i = 0; Files.exists(data.resolve("output_" + i + ".pb")); i++) {
                outputs.add(readTensor(data.resolve("output_" + i + ".pb"), model.getGraph().getOutput(i).getName()));
            }
            return new Case(name, dir.resolve("model.onnx"), inputs, outputs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Stream<Case> all() {
        return CASES.stream().map(OnnxTestData::load);
    }

    /** A TensorProto file, named as the graph names it (the file's own name field may be empty). */
    public static Named readTensor(Path pb, String name) throws IOException {
        Value v = TensorData.decode(TensorProto.parseFrom(Files.readAllBytes(pb)), null, pb.getFileName().toString(),
                "tensor");
        return v instanceof Value.Floats f ? new Named(name, f.tensor(), null)
                : new Named(name, null, ((Value.Ints) v).tensor());
    }
}
