package io.clrnn.cli;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.TestResources;
import io.clrnn.format.Npy;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxModel.Port;
import io.clrnn.onnx.OnnxModel.Role;
import io.clrnn.onnx.OnnxTestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code clrnn run} and {@code clrnn inspect} on ONNX models: ONNX's own node tests and a torch export through the
 * flags a state_dict run takes (--input, --h0, --c0, --lengths feeding the graph inputs that become X, initial_h,
 * initial_c and sequence_lens; --out, --hn, --cn receiving what comes from Y, Y_h and Y_c; --feed for the rest),
 * and the mistakes: one error line, exit 2, nothing written.
 */
class OnnxCliTest {
    @TempDir Path dir;

    static Stream<OnnxTestData.Case> nodeTests() {
        return OnnxTestData.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nodeTests")
    void runsOnnxNodeTests(OnnxTestData.Case c) throws IOException {
        OnnxModel model = OnnxModel.load(c.model());
        List<String> args = new ArrayList<>(List.of("run", "--weights", c.model().toString(), "--device", Cli.DEVICE));
        for (OnnxTestData.Named in : c.inputs()) {
            Path file = dir.resolve("in_" + in.name() + ".npy");
            if (in.isInt()) {
                long[] ints = in.ints().data(); // 1-D int32, as numpy saves np.array(lengths, dtype=np.int32)
                Files.write(file, Cli.npyInts(ints, 4, "(" + ints.length + ",)"));
            } else {
                Npy.write(file, in.floats());
            }
            Port port = model.inputs().stream().filter(p -> p.name().equals(in.name())).findFirst().orElseThrow();
            Role role = port.roles().iterator().next();
            switch (role) {
                case X -> args.addAll(List.of("--input", file.toString()));
                case INITIAL_H -> args.addAll(List.of("--h0", file.toString()));
                case INITIAL_C -> args.addAll(List.of("--c0", file.toString()));
                case SEQUENCE_LENS -> args.addAll(List.of("--lengths", file.toString()));
                default -> args.addAll(List.of("--feed", in.name() + "=" + file));
            }
        }
        Map<String, Path> written = new LinkedHashMap<>();
        for (OnnxTestData.Named out : c.outputs()) {
            Path file = dir.resolve("out_" + out.name() + ".npy");
            Port port = model.outputs().stream().filter(p -> p.name().equals(out.name())).findFirst().orElseThrow();
            String flag = switch (port.roles().iterator().next()) {
                case Y -> "--out";
                case Y_H -> "--hn";
                default -> "--cn";
            };
            args.addAll(List.of(flag, file.toString()));
            written.put(out.name(), file);
        }
        Cli.run(args.toArray(String[]::new)).assertOk();
        for (OnnxTestData.Named expected : c.outputs()) {
            assertClose(expected.floats(), Npy.read(written.get(expected.name())), c.name() + " " + expected.name());
        }
    }

    private static Path export(String name) {
        return TestResources.path("onnx/" + name);
    }

    @Test
    void runsATorchExportWithTheStateDictFlags() throws IOException {
        Path e = export("lstm_L2_bi_bf_h0");
        Path out = dir.resolve("out.npy");
        Path hn = dir.resolve("hn.npy");
        Path cn = dir.resolve("cn.npy");
        Cli.Result r = Cli.run("run", "--weights", e.resolve("model.onnx").toString(),
                "--input", e.resolve("x.npy").toString(), "--h0", e.resolve("h0.npy").toString(),
                "--c0", e.resolve("c0.npy").toString(), "--out", out.toString(), "--hn", hn.toString(),
                "--cn", cn.toString(), "--device", Cli.DEVICE);
        r.assertOk();
        assertTrue(r.err().contains("out [3, 5, 8] -> " + out), r.err());
        assertClose(Npy.read(e.resolve("out.npy")), Npy.read(out), "out");
        assertClose(Npy.read(e.resolve("h_n.npy")), Npy.read(hn), "h_n");
        assertClose(Npy.read(e.resolve("c_n.npy")), Npy.read(cn), "c_n");
    }

    @Test
    void inspectListsInputsOutputsAndRecurrentNodes() {
        Cli.Result r = Cli.run("inspect", export("gru_L2_bi_h0_dyn_op13").resolve("model.onnx").toString());
        r.assertOk();
        assertTrue(r.out().contains("x   float32 [seq, batch, 3]  becomes X"), r.out());
        assertTrue(r.out().contains("h0  float32 [4, batch, 5]  becomes initial_h"), r.out());
        assertTrue(r.out().contains("out  float32 ["), r.out());
        assertTrue(r.out().contains("comes from Y"), r.out());
        assertTrue(r.out().contains("'/GRU_1': GRU(10, 5, bidirectional=True)"), r.out());
    }

    /** As a real process: what inspect prints reaches stdout before the JVM exits. */
    @Test
    void inspectPrintsFromARealProcess() throws Exception {
        Cli.Result r = Cli.runInChildJvm(Map.of(), "inspect", export("rnn_L1").resolve("model.onnx").toString());
        r.assertOk();
        assertTrue(r.out().contains("'/RNN': RNN(3, 4)"), r.toString());
    }

    static Stream<List<String>> mistakes() {
        String lstm = export("lstm_L2_bi_bf_h0").resolve("model.onnx").toString();
        String x = export("lstm_L2_bi_bf_h0").resolve("x.npy").toString();
        String h0 = export("lstm_L2_bi_bf_h0").resolve("h0.npy").toString();
        String c0 = export("lstm_L2_bi_bf_h0").resolve("c0.npy").toString();
        String gru = export("gru_L1").resolve("model.onnx").toString();
        String gx = export("gru_L1").resolve("x.npy").toString();
        return Stream.of(
                List.of("needs input 'h0' (float32 [4, 3, 4], becomes initial_h): give it with --h0",
                        "run", "--weights", lstm, "--input", x, "--c0", c0, "--out", "OUT"),
                List.of("--batch-first is for a state_dict; ", "run", "--weights", lstm, "--input", x, "--h0", h0,
                        "--c0", c0, "--out", "OUT", "--batch-first"),
                List.of("give at least one of --out, --hn, --cn", "run", "--weights", lstm, "--input", x),
                List.of("--cn: no output of the model comes from Y_c", "run", "--weights", gru, "--input", gx,
                        "--cn", "OUT"),
                List.of("--h0: no input of the model becomes initial_h", "run", "--weights", gru, "--input", gx,
                        "--h0", gx, "--out", "OUT"),
                List.of("--feed W: the model has no input 'W'", "run", "--weights", gru, "--input", gx,
                        "--feed", "W=" + gx, "--out", "OUT"),
                List.of("input 'x' has shape [3, 5, 5]; the model takes [5, 3, 3]", "run", "--weights", gru,
                        "--input", x, "--out", "OUT"));
    }

    @ParameterizedTest
    @MethodSource("mistakes")
    void mistakesAreOneLineAndWriteNothing(List<String> expectedAndArgs) {
        List<String> args = new ArrayList<>(expectedAndArgs.subList(1, expectedAndArgs.size()));
        args.replaceAll(a -> a.equals("OUT") ? dir.resolve("out.npy").toString() : a);
        args.addAll(List.of("--device", Cli.DEVICE));
        String line = Cli.run(args.toArray(String[]::new)).usageError();
        assertTrue(line.contains(expectedAndArgs.get(0)), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void feedIsRefusedForAStateDict() throws IOException {
        Path w = dir.resolve("w.safetensors");
        Cli.run("init", "--input-size", "3", "--hidden-size", "4", "--out", w.toString()).assertOk();
        String line = Cli.run("run", "--weights", w.toString(), "--input", export("gru_L1").resolve("x.npy").toString(),
                "--feed", "W=" + w, "--out", dir.resolve("o.npy").toString(), "--device", Cli.DEVICE).usageError();
        assertTrue(line.contains("--feed is for an ONNX model's graph inputs"), line);
    }
}
