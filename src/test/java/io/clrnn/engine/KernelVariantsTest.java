package io.clrnn.engine;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.clrnn.Assertions2;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.TestDevice;
import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.model.Activation;
import io.clrnn.model.CellOptions;
import io.clrnn.model.CellType;
import io.clrnn.model.Direction;
import io.clrnn.model.Forward;
import io.clrnn.model.ReferenceRnn;
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
 * Every recurrence variant of every cell, with a spread of tiles, forced on the test device, against the
 * Java reference: sizes that are not multiples of any tile, so every edge path runs; sequences of mixed
 * lengths; and each sequence again split into launches of 2 steps.
 */
class KernelVariantsTest {
    private static final Device device = TestDevice.shared();


    /** A module and the input it runs on: (seq, batch) with odd sizes, and mixed lengths. */
    record Case(String name, RnnConfig config, int seq, int batch, int[] lengths) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Activation act(Activation.Function f, float alpha, float beta) {
        return new Activation(f, alpha, beta);
    }

    static final List<Case> CASES = List.of(
            new Case("rnn tanh T4 B3 I7 H5 L2 bi bf", RnnConfig.of(7, 5).withLayers(2).withBidirectional(true)
                    .withBatchFirst(true), 4, 3, new int[] {4, 1, 3}),
            new Case("rnn relu T9 B11 I3 H37", RnnConfig.of(CellType.RNN_RELU, 3, 37), 9, 11,
                    new int[] {9, 9, 1, 5, 2, 8, 7, 9, 3, 4, 6}),
            new Case("lstm T5 B13 I19 H30 L2 bi", RnnConfig.of(CellType.LSTM, 19, 30).withLayers(2)
                    .withBidirectional(true), 5, 13, new int[] {5, 4, 5, 1, 2, 3, 5, 5, 2, 1, 4, 3, 5}),
            new Case("lstm proj T6 B5 I9 H21 P7 L2 bi", RnnConfig.of(CellType.LSTM, 9, 21).withProjSize(7)
                    .withLayers(2).withBidirectional(true), 6, 5, new int[] {2, 6, 1, 6, 4}),
            new Case("gru T7 B6 I11 H19 bf", RnnConfig.of(CellType.GRU, 11, 19).withBatchFirst(true), 7, 6,
                    new int[] {7, 3, 7, 1, 6, 2}),
            new Case("gru lbr0 clip T5 B4 I6 H13 L2 bi", RnnConfig.of(CellType.GRU, 6, 13).withLayers(2)
                    .withBidirectional(true).withCell(new CellOptions(List.of(
                            act(Activation.Function.HARD_SIGMOID, 0.3f, 0.4f), act(Activation.Function.SOFTSIGN, 0, 0),
                            act(Activation.Function.SIGMOID, 0, 0), act(Activation.Function.ELU, 0.7f, 0)),
                            1.5, false, false, false)), 5, 4, new int[] {5, 2, 4, 1}),
            new Case("lstm peepholes input_forget clip reverse T6 B3 I5 H10", RnnConfig.of(CellType.LSTM, 5, 10)
                    .withDirection(Direction.REVERSE).withCell(new CellOptions(List.of(
                            act(Activation.Function.SIGMOID, 0, 0), act(Activation.Function.SCALED_TANH, 1.2f, 0.8f),
                            act(Activation.Function.LEAKY_RELU, 0.1f, 0)), 2.0, true, true, true)), 6, 3,
                    new int[] {3, 6, 2}),
            new Case("rnn thresholded/softplus bi T4 B2 I3 H9", RnnConfig.of(3, 9).withBidirectional(true)
                    .withCell(new CellOptions(List.of(act(Activation.Function.THRESHOLDED_RELU, 0.2f, 0),
                            act(Activation.Function.SOFTPLUS, 0, 0)), Double.POSITIVE_INFINITY, true, false, false)),
                    4, 2, new int[] {1, 4}));

    /**
     * (vecP, tm, nv, vecR, nvR, tb, panels, local projection) tiles, including ones no device would pick;
     * the GPUs' projection tiled in local memory runs on row-major weights.
     */
    static final int[][] TILES = {
            {2, 1, 1, 2, 1, 1, 1, 0},
            {4, 3, 2, 4, 3, 2, 0, 1},
            {16, 5, 1, 8, 2, 4, 1, 0},
            {8, 10, 2, 16, 1, 8, 0, 0},
    };

    /** A forced variant; {@code shared}: rnn_rows fused, 3 items a direction, shared with the calling thread. */
    record Forced(KernelPlanner.Variant variant, boolean localWeights, boolean shared) {
        Forced(KernelPlanner.Variant variant, boolean localWeights) {
            this(variant, localWeights, false);
        }

        @Override
        public String toString() {
            return variant.label() + (localWeights ? " local" : "") + (shared ? " shared" : "");
        }
    }

    static Stream<Arguments> variants() {
        List<Arguments> all = new ArrayList<>();
        List<Forced> forced = List.of(new Forced(KernelPlanner.Variant.ROWS, false),
                new Forced(KernelPlanner.Variant.ROWS_FUSED, false), new Forced(KernelPlanner.Variant.GROUP, false),
                new Forced(KernelPlanner.Variant.GROUP, true), new Forced(KernelPlanner.Variant.STEP, false),
                new Forced(KernelPlanner.Variant.TEAM, false), new Forced(KernelPlanner.Variant.ROWS_FUSED, false, true));
        for (Case c : CASES) {
            for (int[] t : TILES) {
                for (Forced f : forced) {
                    if (f.variant == KernelPlanner.Variant.ROWS_FUSED && KernelPlanner.twoPhase(c.config)) {
                        continue; // the fused projection serves single-phase cells only
                    }
                    all.add(Arguments.of(c, t, f));
                }
            }
        }
        return all.stream();
    }

    static Tiles tiles(int[] t) {
        return new Tiles(t[0], t[1], t[2], t[3], t[4], t[5], t[6] == 1, false, 2, 2, t[7] == 1);
    }

    static RnnInput input(Case c, boolean withLengths) {
        RnnConfig config = c.config;
        int[] xShape = config.batchFirst() ? new int[] {c.batch, c.seq, config.inputSize()}
                : new int[] {c.seq, c.batch, config.inputSize()};
        int states = config.numLayers() * config.numDirections();
        RnnInput in = RnnInput.of(Tensor.randn(11, xShape)).h0(Tensor.randn(13, states, c.batch, config.outputSize()));
        if (config.mode().hasCellState()) {
            in = in.c0(Tensor.randn(17, states, c.batch, config.hiddenSize()));
        }
        return withLengths ? in.lengths(c.lengths) : in;
    }

    /**
     * The variant a forced engine plans: the forced one, but rnn_rows once a forced team gave up three times in a
     * row, as a busy machine may make it (then every forward is still checked, as rnn_rows).
     */
    private static KernelPlanner.Variant planned(Forced forced, RnnEngine engine) {
        return forced.variant == KernelPlanner.Variant.TEAM && engine.team().avoided() ? KernelPlanner.Variant.ROWS
                : forced.variant;
    }

    @ParameterizedTest(name = "{0} tiles {1} {2}")
    @MethodSource("variants")
    void matchesReference(Case c, int[] t, Forced forced) {
        RnnWeights weights = RnnWeights.init(c.config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights, WeightsDtype.F32, tiles(t))) {
            Engines.force(engine, forced.variant, forced.localWeights);
            if (forced.shared) {
                Engines.shared(engine, true);
                Engines.items(engine, 3);
            }
            for (boolean withLengths : new boolean[] {false, true}) {
                RnnInput in = input(c, withLengths);
                Forward shape = Forward.of(c.config, in);
                assertEquals(planned(forced, engine), engine.recurrencePlan(shape).variant());
                assertEquals(forced.shared && device.hasLatencyLane(), engine.recurrencePlan(shape).shared(),
                        "shared with the calling thread");
                RnnOutput expected = ReferenceRnn.forward(weights, in);
                RnnOutput actual = engine.forward(shape, null);
                String what = withLengths ? " with lengths" : "";
                assertClose(expected, actual, Assertions2.REF_ATOL, Assertions2.REF_RTOL, withLengths ? "with lengths" : "");
                // the same sequence split over launches of 2 steps, on the same workspace
                Engines.maxStepsPerLaunch(engine, 2);
                RnnOutput split = engine.forward(shape, null);
                Engines.maxStepsPerLaunch(engine, Integer.MAX_VALUE);
                assertClose(actual.output(), split.output(), 0, 0, "out in 2-step launches" + what);
                assertClose(actual.hidden(), split.hidden(), 0, 0, "h_n in 2-step launches" + what);
                if (!withLengths && !c.config.batchFirst()) {
                    // from and into device buffers, as a graph's recurrent node runs: the same numbers
                    assertClose(actual, DeviceForward.run(device, engine, shape), 0, 0, "from device buffers");
                    assertClose(actual, DeviceForward.run(device, engine, shape, true), 0, 0,
                            "from device buffers, Y batch before direction");
                }
            }
            // A team keeps its place unless it gave up three times in a row: its items did not all run at once,
            // which a busy machine (this VM wakes a sleeping worker thread in up to 16 ms, now and then later than
            // a team waits) may cause; then, and only then, forwards keep to rnn_rows.
            KernelPlanner.Variant after = engine.recurrencePlan(Forward.of(c.config, input(c, true))).variant();
            if (forced.variant == KernelPlanner.Variant.TEAM && engine.team().avoided()) {
                assertEquals(KernelPlanner.Variant.ROWS, after, "after three teams in a row gave up");
            } else {
                assertEquals(forced.variant, after, "a team keeps its place unless it gave up three times in a row");
                assertFalse(engine.team().avoided(), "rows for good, though no team gave up");
            }
        }
    }

    /**
     * A team with more work-items than the device has threads cannot meet at its barrier: its items give
     * up, and the engine runs the forward again with rnn_rows; after three such forwards in a row it keeps
     * to rnn_rows. On host arrays (with lengths) and from and into device buffers (as a graph runs it) alike.
     */
    @ParameterizedTest(name = "from device buffers: {0}")
    @ValueSource(booleans = {false, true})
    void aTeamThatCannotAllRunAtOnceGivesUpAndTheForwardStillComesOutRight(boolean onDevice) {
        Case c = CASES.get(2);
        RnnWeights weights = RnnWeights.init(c.config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            Engines.force(engine, KernelPlanner.Variant.TEAM, false);
            Engines.items(engine, 4 * device.info().computeUnits());
            RnnInput in = input(c, !onDevice);
            Forward shape = Forward.of(c.config, in);
            RnnOutput expected = ReferenceRnn.forward(weights, in);
            for (int i = 1; i <= 3; i++) {
                assertEquals(KernelPlanner.Variant.TEAM, engine.recurrencePlan(shape).variant(), "forward " + i);
                RnnOutput actual = onDevice ? DeviceForward.run(device, engine, shape)
                        : engine.forward(shape, null);
                assertClose(expected, actual, Assertions2.REF_ATOL, Assertions2.REF_RTOL,
                        "forward " + i + ", after the team gave up");
            }
            assertEquals(KernelPlanner.Variant.ROWS, engine.recurrencePlan(shape).variant());
        }
    }

    /** A batch that would need slices is not run from device buffers: the caller takes the host path. */
    @Test
    void aForwardOnDeviceBuffersThatWouldNeedSlicesIsLeftToTheHostPath() {
        Case c = CASES.get(2);
        RnnWeights weights = RnnWeights.init(c.config, 7);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            RnnInput in = input(c, false);
            Forward shape = Forward.of(c.config, in);
            Engines.limitMemory(engine, Engines.largestBuffer(engine, c.seq(), 1), Long.MAX_VALUE);
            assertEquals(null, DeviceForward.run(device, engine, shape));
        }
    }

    /** The weights with the matrices an f16 engine stores as half rounded to half (the peepholes stay float). */
    static RnnWeights halfRounded(RnnWeights weights) {
        java.util.Map<String, Tensor> rounded = new java.util.LinkedHashMap<>();
        weights.stateDict().forEach((name, t) -> {
            float[] r = t.data().clone();
            if (name.startsWith("weight_") && !name.startsWith("weight_peephole")) {
                for (int i = 0; i < r.length; i++) {
                    r[i] = io.clrnn.base.Half.toFloat(io.clrnn.base.Half.fromFloat(r[i]));
                }
            }
            rounded.put(name, Tensor.of(r, t.shape()));
        });
        return RnnWeights.of(weights.config(), rounded);
    }

    static Stream<Arguments> halfVariants() {
        List<Arguments> all = new ArrayList<>();
        for (Case c : CASES) {
            for (KernelPlanner.Variant v : KernelPlanner.Variant.values()) {
                if (v != KernelPlanner.Variant.ROWS_FUSED || !KernelPlanner.twoPhase(c.config)) {
                    all.add(Arguments.of(c, v));
                }
            }
        }
        return all.stream();
    }

    /**
     * Weights stored as half: the kernels read them with vload_half and compute in float, so they match the
     * reference run on the same weights rounded to half, as tightly as float32 weights match it.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("halfVariants")
    void halfWeightsMatchTheReferenceOnHalfRoundedWeights(Case c, KernelPlanner.Variant variant) {
        RnnWeights weights = RnnWeights.init(c.config, 7);
        RnnWeights halfWeights = halfRounded(weights);
        int[] t = TILES[2];
        try (RnnEngine engine = new RnnEngine(device, weights, WeightsDtype.F16, tiles(t))) {
            Engines.force(engine, variant, true);
            RnnInput in = input(c, true);
            RnnOutput expected = ReferenceRnn.forward(halfWeights, in);
            RnnOutput actual = engine.forward(Forward.of(c.config, in), null);
            assertClose(expected, actual, Assertions2.REF_ATOL, Assertions2.REF_RTOL, "");
        }
    }
}
