package io.clrnn.cli;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.Tensor;
import io.clrnn.TestResources;
import io.clrnn.format.Npy;
import io.clrnn.onnx.OnnxTestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole networks and their operators through {@code clrnn run}: token ids or features in with --input, logits out
 * with --out; ONNX's operator node tests with --feed and --output by name; a bad token id refused in one line.
 */
class NetworkCliTest {
    private static final Path NETWORKS = TestResources.path("networks");

    @TempDir Path dir;

    static Stream<String> networks() throws IOException {
        try (Stream<Path> dirs = Files.list(NETWORKS)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void runsExportedNetworks(String name) throws IOException {
        Path model = NETWORKS.resolve(name).resolve("model.onnx");
        Path out = dir.resolve("y.npy");
        Cli.run("run", "--weights", model.toString(), "--input", NETWORKS.resolve(name).resolve("x_0.npy").toString(),
                "--out", out.toString(), "--device", Cli.DEVICE).assertOk();
        assertClose(Npy.read(NETWORKS.resolve(name).resolve("y_0.npy")), Npy.read(out), 1e-4, 1e-4, name);
    }

    @Test
    void refusesATokenIdOutsideTheEmbedding() throws IOException {
        Path model = NETWORKS.resolve("sentiment_op14").resolve("model.onnx");
        Path ids = dir.resolve("ids.npy");
        Files.write(ids, Cli.npyInts(new long[] {1, 2, 100, 4}, 8, "(1, 4)"));
        Path out = dir.resolve("y.npy");
        String line = Cli.run("run", "--weights", model.toString(), "--input", ids.toString(), "--out",
                out.toString(), "--device", Cli.DEVICE).usageError();
        assertTrue(line.contains("index 100 is out of range for axis 0 of size 100"), line);
        assertFalse(Files.exists(out));
    }

    static Stream<OnnxTestData.Case> operatorNodeTests() {
        return OnnxTestData.OPERATOR_CASES.stream().map(OnnxTestData::load);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operatorNodeTests")
    void runsOperatorNodeTests(OnnxTestData.Case c) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--weights", c.model().toString(), "--device", Cli.DEVICE));
        for (int i = 0; i < c.inputs().size(); i++) {
            OnnxTestData.Named in = c.inputs().get(i);
            Path file = dir.resolve("in_" + i + ".npy");
            if (in.isInt()) {
                Files.write(file, Cli.npyInts(in.ints().data(), 8, pyShape(in.ints().shape())));
            } else {
                Npy.write(file, in.floats());
            }
            boolean last = i == c.inputs().size() - 1;
            args.addAll(last ? List.of("--input", file.toString()) : List.of("--feed", in.name() + "=" + file));
        }
        for (int i = 0; i < c.outputs().size(); i++) {
            args.addAll(List.of("--output", c.outputs().get(i).name() + "=" + dir.resolve("out_" + i + ".npy")));
        }
        Cli.run(args.toArray(String[]::new)).assertOk();
        for (int i = 0; i < c.outputs().size(); i++) {
            OnnxTestData.Named expected = c.outputs().get(i);
            Tensor got = Npy.read(dir.resolve("out_" + i + ".npy"));
            if (expected.isInt()) { // written as float32: exact for these small integers
                long[] v = expected.ints().data();
                float[] w = new float[v.length];
                for (int k = 0; k < v.length; k++) {
                    w[k] = v[k];
                }
                assertClose(Tensor.of(w, expected.ints().shape()), got, 0, 0, c.name() + " " + expected.name());
            } else {
                assertClose(expected.floats(), got, c.name() + " " + expected.name());
            }
        }
    }

    private static String pyShape(int[] shape) {
        return shape.length == 1 ? "(" + shape[0] + ",)"
                : Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", ")"));
    }
}
