package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The public streaming API: {@link Rnn#newState}, {@link Rnn#forward(RnnInput, RnnState)} and {@link RnnState}.
 * A module fed a sequence a chunk at a time (1, 3, 7 steps, then the rest) gives what it gives fed whole, for
 * every cell, layers, proj_size, batch_first and unbatched input; misuse is refused in one line.
 */
class RnnStateTest {
    private static final Device device = TestDevice.shared();

    static Stream<RnnConfig> modules() {
        return Stream.of(RnnConfig.of(6, 9), RnnConfig.of(CellType.RNN_RELU, 6, 9).withLayers(2),
                RnnConfig.of(CellType.LSTM, 6, 11).withLayers(2).withProjSize(4).withBatchFirst(true),
                RnnConfig.of(CellType.LSTM, 5, 16), RnnConfig.of(CellType.GRU, 7, 10).withLayers(3),
                RnnConfig.of(CellType.GRU, 7, 33).withBatchFirst(true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void feedingChunksEqualsFeedingTheWholeSequence(RnnConfig config) {
        int seq = 17;
        int batch = 3;
        Tensor x = Tensor.randn(1, config.batchFirst() ? new int[] {batch, seq, config.inputSize()}
                : new int[] {seq, batch, config.inputSize()});
        int slots = config.numLayers() * config.numDirections();
        Tensor h0 = Tensor.randn(2, slots, batch, config.outputSize());
        Tensor c0 = config.mode().hasCellState() ? Tensor.randn(3, slots, batch, config.hiddenSize()) : null;
        try (Rnn rnn = Rnn.create(device, RnnWeights.init(config, 4))) {
            RnnOutput whole = rnn.forward(x, h0, c0);
            try (RnnState state = rnn.newState(h0, c0)) {
                Tensor out = Tensor.zeros(whole.output().shape());
                int from = 0;
                for (int len : new int[] {1, 3, 7, seq - 11}) {
                    Tensor y = rnn.forward(TimeSlices.steps(x, config.batchFirst(), from, from + len), state);
                    TimeSlices.put(y, out, config.batchFirst(), from);
                    from += len;
                }
                assertClose(whole.output(), out, 1e-5, 0, "outputs");
                assertClose(whole.hidden(), state.hidden(), 1e-5, 0, "h");
                if (c0 != null) {
                    assertClose(whole.cell(), state.cell(), 1e-5, 0, "c");
                }
            }
        }
    }

    @Test
    void unbatchedInputIsOneStream() {
        RnnConfig config = RnnConfig.of(CellType.LSTM, 4, 6);
        Tensor x = Tensor.randn(1, 5, 4);
        try (Rnn rnn = Rnn.create(device, RnnWeights.init(config, 4)); RnnState state = rnn.newState(1)) {
            RnnOutput whole = rnn.forward(x);
            Tensor first = rnn.forward(Tensor.of(java.util.Arrays.copyOfRange(x.data(), 0, 8), 2, 4), state);
            Tensor rest = rnn.forward(Tensor.of(java.util.Arrays.copyOfRange(x.data(), 8, 20), 3, 4), state);
            assertEquals(2, first.rank());
            float[] both = new float[30];
            System.arraycopy(first.data(), 0, both, 0, 12);
            System.arraycopy(rest.data(), 0, both, 12, 18);
            assertClose(whole.output(), Tensor.of(both, 5, 6), 1e-5, 0, "outputs");
            assertClose(whole.hidden(), state.hidden().reshape(1, 6), 1e-5, 0, "h");
        }
    }

    /** Threads sharing one module, each with its own stream: every stream comes out as if it ran alone. */
    @Test
    void streamsOfOneModuleOnManyThreadsStayApart() throws Exception {
        RnnConfig config = RnnConfig.of(CellType.GRU, 5, 12);
        try (Rnn rnn = Rnn.create(device, RnnWeights.init(config, 4))) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> runs = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    int seed = i;
                    runs.add(pool.submit(() -> {
                        Tensor x = Tensor.randn(seed, 12, 2, 5);
                        RnnOutput whole = rnn.forward(x);
                        try (RnnState state = rnn.newState(2)) {
                            for (int t = 0; t < 12; t += 4) {
                                rnn.forward(TimeSlices.steps(x, false, t, t + 4), state);
                            }
                            assertClose(whole.hidden(), state.hidden(), 1e-5, 0, "stream " + seed);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : runs) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void misuseIsRefusedInOneLine() {
        RnnConfig config = RnnConfig.of(CellType.LSTM, 4, 6);
        try (Rnn rnn = Rnn.create(device, RnnWeights.init(config, 4));
             Rnn other = Rnn.create(device, RnnWeights.init(config, 5));
             RnnState state = rnn.newState(2)) {
            Tensor x = Tensor.randn(1, 3, 2, 4);
            assertEquals("the state holds 2 sequences, the input 3",
                    assertThrows(InvalidInputException.class, () -> rnn.forward(Tensor.randn(1, 3, 3, 4), state))
                            .getMessage());
            assertEquals("h_0 and c_0 come from the state when one is given; start a state from them instead "
                    + "(newState(h0, c0))", assertThrows(InvalidInputException.class,
                    () -> rnn.forward(RnnInput.of(x).h0(Tensor.zeros(1, 2, 6)).c0(Tensor.zeros(1, 2, 6)), state))
                    .getMessage());
            assertEquals("this state belongs to another module (LSTM(4, 6)); make one with this module's newState",
                    assertThrows(InvalidInputException.class, () -> other.forward(x, state)).getMessage());
            assertEquals("lengths[1] is -1; a stream's lengths are 0 (no new steps) to 3", assertThrows(
                    InvalidInputException.class, () -> rnn.forward(RnnInput.of(x).lengths(3, -1), state)).getMessage());
            assertEquals("row 2 is not a stream of this state: it holds 2 (rows 0..1)",
                    assertThrows(InvalidInputException.class, () -> state.reset(2)).getMessage());
            assertEquals("a state holds 1 or more streams, not 0",
                    assertThrows(InvalidInputException.class, () -> rnn.newState(0)).getMessage());
            assertEquals("Expected c_0 size (1, 2, 6), got [1, 3, 6]", assertThrows(InvalidInputException.class,
                    () -> rnn.newState(Tensor.zeros(1, 2, 6), Tensor.zeros(1, 3, 6))).getMessage());
            assertEquals("LSTM takes h_0 and c_0 together; got only h_0", assertThrows(InvalidInputException.class,
                    () -> rnn.newState(Tensor.zeros(1, 2, 6), null)).getMessage());
            assertEquals("input.size(-1) must be equal to input_size. Expected 4, got 5", assertThrows(
                    InvalidInputException.class, () -> rnn.forward(Tensor.randn(1, 3, 2, 5), state)).getMessage());
            // a stream with no new steps keeps its state; the others go on
            rnn.forward(x, state);
            Tensor before = state.hidden();
            Tensor y = rnn.forward(RnnInput.of(x).lengths(0, 2), state);
            Tensor after = state.hidden();
            for (int k = 0; k < 6; k++) {
                assertEquals(before.data()[k], after.data()[k], "stream 0 sat out");
                assertEquals(0f, y.data()[k], "stream 0's output at step 0");
            }
            RnnState copy = state.copy();
            copy.close();
            copy.close();
            assertEquals("this state is closed", assertThrows(IllegalStateException.class, copy::hidden).getMessage());
        }
    }
}
