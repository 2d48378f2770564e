package io.clrnn.engine;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.TestDevice;
import io.clrnn.TimeSlices;
import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.engine.KernelVariantsTest.Case;
import io.clrnn.engine.KernelVariantsTest.Forced;
import io.clrnn.model.Direction;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A stream's state kept on the device between forwards ({@link StateBuffers}), for every cell and every forced
 * recurrence variant: a unidirectional module fed its sequences in chunks of 1, 3, 7 and the rest gives what the
 * whole sequences give (outputs and final states), with ragged lengths (so some streams sit out some chunks,
 * keeping their state); a reverse or bidirectional one gives, chunk by chunk, what a forward from the last chunk's h_n
 * gives. From host arrays and from device buffers (as a graph runs it) alike.
 */
class StreamingTest {
    private static final Device device = TestDevice.shared();
    private static final double TOL = 1e-5;
    private static final int[] CHUNKS = {1, 3, 7};

    static Stream<Arguments> variants() {
        List<Arguments> all = new ArrayList<>();
        for (Case c : KernelVariantsTest.CASES) {
            for (KernelPlanner.Variant v : KernelPlanner.Variant.values()) {
                if (v == KernelPlanner.Variant.ROWS_FUSED && KernelPlanner.twoPhase(c.config())) {
                    continue;
                }
                all.add(Arguments.of(c, new Forced(v, false)));
            }
        }
        return all.stream();
    }

    /** [from, to) of each chunk: 1, 3, 7 steps, then the rest. */
    static List<int[]> chunks(int seq) {
        List<int[]> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; from < seq; i++) {
            int len = i < CHUNKS.length ? CHUNKS[i] : seq - from;
            out.add(new int[] {from, Math.min(seq, from + len)});
            from += len;
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("variants")
    void chunkedFeedingContinuesEachStream(Case c, Forced forced) {
        RnnConfig config = c.config();
        RnnWeights weights = RnnWeights.init(config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            Engines.force(engine, forced.variant(), false);
            boolean forward = config.direction() == Direction.FORWARD;
            RnnInput whole = KernelVariantsTest.input(c, forward);
            if (forward) {
                RnnOutput expected = engine.forward(Forward.of(config, whole), null);
                try (StateBuffers state = StateBuffers.of(device, config, c.batch(), whole.h0(), whole.c0())) {
                    Tensor out = Tensor.zeros(expected.output().shape());
                    for (int[] chunk : chunks(c.seq())) {
                        RnnInput part = RnnInput.of(TimeSlices.steps(whole.x(), config.batchFirst(), chunk[0], chunk[1]))
                                .lengths(chunkLengths(c.lengths(), chunk));
                        Forward shape = Forward.ofStream(config, part, c.batch());
                        Tensor y = Tensor.zeros(shape.outputShape());
                        engine.forward(shape, new HostIo(y, null, null, state), null);
                        TimeSlices.put(y, out, config.batchFirst(), chunk[0]);
                    }
                    assertClose(expected.output(), out, TOL, 0, "outputs of the chunks");
                    assertClose(expected.hidden(), state.hidden(), TOL, 0, "h after the last chunk");
                    if (config.mode().hasCellState()) {
                        assertClose(expected.cell(), state.cell(), TOL, 0, "c after the last chunk");
                    } else {
                        assertNull(state.cell());
                    }
                }
            } else {
                // A direction that walks backwards sees the future: each chunk is a forward of its own from the last
                // chunk's final states, torch's out, h = rnn(x, h).
                Tensor h = whole.h0();
                Tensor cell = whole.c0();
                try (StateBuffers state = StateBuffers.of(device, config, c.batch(), h, cell)) {
                    for (int[] chunk : chunks(c.seq())) {
                        Tensor x = TimeSlices.steps(whole.x(), config.batchFirst(), chunk[0], chunk[1]);
                        RnnInput carried = RnnInput.of(x).h0(h).c0(cell);
                        RnnOutput expected = engine.forward(Forward.of(config, carried), null);
                        Forward shape = Forward.ofStream(config, RnnInput.of(x), c.batch());
                        Tensor y = Tensor.zeros(shape.outputShape());
                        engine.forward(shape, new HostIo(y, null, null, state), null);
                        assertClose(expected.output(), y, TOL, 0, "chunk from " + chunk[0]);
                        assertClose(expected.hidden(), state.hidden(), TOL, 0, "h after the chunk from " + chunk[0]);
                        h = expected.hidden();
                        cell = expected.cell();
                    }
                }
            }
        }
    }

    /** As a graph's recurrent node runs it: X from and Y, h_n, c_n into device buffers, the state carried too. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("timeMajorUnidirectional")
    void chunkedFeedingFromDeviceBuffers(Case c) {
        RnnConfig config = c.config();
        RnnWeights weights = RnnWeights.init(config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            RnnInput whole = KernelVariantsTest.input(c, false);
            RnnOutput expected = engine.forward(Forward.of(config, whole), null);
            try (StateBuffers state = StateBuffers.of(device, config, c.batch(), whole.h0(), whole.c0())) {
                Tensor out = Tensor.zeros(expected.output().shape());
                RnnOutput last = null;
                for (int[] chunk : chunks(c.seq())) {
                    RnnInput part = RnnInput.of(TimeSlices.steps(whole.x(), false, chunk[0], chunk[1]));
                    last = DeviceForward.run(device, engine, Forward.ofStream(config, part, c.batch()), state);
                    TimeSlices.put(last.output(), out, false, chunk[0]);
                }
                assertClose(expected.output(), out, TOL, 0, "outputs of the chunks");
                assertClose(expected.hidden(), last.hidden(), TOL, 0, "the last chunk's h_n");
                assertClose(expected.hidden(), state.hidden(), TOL, 0, "the state's h");
                if (config.mode().hasCellState()) {
                    assertClose(expected.cell(), state.cell(), TOL, 0, "the state's c");
                }
            }
        }
    }

    static Stream<Case> timeMajorUnidirectional() {
        return KernelVariantsTest.CASES.stream()
                .filter(c -> c.config().direction() == Direction.FORWARD && !c.config().batchFirst());
    }

    /**
     * A team that gives up reruns the chunk from the state as it was: the state is written only by the run that
     * counts. On host arrays and from device buffers alike.
     */
    @ParameterizedTest(name = "from device buffers: {0}")
    @ValueSource(booleans = {false, true})
    void aTeamThatGivesUpLeavesTheStateForTheRerun(boolean onDevice) {
        Case c = KernelVariantsTest.CASES.stream().filter(k -> k.name().startsWith("gru T7")).findFirst().orElseThrow();
        RnnConfig config = c.config().withBatchFirst(false);
        RnnWeights weights = RnnWeights.init(config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights, WeightsDtype.F32)) {
            RnnInput whole = RnnInput.of(Tensor.randn(5, c.seq(), c.batch(), config.inputSize()));
            RnnOutput expected = engine.forward(Forward.of(config, whole), null);
            Engines.force(engine, KernelPlanner.Variant.TEAM, false);
            Engines.items(engine, 4 * device.info().computeUnits());
            try (StateBuffers state = StateBuffers.zeros(device, config, c.batch())) {
                Tensor out = Tensor.zeros(expected.output().shape());
                for (int[] chunk : chunks(c.seq())) {
                    RnnInput part = RnnInput.of(TimeSlices.steps(whole.x(), false, chunk[0], chunk[1]));
                    Forward shape = Forward.ofStream(config, part, c.batch());
                    Tensor y;
                    if (onDevice) {
                        y = DeviceForward.run(device, engine, shape, state).output();
                    } else {
                        y = Tensor.zeros(shape.outputShape());
                        engine.forward(shape, new HostIo(y, null, null, state), null);
                    }
                    TimeSlices.put(y, out, false, chunk[0]);
                }
                assertClose(expected.output(), out, TOL, 0, "outputs of the chunks");
                assertClose(expected.hidden(), state.hidden(), TOL, 0, "h after the last chunk");
            }
        }
    }

    /** A batch too large for the device's buffers runs in slices, each slice's streams carried on alike. */
    @Test
    void aStreamRunInSlicesOfTheBatchCarriesEverySlice() {
        Case c = KernelVariantsTest.CASES.stream().filter(k -> k.name().startsWith("lstm T5")).findFirst()
                .orElseThrow();
        RnnConfig config = c.config().withBidirectional(false);
        RnnWeights weights = RnnWeights.init(config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            RnnInput whole = RnnInput.of(Tensor.randn(5, c.seq(), c.batch(), config.inputSize())).lengths(c.lengths());
            RnnOutput expected = engine.forward(Forward.of(config, whole), null);
            Engines.limitMemory(engine, Engines.largestBuffer(engine, c.seq(), 3), Long.MAX_VALUE);
            try (StateBuffers state = StateBuffers.zeros(device, config, c.batch())) {
                Tensor out = Tensor.zeros(expected.output().shape());
                for (int[] chunk : chunks(c.seq())) {
                    RnnInput part = RnnInput.of(TimeSlices.steps(whole.x(), false, chunk[0], chunk[1]))
                            .lengths(chunkLengths(c.lengths(), chunk));
                    Forward shape = Forward.ofStream(config, part, c.batch());
                    Tensor y = Tensor.zeros(shape.outputShape());
                    engine.forward(shape, new HostIo(y, null, null, state), null);
                    TimeSlices.put(y, out, false, chunk[0]);
                }
                assertClose(expected.output(), out, TOL, 0, "outputs of the chunks");
                assertClose(expected.hidden(), state.hidden(), TOL, 0, "h after the last chunk");
                assertClose(expected.cell(), state.cell(), TOL, 0, "c after the last chunk");
            }
        }
    }

    @Test
    void resetZeroesOneStreamAndCopyBranchesThemAll() {
        RnnConfig config = KernelVariantsTest.CASES.get(3).config(); // LSTM with proj_size, 2 layers, bidirectional
        int batch = 5;
        int slots = config.numLayers() * config.numDirections();
        Tensor h0 = Tensor.randn(3, slots, batch, config.outputSize());
        Tensor c0 = Tensor.randn(4, slots, batch, config.hiddenSize());
        try (StateBuffers state = StateBuffers.of(device, config, batch, h0, c0)) {
            assertClose(h0, state.hidden(), 0, 0, "h as given");
            assertClose(c0, state.cell(), 0, 0, "c as given");
            try (StateBuffers copy = state.copy()) {
                state.reset(2);
                assertClose(h0, copy.hidden(), 0, 0, "the copy keeps its values");
                Tensor h = state.hidden();
                Tensor cell = state.cell();
                for (int s = 0; s < slots; s++) {
                    for (int b = 0; b < batch; b++) {
                        for (int k = 0; k < config.outputSize(); k++) {
                            int i = (s * batch + b) * config.outputSize() + k;
                            assertEquals(b == 2 ? 0f : h0.data()[i], h.data()[i], "h[" + s + ", " + b + ", " + k + "]");
                        }
                        for (int k = 0; k < config.hiddenSize(); k++) {
                            int i = (s * batch + b) * config.hiddenSize() + k;
                            assertEquals(b == 2 ? 0f : c0.data()[i], cell.data()[i], "c[" + s + ", " + b + ", " + k + "]");
                        }
                    }
                }
                state.reset();
                assertClose(Tensor.zeros(slots, batch, config.outputSize()), state.hidden(), 0, 0, "h after reset");
                assertClose(c0, copy.cell(), 0, 0, "the copy's c");
            }
        }
    }

    static int[] chunkLengths(int[] lengths, int[] chunk) {
        int[] out = new int[lengths.length];
        for (int b = 0; b < lengths.length; b++) {
            out[b] = Math.max(0, Math.min(lengths[b], chunk[1]) - chunk[0]);
        }
        return out;
    }
}
