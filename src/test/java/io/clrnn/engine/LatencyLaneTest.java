package io.clrnn.engine;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.TestDevice;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import io.clrnn.device.Profile;
import io.clrnn.model.CellType;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A CPU device with an in-thread twin (PoCL's "basic" beside its "pthread", which scripts/test lists with
 * POCL_DEVICES="pthread basic") runs small forwards on the twin's queue: the same result, from the same
 * buffers, without the worker threads' wake-ups.
 */
class LatencyLaneTest {
    static final DeviceInfo CPU = KernelPlannerTest.AVX512;

    @Test
    void smallOrSingleRowForwardsTakeTheLatencyLaneWhenThereIsOne() {
        RnnConfig lab = RnnConfig.of(128, 64);
        WeightLayout l = KernelPlannerTest.layout(CPU, lab);
        assertEquals(Device.Lane.LATENCY, KernelPlanner.recurrence(CPU, true, l, 5, 4, 20, 1024, null).lane());
        assertEquals(Device.Lane.THROUGHPUT, KernelPlanner.recurrence(CPU, false, l, 5, 4, 20, 1024, null).lane());
        RnnConfig batch1 = RnnConfig.of(128, 512);
        assertEquals(Device.Lane.LATENCY, KernelPlanner.recurrence(CPU, true, KernelPlannerTest.layout(CPU, batch1), 10,
                1, 10, 1024, null).lane(), "one short row runs on one core either way");
        assertEquals(Device.Lane.THROUGHPUT, KernelPlanner.recurrence(CPU, true, KernelPlannerTest.layout(CPU, batch1), 200,
                1, 200, 1024, null).lane(), "a long one runs as a team, on the worker threads");
        RnnConfig big = RnnConfig.of(256, 256).withLayers(2).withBidirectional(true);
        assertEquals(Device.Lane.THROUGHPUT, KernelPlanner.recurrence(CPU, true, KernelPlannerTest.layout(CPU, big), 100,
                64, 6400, 1024, null).lane(), "two directions of real work want both cores");
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void bothLanesGiveTheSameResult(CellType mode) {
        Device device = TestDevice.shared();
        assumeTrue(device.hasLatencyLane(), device + " has no in-thread twin (PoCL lists one with "
                + "POCL_DEVICES=\"pthread basic\", as scripts/test sets)");
        RnnConfig config = RnnConfig.of(mode, 12, 9).withBidirectional(true);
        RnnWeights weights = RnnWeights.init(config, 5);
        RnnInput in = RnnInput.of(Tensor.randn(1, 5, 4, 12)).lengths(5, 2, 4, 1);
        Forward shape = Forward.of(config, in);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            Profile latency = new Profile();
            RnnOutput a = engine.forward(shape, latency);
            assertTrue(latency.recurrence().endsWith("(latency lane)"), latency.recurrence());
            Engines.latencyLane(engine, false);
            Profile throughput = new Profile();
            RnnOutput b = engine.forward(shape, throughput);
            assertTrue(!throughput.recurrence().contains("latency"), throughput.recurrence());
            // and back: buffers move between the lanes' devices as the runtime needs
            Engines.latencyLane(engine, true);
            RnnOutput c = engine.forward(shape, null);
            // shared: the caller's share on the latency lane, the rest on the worker threads at the same time
            Engines.force(engine, KernelPlanner.Variant.ROWS_FUSED, null);
            Engines.shared(engine, true);
            Engines.items(engine, 3);
            Profile sharedProfile = new Profile();
            RnnOutput d = engine.forward(shape, sharedProfile);
            assertEquals("rows_fused (shared)", sharedProfile.recurrence());
            assertClose(b.output(), d.output(), 0, 0, "out, shared");
            assertClose(b.hidden(), d.hidden(), 0, 0, "h_n, shared");
            assertClose(b.output(), a.output(), 0, 0, "out, latency lane");
            assertClose(b.hidden(), a.hidden(), 0, 0, "h_n, latency lane");
            assertClose(b.output(), c.output(), 0, 0, "out, latency lane again");
        }
    }

    /**
     * Two modules on one device, driven from two threads at once, both on the latency lane: each gets its own
     * answer, and neither waits forever (PoCL's in-thread driver deadlocked when two threads fed its queue at once,
     * until the device made them take turns).
     */
    @Test
    void twoThreadsOnTheLatencyLaneTakeTurns() throws Exception {
        Device device = TestDevice.shared();
        assumeTrue(device.hasLatencyLane(), device + " has no in-thread twin");
        RnnConfig config = RnnConfig.of(CellType.LSTM, 8, 16);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int seed = t;
                    runs.add(pool.submit(() -> {
                        RnnWeights weights = RnnWeights.init(config, seed);
                        RnnInput in = RnnInput.of(Tensor.randn(seed, 3, 2, 8));
                        Forward shape = Forward.of(config, in);
                        try (RnnEngine engine = new RnnEngine(device, weights)) {
                            RnnOutput first = engine.forward(shape, null);
                            for (int i = 0; i < 3000; i++) {
                                assertClose(first.output(), engine.forward(shape, null).output(), 0, 0,
                                        "forward " + i);
                            }
                        }
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : runs) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        });
    }
}
