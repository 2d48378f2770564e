package io.clrnn.cli;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.Fixtures;
import io.clrnn.base.Tensor;
import io.clrnn.format.Npy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code clrnn run} against PyTorch's recorded outputs, and how it fails: one line, exit 2, no files touched. */
class RunCommandTest {
    /** tanh/relu, batch_first, bidirectional, unbatched, several layers, with and without h0, the lab's shape. */
    private static final List<String> CASES = List.of(
            "tanh_L1_I3_H5_T4_B2",
            "relu_L1_bi_I7_H4_T3_B4",
            "tanh_L2_bi_bf_h0_I4_H6_T5_B3",
            "relu_L1_nobias_bi_bf_ub_h0_I2_H4_T3",
            "relu_L2_nobias_ub_I5_H3_T4",
            "tanh_L3_nobias_bi_h0_I3_H7_T3_B2",
            "relu_L3_bf_h0_I12_H40_T10_B4",
            "lab_tanh_L1_h0_I128_H64_T5_B4",
            "lab_lstm_L1_h0_I128_H64_T5_B4",
            "lab_gru_L1_h0_I128_H64_T5_B4",
            "lstm_L2_bi_h0_proj_I7_H37_T5_B3",
            "lstm_L1_bi_bf_h0_I5_H6_T6_B5_len3-6-3-1-5",
            "gru_L3_bi_bf_h0_I4_H5_T4_B4_len4-4-4-4",
            "relu_L2_bi_h0_I4_H7_T5_B4_len2-5-1-3");

    /** An RNN(128, 64) state_dict with a (5, 4, 128) input and a (1, 4, 64) h0. */
    private static final Fixtures.Case LAB = fixture("lab_tanh_L1_h0_I128_H64_T5_B4");

    @TempDir Path dir;

    static Stream<Fixtures.Case> cases() {
        return CASES.stream().map(RunCommandTest::fixture);
    }

    private static Fixtures.Case fixture(String name) {
        return Fixtures.all().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no fixture " + name));
    }

    /** The arguments of {@code clrnn run} for a fixture case, writing into {@code out} and {@code hn}. */
    private static List<String> runArgs(Fixtures.Case c, Path out, Path hn) {
        List<String> args = new ArrayList<>(List.of("run",
                "--weights", c.dir().resolve("weights.safetensors").toString(),
                "--input", c.dir().resolve("input.npy").toString(),
                "--out", out.toString(),
                "--mode", c.mode().cliName(),
                "--device", Cli.DEVICE));
        if (c.hasH0()) {
            args.addAll(List.of("--h0", c.dir().resolve("h0.npy").toString()));
            if (c.mode().hasCellState()) {
                args.addAll(List.of("--c0", c.dir().resolve("c0.npy").toString()));
            }
        }
        if (c.hasLengths()) {
            args.addAll(List.of("--lengths", c.dir().resolve("lengths.npy").toString()));
        }
        if (hn != null) {
            args.addAll(List.of("--hn", hn.toString()));
            if (c.mode().hasCellState()) {
                args.addAll(List.of("--cn", hn.resolveSibling("c_n.npy").toString()));
            }
        }
        if (c.options().batchFirst()) {
            args.add("--batch-first");
        }
        return args;
    }

    private static Cli.Result run(List<String> args) {
        return Cli.run(args.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void writesWhatPyTorchComputed(Fixtures.Case c) throws IOException {
        Path out = dir.resolve("out.npy");
        Path hn = dir.resolve("h_n.npy");
        Cli.Result r = run(runArgs(c, out, hn));
        r.assertOk();
        assertEquals("", r.out(), "run prints nothing on stdout");
        assertClose(c.output(), Npy.read(out), c.name() + " out");
        assertClose(c.hn(), Npy.read(hn), c.name() + " h_n");
        if (c.mode().hasCellState()) {
            assertClose(c.cn(), Npy.read(dir.resolve("c_n.npy")), c.name() + " c_n");
            assertEquals(List.of("c_n.npy", "h_n.npy", "out.npy"), Cli.listing(dir), "no temp files left behind");
        } else {
            assertEquals(List.of("h_n.npy", "out.npy"), Cli.listing(dir), "no temp files left behind");
        }
    }

    @Test
    void withoutHnWritesOnlyOut() throws IOException {
        Path out = dir.resolve("out.npy");
        run(runArgs(LAB, out, null)).assertOk();
        assertClose(LAB.output(), Npy.read(out), "out");
        assertEquals(List.of("out.npy"), Cli.listing(dir));
    }

    @Test
    void replacesAnExistingOutputFile() throws IOException {
        Path out = dir.resolve("out.npy");
        Files.writeString(out, "old contents");
        run(runArgs(LAB, out, null)).assertOk();
        assertClose(LAB.output(), Npy.read(out), "out");
    }

    @Test
    void relativePathsResolveAgainstTheWorkingDirectory() throws IOException {
        // The atomic write's temp file must land next to a bare file name too (its parent is null).
        Path out = Path.of("target-clrnn-run-test-" + ProcessHandle.current().pid() + ".npy");
        try {
            run(runArgs(LAB, out, null)).assertOk();
            assertClose(LAB.output(), Npy.read(out), "out");
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void unbatchedRunMatchesBatchOfOne() throws IOException {
        // The lab case's first sequence alone, as (seq, features) and as (seq, 1, features).
        Tensor x = LAB.input().x();
        Tensor h0 = LAB.input().h0();
        int seq = x.size(0);
        int features = x.size(2);
        int batch = x.size(1);
        int hidden = h0.size(2);
        float[] x2 = new float[seq * features];
        for (int t = 0; t < seq; t++) {
            System.arraycopy(x.data(), (t * batch) * features, x2, t * features, features);
        }
        float[] h2 = new float[hidden];
        System.arraycopy(h0.data(), 0, h2, 0, hidden);
        Path w = LAB.dir().resolve("weights.safetensors");
        Npy.write(dir.resolve("x2.npy"), Tensor.of(x2, seq, features));
        Npy.write(dir.resolve("h2.npy"), Tensor.of(h2, 1, hidden));
        Npy.write(dir.resolve("x3.npy"), Tensor.of(x2, seq, 1, features));
        Npy.write(dir.resolve("h3.npy"), Tensor.of(h2, 1, 1, hidden));
        for (String rank : List.of("2", "3")) {
            Cli.run("run", "--weights", w.toString(), "--input", dir.resolve("x" + rank + ".npy").toString(),
                    "--h0", dir.resolve("h" + rank + ".npy").toString(), "--out", dir.resolve("out" + rank + ".npy").toString(),
                    "--hn", dir.resolve("hn" + rank + ".npy").toString(), "--device", Cli.DEVICE).assertOk();
        }
        Tensor out2 = Npy.read(dir.resolve("out2.npy"));
        Tensor hn2 = Npy.read(dir.resolve("hn2.npy"));
        Tensor out3 = Npy.read(dir.resolve("out3.npy"));
        Tensor hn3 = Npy.read(dir.resolve("hn3.npy"));
        assertClose(out3.reshape(seq, hidden), out2, "unbatched out = batch-1 out squeezed");
        assertClose(hn3.reshape(1, hidden), hn2, "unbatched h_n = batch-1 h_n squeezed");
        assertEquals(List.of(seq, hidden), List.of(out2.size(0), out2.size(1)));
    }

    // ---- user mistakes: one line, exit 2, nothing written ----

    @Test
    void missingInputFileIsOneLineNamingIt() {
        Path missing = dir.resolve("no-such-input.npy");
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), dir.resolve("hn.npy"));
        args.set(args.indexOf("--input") + 1, missing.toString());
        String line = run(args).usageError();
        assertTrue(line.contains("no-such-input.npy"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void missingWeightsFileIsOneLineNamingIt() {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--weights") + 1, dir.resolve("nope.safetensors").toString());
        String line = run(args).usageError();
        assertTrue(line.contains("nope.safetensors"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void inputThatIsADirectoryIsOneLine() {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--input") + 1, dir.toString());
        String line = run(args).usageError();
        assertTrue(line.contains(dir.toString()) && line.contains("is a directory"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void outputIntoAMissingDirectoryIsOneLine() {
        Path out = dir.resolve("no-such-dir").resolve("out.npy");
        String line = run(runArgs(LAB, out, null)).usageError();
        assertTrue(line.contains("no-such-dir"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void hnIntoAMissingDirectoryWritesNeitherFile() {
        // Both results or neither: a good --out must not be left behind when --hn cannot be written.
        Path out = dir.resolve("out.npy");
        Path hn = dir.resolve("no-such-dir").resolve("hn.npy");
        String line = run(runArgs(LAB, out, hn)).usageError();
        assertTrue(line.contains("no-such-dir"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void hnIntoAMissingDirectoryLeavesAnExistingOutUnchanged() throws IOException {
        Path out = dir.resolve("out.npy");
        Files.writeString(out, "precious");
        Path hn = dir.resolve("no-such-dir").resolve("hn.npy");
        run(runArgs(LAB, out, hn)).usageError();
        assertEquals("precious", Files.readString(out));
        assertEquals(List.of("out.npy"), Cli.listing(dir));
    }

    @Test
    void hnThatCannotBeWrittenLateRollsBackOut() throws IOException {
        // A name the file system takes but whose temp sibling is too long: fails only at the write,
        // after out.npy is already in place, so out.npy must be taken back.
        Path out = dir.resolve("out.npy");
        Path hn = dir.resolve("h".repeat(245) + ".npy");
        String line = run(runArgs(LAB, out, hn)).usageError();
        assertTrue(line.contains("hhhh"), line);
        assertEquals(List.of(), Cli.listing(dir));

        Files.writeString(out, "precious");
        run(runArgs(LAB, out, hn)).usageError();
        assertEquals("precious", Files.readString(out));
        assertEquals(List.of("out.npy"), Cli.listing(dir));
    }

    @Test
    void failedRunLeavesAnExistingOutFileUnchanged() throws IOException {
        Path out = dir.resolve("out.npy");
        Path hn = dir.resolve("hn.npy");
        Files.writeString(out, "precious out");
        Files.writeString(hn, "precious hn");
        Path x = dir.resolve("x.npy");
        Npy.write(x, Tensor.zeros(5, 4, 7)); // the module wants 128 features
        String before = Cli.sha256(x);
        List<String> args = runArgs(LAB, out, hn);
        args.set(args.indexOf("--input") + 1, x.toString());
        String line = run(args).usageError();
        assertEquals("error: input.size(-1) must be equal to input_size. Expected 128, got 7", line);
        assertEquals("precious out", Files.readString(out));
        assertEquals("precious hn", Files.readString(hn));
        assertEquals(before, Cli.sha256(x));
        assertEquals(List.of("hn.npy", "out.npy", "x.npy"), Cli.listing(dir));
    }

    @Test
    void h0ShapeErrorIsPyTorchsMessage() throws IOException {
        Path h0 = dir.resolve("h0.npy");
        Npy.write(h0, Tensor.zeros(1, 7, 64));
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--h0") + 1, h0.toString());
        assertEquals("error: Expected hidden size (1, 4, 64), got [1, 7, 64]", run(args).usageError());
        assertEquals(List.of("h0.npy"), Cli.listing(dir));
    }

    @Test
    void fourDimensionalInputIsPyTorchsMessage() throws IOException {
        Path x = dir.resolve("x.npy");
        Npy.write(x, Tensor.zeros(1, 5, 4, 128));
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--input") + 1, x.toString());
        assertEquals("error: RNN: Expected input to be 2D or 3D, got 4D tensor instead", run(args).usageError());
    }

    @Test
    void wrongStateDictIsPyTorchsMessage() throws IOException {
        // A bidirectional checkpoint for the lab's input: loads, then refuses the input's h0 size.
        Fixtures.Case bi = fixture("tanh_L1_bi_h0_I128_H64_T5_B4");
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--weights") + 1, bi.dir().resolve("weights.safetensors").toString());
        assertEquals("error: Expected hidden size (2, 4, 64), got [1, 4, 64]", run(args).usageError());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--weights", "--input", "--h0"})
    void outputNamingAnInputIsRefusedWithoutTouchingIt(String option) throws IOException {
        Path copy = dir.resolve("victim");
        Files.copy(LAB.dir().resolve(option.equals("--weights") ? "weights.safetensors"
                : option.equals("--input") ? "input.npy" : "h0.npy"), copy);
        String before = Cli.sha256(copy);
        for (String output : List.of("--out", "--hn")) {
            List<String> args = runArgs(LAB, dir.resolve("out.npy"), dir.resolve("hn.npy"));
            args.set(args.indexOf(option) + 1, copy.toString());
            // the same file, reached by another spelling of its path
            args.set(args.indexOf(output) + 1, dir.resolve(".").resolve("victim").toString());
            String line = run(args).usageError();
            assertTrue(line.contains("victim"), line);
            assertEquals(before, Cli.sha256(copy), option + " changed by " + output);
            assertEquals(List.of("victim"), Cli.listing(dir));
        }
    }

    @Test
    void outAndHnNamingOneFileIsRefused() {
        Path same = dir.resolve("both.npy");
        String line = run(runArgs(LAB, same, same)).usageError();
        assertTrue(line.contains("same file"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    /** The lab's arguments with --nonlinearity VALUE in place of --mode. */
    private List<String> withNonlinearity(String value) {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        int i = args.indexOf("--mode");
        args.set(i, "--nonlinearity");
        args.set(i + 1, value);
        return args;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sigmoid", "", "TANH-ish"})
    void unknownNonlinearityIsOneLine(String value) {
        List<String> args = withNonlinearity(value);
        String line = run(args).usageError();
        assertTrue(line.contains("Select from 'tanh' or 'relu'"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void nonlinearityIsCaseInsensitive() throws IOException {
        List<String> args = withNonlinearity("TANH");
        run(args).assertOk();
        assertClose(LAB.output(), Npy.read(dir.resolve("out.npy")), "out");
    }

    @Test
    void reluChangesTheResult() throws IOException {
        // The state_dict does not record the activation: --nonlinearity must reach the kernels.
        List<String> args = withNonlinearity("relu");
        run(args).assertOk();
        float[] got = Npy.read(dir.resolve("out.npy")).data();
        for (float v : got) {
            assertTrue(v >= 0, "relu output is never negative");
        }
    }

    /** Mistakes of the new options: one line each, exit 2, nothing written. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("optionMistakes")
    void cellAndLengthMistakesAreOneLine(String what, String fixtureName, List<String> extra, String expected)
            throws IOException {
        Fixtures.Case c = fixture(fixtureName);
        Npy.write(dir.resolve("lengths-float.npy"), Tensor.of(new float[] {1, 2, 3, 4}, 4));
        Npy.write(dir.resolve("lengths-2d.npy"), Tensor.of(new float[] {1, 2, 3, 4}, 1, 4));
        Files.write(dir.resolve("lengths-2d-int.npy"), Cli.npyInts(new long[] {1, 2, 3, 4}, 8, "(1, 4)"));
        Files.write(dir.resolve("lengths-3.npy"), Cli.npyInts(new long[] {1, 2, 3}, 8, "(3,)"));
        Files.write(dir.resolve("lengths-long.npy"), Cli.npyInts(new long[] {1, 2, 9, 4}, 8, "(4,)"));
        Files.write(dir.resolve("lengths-zero.npy"), Cli.npyInts(new long[] {1, 0, 3, 4}, 8, "(4,)"));
        List<String> args = runArgs(c, dir.resolve("out.npy"), null);
        // pairs: "--option value" sets or adds it ("@f": a file in the temp dir, "%f": the fixture's); "!--option" drops it
        for (int i = 0; i < extra.size(); i++) {
            String option = extra.get(i);
            int at = args.indexOf(option.replace("!", ""));
            if (option.startsWith("!")) {
                args.remove(at + 1);
                args.remove(at);
                continue;
            }
            String v = extra.get(++i);
            String value = v.startsWith("@") ? dir.resolve(v.substring(1)).toString()
                    : v.startsWith("%") ? c.dir().resolve(v.substring(1)).toString() : v;
            if (at >= 0) {
                args.set(at + 1, value);
            } else {
                args.addAll(List.of(option, value));
            }
        }
        String line = run(args).usageError();
        assertTrue(line.contains(expected), what + ": " + line);
        assertTrue(Cli.listing(dir).stream().noneMatch(f -> f.startsWith("out")), what + " wrote out");
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> optionMistakes() {
        String lab = "lab_tanh_L1_h0_I128_H64_T5_B4";
        String lstm = "lab_lstm_L1_h0_I128_H64_T5_B4";
        String gru = "lab_gru_L1_h0_I128_H64_T5_B4";
        return Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("--c0 for a GRU", gru, List.of("--c0", "%h0.npy"),
                        "--c0 is for an LSTM's cell state, but GRU(128, 64) has none"),
                org.junit.jupiter.params.provider.Arguments.of("--cn for an RNN", lab, List.of("--cn", "@cn.npy"),
                        "--cn is for an LSTM's cell state, but RNN(128, 64) has none"),
                org.junit.jupiter.params.provider.Arguments.of("h_0 without c_0", lstm,
                        List.of("!--c0"), "LSTM takes h_0 and c_0 together, or neither; got only h_0"),
                org.junit.jupiter.params.provider.Arguments.of("mode against the shapes", gru, List.of("--mode", "lstm"),
                        "--mode lstm does not fit the weights"),
                org.junit.jupiter.params.provider.Arguments.of("float lengths", lab, List.of("--lengths", "@lengths-float.npy"),
                        "lengths-float.npy: holds '<f4', not integers"),
                org.junit.jupiter.params.provider.Arguments.of("2-D lengths", lab, List.of("--lengths", "@lengths-2d-int.npy"),
                        "lengths-2d-int.npy: must be a 1-D array, got shape (1, 4)"),
                org.junit.jupiter.params.provider.Arguments.of("too few lengths", lab, List.of("--lengths", "@lengths-3.npy"),
                        "Expected `len(lengths)` to be equal to batch_size, but got 3 (batch_size=4)"),
                org.junit.jupiter.params.provider.Arguments.of("a length past T", lab, List.of("--lengths", "@lengths-long.npy"),
                        "lengths[2] is 9, longer than the input's sequence length 5"),
                org.junit.jupiter.params.provider.Arguments.of("a zero length", lab, List.of("--lengths", "@lengths-zero.npy"),
                        "Length of all samples has to be greater than 0"));
    }

    @Test
    void unknownOptionIsAUsageError() {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.add("--frobnicate");
        String line = run(args).usageError();
        assertTrue(line.contains("--frobnicate"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void missingRequiredOptionIsAUsageError() {
        Cli.Result r = Cli.run("run", "--weights", "w.safetensors", "--input", "x.npy");
        String line = r.usageError();
        assertTrue(line.contains("--out"), line);
        assertEquals(2, r.errLines().size(), "picocli's hint follows: " + r.err());
        assertTrue(r.errLines().get(1).contains("clrnn run --help"), r.err());
    }

    @Test
    void unknownDeviceIsOneLineListingTheDevices() {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--device") + 1, "nonexistent");
        String line = run(args).usageError();
        assertTrue(line.contains("no OpenCL device matches 'nonexistent'"), line);
        assertTrue(line.contains("available: 0 "), line);
        assertEquals(List.of(), Cli.listing(dir));
    }

    @Test
    void verbosePrintsTheStackTraceButKeepsTheExitCode() {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--input") + 1, dir.resolve("missing.npy").toString());
        args.add("--verbose");
        Cli.Result r = run(args);
        assertEquals(Main.EXIT_USAGE, r.code(), r::toString);
        assertTrue(r.err().contains("\tat "), "stack trace expected with --verbose:\n" + r.err());
        assertTrue(r.errLines().get(r.errLines().size() - 1).startsWith("error: "), r.err());
        assertEquals(1, r.errLines().stream().filter(l -> l.startsWith("error: ")).count(), r.err());
    }

    @Test
    void verboseDoesNotLeakIntoTheNextRun() {
        List<String> args = runArgs(LAB, dir.resolve("out.npy"), null);
        args.set(args.indexOf("--input") + 1, dir.resolve("missing.npy").toString());
        List<String> verbose = new ArrayList<>(args);
        verbose.add("-v");
        run(verbose);
        run(args).usageError(); // checks: no stack trace
    }

    @Test
    void outputIsAnNpyThatNumpyWouldWrite() throws IOException {
        Path out = dir.resolve("out.npy");
        run(runArgs(LAB, out, null)).assertOk();
        byte[] bytes = Files.readAllBytes(out);
        String header = new String(bytes, 10, 118, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4, 64), }"), header);
        assertEquals(0, (10 + (bytes[8] & 0xFF)) % 64, "data is 64-byte aligned");
    }
}
