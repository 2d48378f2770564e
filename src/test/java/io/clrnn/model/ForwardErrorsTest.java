package io.clrnn.model;

import io.clrnn.TestDevice;
import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shapes that torch.nn.RNN refuses, refused with its exact words by the OpenCL module, by the Java
 * reference and by Forward alone; and the odd shapes it accepts (batch 0, unbatched).
 */
class ForwardErrorsTest {
    private static final Map<String, RnnConfig> MODULES = new LinkedHashMap<>();

    static {
        MODULES.put("RNN(128, 64)", RnnConfig.of(128, 64));
        MODULES.put("RNN(128, 64, num_layers=2, bidirectional=True)",
                RnnConfig.of(128, 64).withLayers(2).withBidirectional(true));
        MODULES.put("RNN(3, 5, bidirectional=True)", RnnConfig.of(3, 5).withBidirectional(true));
        MODULES.put("RNN(128, 64, batch_first=True)",
                RnnConfig.of(128, 64).withBatchFirst(true));
    }

    private static Device device;
    private static final Map<String, Rnn> RNNS = new LinkedHashMap<>();
    private static final Map<String, RnnWeights> WEIGHTS = new LinkedHashMap<>();

    @BeforeAll
    static void open() {
        device = TestDevice.shared();
        MODULES.forEach((name, config) -> {
            RnnWeights w = RnnWeights.init(config, name.hashCode());
            assertEquals(name, config.toString());
            WEIGHTS.put(name, w);
            RNNS.put(name, Rnn.create(device, w));
        });
    }

    @AfterAll
    static void close() {
        RNNS.values().forEach(Rnn::close);
    }

    private static int[] s(int... shape) {
        return shape;
    }

    private static Arguments refused(String module, int[] x, int[] h0, String message) {
        return Arguments.of(module, x, h0, message);
    }

    static Stream<Arguments> refusals() {
        String m = "RNN(128, 64)";
        String bi2 = "RNN(128, 64, num_layers=2, bidirectional=True)";
        String small = "RNN(3, 5, bidirectional=True)";
        String bf = "RNN(128, 64, batch_first=True)";
        String inputSize = "input.size(-1) must be equal to input_size. Expected 128, got 7";
        return Stream.of(
                // 7 in each dimension of the input in turn: seq 7 is fine, batch 7 no longer fits h0, features 7 never fit
                refused(m, s(5, 4, 7), null, inputSize),
                refused(m, s(5, 4, 7), s(1, 4, 64), inputSize),
                refused(m, s(5, 7, 128), s(1, 4, 64), "Expected hidden size (1, 7, 64), got [1, 4, 64]"),
                refused(bi2, s(5, 4, 7), null, inputSize),
                refused(bi2, s(5, 7, 128), s(4, 4, 64), "Expected hidden size (4, 7, 64), got [4, 4, 64]"),
                refused(bf, s(4, 5, 7), null, inputSize),
                refused(bf, s(7, 5, 128), s(1, 4, 64), "Expected hidden size (1, 7, 64), got [1, 4, 64]"),
                refused(m, s(5, 7), null, inputSize),
                // 7 in each dimension of h0 in turn
                refused(m, s(5, 4, 128), s(7, 4, 64), "Expected hidden size (1, 4, 64), got [7, 4, 64]"),
                refused(m, s(5, 4, 128), s(1, 7, 64), "Expected hidden size (1, 4, 64), got [1, 7, 64]"),
                refused(m, s(5, 4, 128), s(1, 4, 7), "Expected hidden size (1, 4, 64), got [1, 4, 7]"),
                refused(bi2, s(5, 4, 128), s(7, 4, 64), "Expected hidden size (4, 4, 64), got [7, 4, 64]"),
                refused(bi2, s(5, 4, 128), s(4, 7, 64), "Expected hidden size (4, 4, 64), got [4, 7, 64]"),
                refused(bi2, s(5, 4, 128), s(4, 4, 7), "Expected hidden size (4, 4, 64), got [4, 4, 7]"),
                refused(small, s(5, 4, 3), s(7, 4, 5), "Expected hidden size (2, 4, 5), got [7, 4, 5]"),
                refused(small, s(5, 4, 3), s(2, 7, 5), "Expected hidden size (2, 4, 5), got [2, 7, 5]"),
                refused(small, s(5, 4, 3), s(2, 4, 7), "Expected hidden size (2, 4, 5), got [2, 4, 7]"),
                refused(bf, s(4, 5, 128), s(1, 7, 64), "Expected hidden size (1, 4, 64), got [1, 7, 64]"),
                // unbatched h0 is checked as PyTorch checks it, after unsqueezing a batch of 1
                refused(m, s(5, 128), s(7, 64), "Expected hidden size (1, 1, 64), got [7, 1, 64]"),
                refused(m, s(5, 128), s(1, 7), "Expected hidden size (1, 1, 64), got [1, 1, 7]"),
                refused(bi2, s(5, 128), s(7, 64), "Expected hidden size (4, 1, 64), got [7, 1, 64]"),
                // ranks
                refused(m, s(1, 5, 4, 128), null, "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
                refused(m, s(128), null, "RNN: Expected input to be 2D or 3D, got 1D tensor instead"),
                refused(m, s(), null, "RNN: Expected input to be 2D or 3D, got 0D tensor instead"),
                refused(m, s(1, 5, 4, 7), s(1, 4), "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
                refused(m, s(5, 4, 128), s(4, 64), "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
                refused(m, s(5, 4, 128), s(1, 1, 4, 64),
                        "For batched 3-D input, hx should also be 3-D but got 4-D tensor"),
                refused(m, s(5, 4, 7), s(4, 64), "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
                refused(m, s(5, 128), s(1, 1, 64), "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
                refused(bf, s(5, 128), s(1, 1, 64), "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
                // empty sequences
                refused(m, s(0, 4, 128), null, "Expected sequence length to be larger than 0 in RNN"),
                refused(m, s(0, 4, 128), s(1, 4, 64), "Expected sequence length to be larger than 0 in RNN"),
                refused(bf, s(4, 0, 128), null, "Expected sequence length to be larger than 0 in RNN"),
                refused(m, s(0, 128), null, "Expected sequence length to be larger than 0 in RNN"),
                refused(m, s(0, 0, 128), null, "Expected sequence length to be larger than 0 in RNN"),
                // PyTorch checks h0's size in Python before the kernel finds the sequence empty
                refused(m, s(0, 4, 128), s(1, 7, 64), "Expected hidden size (1, 4, 64), got [1, 7, 64]"),
                refused(m, s(0, 4, 7), null, inputSize));
    }

    @ParameterizedTest(name = "{0} x{1} h0{2}")
    @MethodSource("refusals")
    void openClModuleRefuses(String module, int[] x, int[] h0, String message) {
        Tensor h = h0 == null ? null : Tensor.zeros(h0);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> RNNS.get(module).forward(Tensor.zeros(x), h));
        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest(name = "{0} x{1} h0{2}")
    @MethodSource("refusals")
    void referenceRefuses(String module, int[] x, int[] h0, String message) {
        Tensor h = h0 == null ? null : Tensor.zeros(h0);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ReferenceRnn.forward(WEIGHTS.get(module), Tensor.zeros(x), h));
        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest(name = "{0} x{1} h0{2}")
    @MethodSource("refusals")
    void forwardShapeRefuses(String module, int[] x, int[] h0, String message) {
        Tensor h = h0 == null ? null : Tensor.zeros(h0);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Forward.of(MODULES.get(module), RnnInput.of(Tensor.zeros(x)).h0(h)));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aRefusalLeavesTheModuleUsable() {
        Rnn rnn = RNNS.get("RNN(128, 64)");
        assertThrows(InvalidInputException.class, () -> rnn.forward(Tensor.zeros(5, 4, 7)));
        Tensor x = random(new SplittableRandom(3), 5, 4, 128);
        RnnOutput expected = ReferenceRnn.forward(WEIGHTS.get("RNN(128, 64)"), x, null);
        RnnOutput actual = rnn.forward(x);
        assertClose(expected.output(), actual.output(), "out");
        assertClose(expected.hidden(), actual.hidden(), "h_n");
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                Arguments.of("RNN(128, 64)", s(7, 4, 128), s(1, 4, 64), s(7, 4, 64), s(1, 4, 64)),
                Arguments.of("RNN(128, 64)", s(7, 7, 128), s(1, 7, 64), s(7, 7, 64), s(1, 7, 64)),
                Arguments.of("RNN(128, 64, num_layers=2, bidirectional=True)", s(7, 4, 128), null,
                        s(7, 4, 128), s(4, 4, 64)),
                Arguments.of("RNN(128, 64, batch_first=True)", s(4, 7, 128), s(1, 4, 64), s(4, 7, 64), s(1, 4, 64)),
                Arguments.of("RNN(128, 64, batch_first=True)", s(7, 128), s(1, 64), s(7, 64), s(1, 64)),
                Arguments.of("RNN(3, 5, bidirectional=True)", s(7, 3), null, s(7, 10), s(2, 5)));
    }

    @ParameterizedTest(name = "{0} x{1} h0{2}")
    @MethodSource("accepted")
    void acceptedShapesGiveTheRightOutputShapes(String module, int[] x, int[] h0, int[] out, int[] hn) {
        SplittableRandom random = new SplittableRandom(x.length * 31L + x[0]);
        Tensor input = random(random, x);
        Tensor h = h0 == null ? null : random(random, h0);
        RnnOutput y = RNNS.get(module).forward(input, h);
        assertArrayEquals(out, y.output().shape(), "out");
        assertArrayEquals(hn, y.hidden().shape(), "h_n");
        RnnOutput expected = ReferenceRnn.forward(WEIGHTS.get(module), input, h);
        assertClose(expected.output(), y.output(), "out");
        assertClose(expected.hidden(), y.hidden(), "h_n");
    }

    static Stream<Arguments> emptyBatches() {
        return Stream.of(
                Arguments.of("RNN(128, 64)", s(5, 0, 128), null, s(5, 0, 64), s(1, 0, 64)),
                Arguments.of("RNN(128, 64)", s(5, 0, 128), s(1, 0, 64), s(5, 0, 64), s(1, 0, 64)),
                Arguments.of("RNN(128, 64, num_layers=2, bidirectional=True)", s(3, 0, 128), null,
                        s(3, 0, 128), s(4, 0, 64)),
                Arguments.of("RNN(128, 64, batch_first=True)", s(0, 5, 128), null, s(0, 5, 64), s(1, 0, 64)));
    }

    @ParameterizedTest(name = "{0} x{1} h0{2}")
    @MethodSource("emptyBatches")
    void batchZeroGivesEmptyOutputsAsPyTorchDoes(String module, int[] x, int[] h0, int[] out, int[] hn) {
        Tensor h = h0 == null ? null : Tensor.zeros(h0);
        for (RnnOutput y : List.of(RNNS.get(module).forward(Tensor.zeros(x), h),
                ReferenceRnn.forward(WEIGHTS.get(module), Tensor.zeros(x), h))) {
            assertArrayEquals(out, y.output().shape(), "out");
            assertArrayEquals(hn, y.hidden().shape(), "h_n");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("moduleNames")
    void unbatchedMatchesBatchOfOneSqueezed(String module) {
        RnnConfig config = MODULES.get(module);
        int states = config.numLayers() * config.numDirections();
        int seq = 6;
        SplittableRandom random = new SplittableRandom(module.length());
        Tensor x2 = random(random, seq, config.inputSize());
        Tensor h2 = random(random, states, config.hiddenSize());
        // batch_first or not, a batch of one holds the same numbers in the same order
        int[] batchedShape = config.batchFirst() ? s(1, seq, config.inputSize()) : s(seq, 1, config.inputSize());
        Tensor x3 = x2.reshape(batchedShape);
        Tensor h3 = h2.reshape(states, 1, config.hiddenSize());
        Rnn rnn = RNNS.get(module);
        RnnOutput unbatched = rnn.forward(x2, h2);
        RnnOutput batched = rnn.forward(x3, h3);
        int width = config.numDirections() * config.hiddenSize();
        assertArrayEquals(s(seq, width), unbatched.output().shape());
        assertArrayEquals(s(states, config.hiddenSize()), unbatched.hidden().shape());
        assertClose(batched.output().reshape(seq, width), unbatched.output(), "out");
        assertClose(batched.hidden().reshape(states, config.hiddenSize()), unbatched.hidden(), "h_n");
        RnnOutput reference = ReferenceRnn.forward(WEIGHTS.get(module), x2, h2);
        assertClose(reference.output(), unbatched.output(), "reference out");
        assertClose(reference.hidden(), unbatched.hidden(), "reference h_n");
        // and without h0, zeros
        assertClose(rnn.forward(x3).output().reshape(seq, width), rnn.forward(x2).output(), "out, no h0");
    }

    static Stream<String> moduleNames() {
        return MODULES.keySet().stream();
    }

    private static Tensor random(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }

    /** LSTM's two states and the lengths, in PyTorch's words (pack_padded_sequence's for lengths). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cellAndLengthRefusals")
    void cellStatesAndLengthsAreCheckedAsPyTorchChecksThem(String what, RnnConfig config, RnnInput in, String message) {
        try (Rnn rnn = Rnn.create(device, RnnWeights.init(config, 1))) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> rnn.forward(in));
            assertEquals(message, e.getMessage(), what);
            assertEquals(message, assertThrows(InvalidInputException.class,
                    () -> ReferenceRnn.forward(rnn.weights(), in)).getMessage(), what + ", reference");
        }
    }

    static Stream<Arguments> cellAndLengthRefusals() {
        RnnConfig lstm = RnnConfig.of(io.clrnn.model.CellType.LSTM, 3, 5).withLayers(2);
        RnnConfig proj = lstm.withProjSize(2);
        RnnConfig gru = RnnConfig.of(io.clrnn.model.CellType.GRU, 3, 5);
        Tensor x = Tensor.zeros(4, 3, 3);
        return Stream.of(
                Arguments.of("h_0 of the wrong batch", lstm, RnnInput.of(x).h0(Tensor.zeros(2, 4, 5)).c0(Tensor.zeros(2, 3, 5)),
                        "Expected hidden[0] size (2, 3, 5), got [2, 4, 5]"),
                Arguments.of("c_0 of the wrong batch", lstm, RnnInput.of(x).h0(Tensor.zeros(2, 3, 5)).c0(Tensor.zeros(2, 4, 5)),
                        "Expected hidden[1] size (2, 3, 5), got [2, 4, 5]"),
                Arguments.of("proj_size: h_0 is proj_size wide, c_0 hidden_size", proj,
                        RnnInput.of(x).h0(Tensor.zeros(2, 3, 5)).c0(Tensor.zeros(2, 3, 5)),
                        "Expected hidden[0] size (2, 3, 2), got [2, 3, 5]"),
                Arguments.of("h_0 alone", lstm, RnnInput.of(x).h0(Tensor.zeros(2, 3, 5)),
                        "LSTM takes h_0 and c_0 together, or neither; got only h_0"),
                Arguments.of("unbatched with 3-D states", lstm, RnnInput.of(Tensor.zeros(4, 3))
                        .h0(Tensor.zeros(2, 3, 5)).c0(Tensor.zeros(2, 3, 5)),
                        "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors"),
                Arguments.of("c_0 for a GRU", gru, RnnInput.of(x).c0(Tensor.zeros(1, 3, 5)),
                        "c_0 is given, but GRU has no cell state"),
                Arguments.of("too few lengths", gru, RnnInput.of(x).lengths(4, 2),
                        "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)"),
                Arguments.of("a zero length", gru, RnnInput.of(x).lengths(4, 0, 2),
                        "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"),
                Arguments.of("a length past T", gru, RnnInput.of(x).lengths(4, 5, 2),
                        "lengths[1] is 5, longer than the input's sequence length 4"),
                Arguments.of("lengths with unbatched input", gru, RnnInput.of(Tensor.zeros(4, 3)).lengths(4),
                        "lengths are for batched (3-D) input; unbatched input is one sequence: cut it to its length instead"));
    }
}
