package io.clrnn.engine;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.RnnOutput;
import io.clrnn.TestDevice;
import io.clrnn.Tensor;
import io.clrnn.bench.Benchmark;
import io.clrnn.device.Device;
import io.clrnn.model.ForwardShape;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every recurrence variant and a spread of projection tiles, forced on the test device, against the
 * Java reference on odd shapes: sizes that are not multiples of any tile, so every edge path runs.
 */
class KernelVariantsTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = TestDevice.open();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /** (seq, batch, input, hidden, layers, bidirectional, relu, batchFirst) */
    record Case(int seq, int batch, int input, int hidden, int layers, boolean bi, boolean relu, boolean batchFirst) {
        RnnConfig config() {
            RnnOptions options = RnnOptions.defaults().nonlinearity(relu ? Nonlinearity.RELU : Nonlinearity.TANH)
                    .batchFirst(batchFirst);
            return new RnnConfig(input, hidden, layers, true, bi, options);
        }

        @Override
        public String toString() {
            return "T" + seq + " B" + batch + " I" + input + " H" + hidden + " L" + layers + (bi ? " bi" : "")
                    + (relu ? " relu" : "") + (batchFirst ? " bf" : "");
        }
    }

    static final List<Case> CASES = List.of(
            new Case(1, 1, 1, 1, 1, false, false, false),
            new Case(4, 3, 7, 5, 2, true, false, true),
            new Case(9, 11, 3, 37, 1, false, true, false),
            new Case(5, 13, 19, 130, 2, true, false, false),
            new Case(3, 1, 33, 70, 1, true, true, true),
            new Case(20, 21, 9, 100, 1, false, false, true)); // enough work to split the batch over compute units

    /** (vecP, tm, nv, vecR, nvR, wLocal, panels) tiles, including ones no device would pick. */
    static final int[][] TILES = {
            {2, 1, 1, 2, 1, 0, 1},
            {4, 3, 2, 4, 3, 1, 0},
            {8, 6, 1, 8, 2, 0, 1},
            {16, 6, 2, 16, 2, 1, 1},
            {16, 5, 3, 4, 1, 0, 0},
            {16, 10, 2, 16, 2, 0, 1},
    };

    static Stream<Arguments> variants() {
        List<Arguments> all = new ArrayList<>();
        for (Case c : CASES) {
            for (int[] t : TILES) {
                for (KernelPlan.Variant v : KernelPlan.Variant.values()) {
                    all.add(Arguments.of(c, t, v));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} tiles {1} {2}")
    @MethodSource("variants")
    void matchesReference(Case c, int[] t, KernelPlan.Variant variant) {
        RnnConfig config = c.config();
        RnnWeights weights = RnnWeights.init(config, 7);
        int[] xShape = c.batchFirst ? new int[] {c.batch, c.seq, c.input} : new int[] {c.seq, c.batch, c.input};
        Tensor x = Benchmark.random(11, xShape);
        Tensor h0 = Benchmark.random(13, c.layers * (c.bi ? 2 : 1), c.batch, c.hidden);
        KernelPlan.Layout layout = KernelPlan.Layout.of(config, t[0], t[1], t[2], t[3], t[4], t[5] == 1, 2, 2, false,
                t[6] == 1);
        try (RnnEngine engine = new RnnEngine(device, weights, layout)) {
            engine.forceVariant(variant);
            ForwardShape shape = ForwardShape.check(config, x, h0);
            assertEquals(variant, engine.recurrencePlan(shape).variant());
            RnnOutput expected = ReferenceRnn.forward(weights, x, h0);
            RnnOutput actual = engine.forward(shape, x, h0, null);
            assertClose(expected.output(), actual.output(), "out");
            assertClose(expected.hidden(), actual.hidden(), "h_n");
            // the same sequence split over launches of 2 steps, on the same workspace
            engine.maxStepsPerLaunch(2);
            RnnOutput split = engine.forward(shape, x, h0, null);
            assertClose(actual.output(), split.output(), 0, 0, "out in 2-step launches");
            assertClose(actual.hidden(), split.hidden(), 0, 0, "h_n in 2-step launches");
        }
    }
}
