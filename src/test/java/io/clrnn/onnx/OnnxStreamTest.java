package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.TimeSlices;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole networks fed a chunk at a time ({@link OnnxStream}): the torch exports of scripts/networks.py, each input
 * cut into chunks of 1, 3, 7 steps and the rest, against torch's outputs for the whole input: a network with an
 * output per step (the char LM, the event detector) gives those steps chunk by chunk; one that reads the last state
 * (the sentiment classifier, the forecaster) gives the whole input's answer after the last chunk. A graph whose
 * outputs depend on the steps to come is refused, naming the node.
 */
class OnnxStreamTest {
    private static final Device device = TestDevice.shared();

    static List<NetworkExportTest.Case> cases() throws IOException {
        return NetworkExportTest.cases().toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void chunksGiveWhatTheWholeInputGives(NetworkExportTest.Case c) throws IOException {
        OnnxModel model = OnnxModel.load(c.dir().resolve("model.onnx"));
        String network = c.name().substring(0, c.name().lastIndexOf("_op"));
        boolean timeMajor = network.equals("charlm");
        boolean perStep = network.equals("charlm") || network.equals("events");
        try (OnnxSession session = model.open(device)) {
            if (network.equals("tagger")) {
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> session.stream(2));
                assertTrue(e.getMessage().matches(".*model\\.onnx: node '.*' \\(GRU\\) runs "
                        + "bidirectional: its outputs depend on the steps to come, so the graph cannot be fed a chunk "
                        + "at a time"), e.getMessage());
                return;
            }
            for (int k = 0; k < c.runs(); k++) {
                Path xPath = c.dir().resolve("x_" + k + ".npy");
                Tensor x = c.tokens() ? floatsOf(Npy.readIntArray(xPath)) : Npy.read(xPath);
                Tensor expected = Npy.read(c.dir().resolve("y_" + k + ".npy"));
                int seq = x.size(timeMajor ? 0 : 1);
                int batch = x.size(timeMajor ? 1 : 0);
                try (OnnxStream stream = session.stream(batch)) {
                    Tensor out = perStep ? Tensor.zeros(expected.shape()) : null;
                    Tensor last = null;
                    int from = 0;
                    for (int len : new int[] {1, 3, 7, Integer.MAX_VALUE}) {
                        int to = (int) Math.min(seq, (long) from + len);
                        if (from >= to) {
                            break;
                        }
                        last = run(stream, c.tokens(), chunk(x, timeMajor, from, to)).get("y");
                        if (perStep) {
                            TimeSlices.put(last.rank() == 3 ? last : last.reshape(last.shape()[0], to - from, 1), out,
                                    !timeMajor, from);
                        }
                        from = to;
                    }
                    assertClose(expected, perStep ? out : last, 1e-4, 1e-4, c.name() + " run " + k + " in chunks");
                    // the stream goes on from where it is; reset starts it again
                    stream.reset();
                    Tensor again = run(stream, c.tokens(), x).get("y");
                    assertClose(expected, again, 1e-4, 1e-4, c.name() + " run " + k + " whole, after reset");
                }
            }
        }
    }

    private static Map<String, Tensor> run(OnnxStream stream, boolean tokens, Tensor x) {
        if (!tokens) {
            return stream.run(Map.of("x", x));
        }
        long[] ids = new long[x.numel()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (long) x.data()[i];
        }
        return stream.run(Map.of(), Map.of("x", IntTensor.of(ids, x.shape())));
    }

    /** Token ids as floats, so that one slicing serves ids and features alike (ids are small integers). */
    private static Tensor floatsOf(Npy.IntArray ids) {
        float[] f = new float[ids.data().length];
        for (int i = 0; i < f.length; i++) {
            f[i] = ids.data()[i];
        }
        return Tensor.of(f, ids.shape());
    }

    /** Steps [from, to) of a 2-D (ids) or 3-D (features) input. */
    private static Tensor chunk(Tensor x, boolean timeMajor, int from, int to) {
        if (x.rank() == 3) {
            return TimeSlices.steps(x, !timeMajor, from, to);
        }
        Tensor y = TimeSlices.steps(x.reshape(x.size(0), x.size(1), 1), !timeMajor, from, to);
        return y.reshape(y.size(0), y.size(1));
    }

    /** An LSTM, its Y squeezed to (seq, batch, H), then {@code op} over {@code axes}. */
    private static OnnxModel reduced(String op, long axis) {
        int h = 3;
        return OnnxModel.load(new ModelBuilder(13).input("X", ModelBuilder.FLOAT, 4, 2, 5)
                .initializer("W", Tensor.randn(1, 1, 4 * h, 5)).initializer("R", Tensor.randn(2, 1, 4 * h, h))
                .initializer("axes1", IntTensor.of(new long[] {1}, 1), ModelBuilder.INT64)
                .node("LSTM", List.of("X", "W", "R"), List.of("Y"), ModelBuilder.attr("hidden_size", (long) h))
                .node("Squeeze", List.of("Y", "axes1"), List.of("Ys"))
                .node("Relu", List.of("Ys"), List.of("Yr"))
                .node("Transpose", List.of("Yr"), List.of("Yt"), ModelBuilder.ints("perm", 1, 0, 2))
                .node(op, List.of("Yt"), List.of("out"), op.startsWith("Reduce")
                        ? ModelBuilder.ints("axes", axis) : ModelBuilder.attr("axis", axis))
                .output("out", ModelBuilder.FLOAT, 2, 4).bytes(), "reduced.onnx");
    }

    /** clrnn inspect says whether a graph can be streamed, and if not, which node stops it. */
    @Test
    void describeSaysWhetherTheGraphStreams() throws IOException {
        String charlm = OnnxModel.load(NetworkExportTest.ROOT.resolve("charlm_op14/model.onnx")).describe();
        assertTrue(charlm.endsWith("\nstreaming: yes: a chunk at a time, every recurrent node's state kept on the "
                + "device (OnnxSession.stream, clrnn generate, clrnn serve's sequences)\n"), charlm);
        String tagger = OnnxModel.load(NetworkExportTest.ROOT.resolve("tagger_op14/model.onnx")).describe();
        assertTrue(tagger.matches("(?s).*\nstreaming: no: node '.*' \\(GRU\\) runs bidirectional: its outputs "
                + "depend on the steps to come, so the graph cannot be fed a chunk at a time\n"), tagger);
        assertEquals("reduced.onnx: node 'ReduceMean_4' (ReduceMean) reduces over the time axis: its output depends "
                + "on the steps to come, so the graph cannot be fed a chunk at a time",
                reduced("ReduceMean", 1).streamRefusal());
    }

    @Test
    void aGraphThatReducesOverTimeIsRefusedAndOneThatReducesFeaturesIsNot() {
        for (String op : List.of("ReduceMean", "ReduceMax", "Softmax", "ArgMax")) {
            try (OnnxSession s = reduced(op, 1).open(device)) {
                assertEquals("reduced.onnx: node '" + op + "_4' (" + op + ") reduces over the time axis: "
                        + "its output depends on the steps to come, so the graph cannot be fed a chunk at a time",
                        assertThrows(InvalidInputException.class, () -> s.stream(2)).getMessage());
            }
            try (OnnxSession s = reduced(op, -1).open(device); OnnxStream stream = s.stream(2)) {
                assertEquals(2, stream.batch());
            }
        }
    }

    @Test
    void statesCanBeReadAndResetPerStreamAndMisuseIsRefused() throws IOException {
        NetworkExportTest.Case c = cases().stream().filter(k -> k.name().equals("charlm_op17")).findFirst().orElseThrow();
        OnnxModel model = OnnxModel.load(c.dir().resolve("model.onnx"));
        try (OnnxSession session = model.open(device); OnnxStream stream = session.stream(2)) {
            String node = model.recurrent.keySet().iterator().next().name;
            assertNull(stream.hidden(node), "no state before the first chunk");
            Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
            Map<String, Tensor> first = run(stream, true, ids);
            Tensor h = stream.hidden(node);
            assertNotNull(stream.cell(node));
            assertEquals(3, h.rank());
            stream.reset(1);
            Tensor after = stream.hidden(node);
            int width = h.size(2);
            assertClose(Tensor.of(Arrays.copyOf(h.data(), width), 1, 1, width),
                    Tensor.of(Arrays.copyOf(after.data(), width), 1, 1, width), 0, 0, "stream 0 untouched");
            assertClose(Tensor.zeros(1, 1, width), Tensor.of(Arrays.copyOfRange(after.data(), width, 2 * width), 1, 1,
                    width), 0, 0, "stream 1 reset");
            assertEquals("row 2 is not a stream here: it holds 2 (rows 0..1)",
                    assertThrows(InvalidInputException.class, () -> stream.reset(2)).getMessage());
            InvalidInputException wrongBatch = assertThrows(InvalidInputException.class,
                    () -> run(stream, true, Tensor.of(new float[] {1, 2, 3}, 1, 3)));
            assertTrue(wrongBatch.getMessage().endsWith("X has batch 3, but the stream holds 2 sequences"),
                    wrongBatch.getMessage());
            assertEquals("the graph has no recurrent node 'nope'",
                    assertThrows(InvalidInputException.class, () -> stream.hidden("nope")).getMessage());
            assertEquals("a stream holds 1 or more sequences, not 0",
                    assertThrows(InvalidInputException.class, () -> session.stream(0)).getMessage());
            assertEquals(first.keySet(), session.run(Map.of(), Map.of("x", IntTensor.of(new long[] {1, 2}, 1, 2)))
                    .keySet(), "whole runs go on beside a stream");
        }
    }

    /** A first chunk's h_0 given to an exported model with state inputs is where the stream starts. */
    @Test
    void aGraphsInitialStateInputsStartTheStream() {
        int h = 4;
        OnnxModel model = OnnxModel.load(new ModelBuilder(14).input("X", ModelBuilder.FLOAT, -1, 2, 3)
                .input("H0", ModelBuilder.FLOAT, 1, 2, h)
                .initializer("W", Tensor.randn(1, 1, 3 * h, 3)).initializer("R", Tensor.randn(2, 1, 3 * h, h))
                .node("GRU", List.of("X", "W", "R", "", "", "H0"), List.of("Y", "Y_h"),
                        ModelBuilder.attr("hidden_size", (long) h))
                .output("Y", ModelBuilder.FLOAT, -1, 1, 2, h).bytes(), "gru.onnx");
        Tensor x = Tensor.randn(3, 6, 2, 3);
        Tensor h0 = Tensor.randn(4, 1, 2, h);
        try (OnnxSession session = model.open(device); OnnxStream stream = session.stream(2)) {
            Tensor whole = session.run(Map.of("X", x, "H0", h0)).get("Y");
            Tensor a = stream.run(Map.of("X", TimeSlices.steps(x, false, 0, 2), "H0", h0)).get("Y");
            // H0 is read on the first chunk only: zeros now change nothing
            Tensor b = stream.run(Map.of("X", TimeSlices.steps(x, false, 2, 6), "H0", Tensor.zeros(1, 2, h))).get("Y");
            float[] both = new float[whole.numel()];
            System.arraycopy(a.data(), 0, both, 0, a.numel());
            System.arraycopy(b.data(), 0, both, a.numel(), b.numel());
            assertClose(whole, Tensor.of(both, whole.shape()), 1e-5, 0, "Y in two chunks");
        }
    }
}
