package io.clrnn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The host-side choices, on made-up devices: what runs where, and that every layout is consistent. */
class KernelPlannerTest {
    static final DeviceInfo AVX512 = new DeviceInfo(0, DeviceInfo.Type.CPU, "cpu", "pocl", "x", "3.0", 2,
            8L << 30, 2L << 30, 2L << 20, false, 4096, 16, true);
    static final DeviceInfo AVX2 = new DeviceInfo(0, DeviceInfo.Type.CPU, "cpu", "pocl", "x", "3.0", 8,
            8L << 30, 2L << 30, 2L << 20, false, 4096, 8, true);
    static final DeviceInfo GPU = new DeviceInfo(1, DeviceInfo.Type.GPU, "gpu", "nvidia", "x", "3.0", 132,
            140L << 30, 35L << 30, 48L << 10, true, 1024, 1, true);

    static RnnConfig rnn(int input, int hidden, int layers, boolean bi) {
        return RnnConfig.of(input, hidden).withLayers(layers).withBidirectional(bi);
    }

    static WeightLayout layout(DeviceInfo device, RnnConfig config) {
        return WeightLayout.of(config, KernelPlanner.tiles(device, config));
    }

    static KernelPlanner.RecurrencePlan plan(DeviceInfo device, RnnConfig config, int seq, int batch) {
        return KernelPlanner.recurrence(device, layout(device, config), seq, batch, (long) seq * batch, 1024, null);
    }

    @Test
    void cpusRunTheBarrierFreeRowsKernelOverAllSteps() {
        RnnConfig config = rnn(1024, 512, 1, false);
        KernelPlanner.RecurrencePlan r = plan(AVX512, config, 200, 16);
        assertEquals(KernelPlanner.Variant.ROWS, r.variant());
        assertEquals(Integer.MAX_VALUE, r.stepsPerLaunch());
        assertEquals(16, layout(AVX512, config).tiles().vecR());
        assertFalse(r.wLocal(), "PoCL's local memory is ordinary memory: no copy");
    }

    @Test
    void rowsTooFewForTheCoresRunAsATeamThatSplitsTheUnits() {
        for (CellType mode : CellType.values()) {
            KernelPlanner.RecurrencePlan r = plan(AVX512, RnnConfig.of(mode, 128, 512), 200, 1);
            assertEquals(KernelPlanner.Variant.TEAM, r.variant(), mode + " batch 1");
            assertEquals(2, r.items(), "one item per compute unit");
            assertEquals(Device.Lane.THROUGHPUT, r.lane(), "the team needs the worker threads");
        }
        assertEquals(KernelPlanner.Variant.TEAM, plan(AVX512, RnnConfig.of(CellType.LSTM, 128, 512), 200, 4).variant(),
                "four LSTM rows are one register block");
        assertEquals(4, plan(AVX2, rnn(128, 512, 1, true), 200, 1).items(), "eight units, two directions");
        DeviceInfo manyCores = new DeviceInfo(0, DeviceInfo.Type.CPU, "cpu", "pocl", "x", "3.0", 64, 8L << 30,
                2L << 30, 2L << 20, false, 4096, 16, true);
        assertEquals(5, plan(manyCores, rnn(128, 512, 1, false), 200, 1).items(),
                "327k multiply-adds a step keep 5 items busy between barriers, not 64");
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, rnn(128, 512, 1, true), 200, 1).variant(),
                "two directions already keep two units busy");
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, rnn(128, 128, 1, false), 200, 1).variant(),
                "33k multiply-adds a step do not pay for a barrier a step");
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, rnn(128, 512, 1, false), 10, 1).variant(),
                "3M multiply-adds do not pay for waking the worker threads");
        assertEquals(KernelPlanner.Variant.STEP, plan(GPU, rnn(128, 512, 1, false), 200, 1).variant());
        assertThrows(IllegalArgumentException.class, () -> KernelPlanner.recurrence(GPU, layout(GPU, rnn(8, 8, 1, false)),
                5, 1, 5, 1024, KernelPlanner.Variant.TEAM), "a GPU's work-groups do not share a coherent cache");
    }

    @Test
    void tinySinglePhaseLayersFuseTheProjectionIntoTheRecurrence() {
        assertEquals(KernelPlanner.Variant.ROWS_FUSED, plan(AVX512, rnn(128, 64, 1, false), 5, 4).variant());
        assertEquals(KernelPlanner.Variant.ROWS_FUSED, plan(AVX512, RnnConfig.of(CellType.GRU, 16, 8), 5, 4).variant());
        RnnConfig proj = RnnConfig.of(CellType.LSTM, 16, 8).withProjSize(4);
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, proj, 5, 4).variant(), "two-phase cells never fuse");
        assertThrows(IllegalArgumentException.class, () -> KernelPlanner.recurrence(AVX512, layout(AVX512, proj), 5, 4,
                20, 1024, KernelPlanner.Variant.ROWS_FUSED));
    }

    @Test
    void batchesThatFillARegisterBlockFuseTheProjectionWhenTheirInputIsNarrowAndWihStaysCached() {
        assertEquals(KernelPlanner.Variant.ROWS_FUSED, plan(AVX512, RnnConfig.of(CellType.LSTM, 64, 128), 30, 8).variant(),
                "W_ih^T of 128 KiB, read by blocks of 4 rows");
        assertEquals(KernelPlanner.Variant.ROWS_FUSED, plan(AVX512, rnn(128, 512, 1, false), 200, 16).variant());
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, RnnConfig.of(CellType.LSTM, 64, 128), 30, 2).variant(),
                "2 rows fill half a register block: a W_ih^T vector would serve 2 rows a step");
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, RnnConfig.of(CellType.LSTM, 512, 128), 30, 8).variant(),
                "an input wider than the output is projected better in one GEMM");
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, RnnConfig.of(CellType.GRU, 512, 512), 50, 32).variant(),
                "W_ih^T of 3 MiB would be read from memory at every step");
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, rnn(256, 256, 2, true), 100, 64).variant(),
                "the second layer's input is both directions' output, twice as wide");
        RnnConfig proj = RnnConfig.of(CellType.LSTM, 64, 128).withProjSize(64);
        assertEquals(KernelPlanner.Variant.ROWS, plan(AVX512, proj, 30, 8).variant(), "two-phase cells never fuse");
    }

    @Test
    void aFusedForwardOnSeveralItemsIsSharedWithTheCallingThreadWhereTheDeviceHasALatencyLane() {
        RnnConfig lstm = RnnConfig.of(CellType.LSTM, 64, 128);
        KernelPlanner.RecurrencePlan shared = KernelPlanner.recurrence(AVX512, true, layout(AVX512, lstm), 30, 8, 240, 1024,
                null);
        assertEquals(KernelPlanner.Variant.ROWS_FUSED, shared.variant());
        assertEquals(2, shared.items());
        assertTrue(shared.shared(), "the caller takes one of the two items");
        assertEquals(Device.Lane.LATENCY, shared.lane(), "the upload and read-back on the caller's lane");
        assertFalse(plan(AVX512, lstm, 30, 8).shared(), "no latency lane, nothing to share with");
        KernelPlanner.RecurrencePlan unfused = KernelPlanner.recurrence(AVX512, true, layout(AVX512, lstm), 30, 2, 60, 1024,
                null);
        assertFalse(unfused.shared(), "a projection of its own: the workers run every command");
        KernelPlanner.RecurrencePlan lab = KernelPlanner.recurrence(AVX512, true, layout(AVX512, rnn(128, 64, 1, false)), 5,
                4, 20, 1024, null);
        assertEquals(Device.Lane.LATENCY, lab.lane());
        assertFalse(lab.shared(), "one item: the latency lane runs it all");
    }

    @Test
    void bigCpuWorkSplitsTheBatchOverComputeUnits() {
        assertEquals(2, plan(AVX512, rnn(512, 1024, 1, false), 50, 32).items(), "two work-items for two units");
        assertEquals(1, plan(AVX512, rnn(128, 64, 1, false), 5, 4).items(), "latency-bound work stays in one");
        assertEquals(1, plan(AVX512, rnn(256, 256, 1, true), 100, 64).items(), "two directions fill two units");
    }

    @Test
    void registerBlocksFitTheRegisterFileWhateverTheGateCount() {
        for (CellType mode : CellType.values()) {
            for (DeviceInfo cpu : new DeviceInfo[] {AVX512, AVX2}) {
                Tiles t = KernelPlanner.tiles(cpu, RnnConfig.of(mode, 64, 256));
                int accumulators = t.tb() * mode.gates() * t.nvR();
                int registers = cpu == AVX512 ? 32 : 16;
                assertTrue(accumulators + mode.gates() * t.nvR() + 1 <= registers,
                        mode + " on " + cpu.preferredFloatVectorWidth() + "-wide: " + t);
                assertTrue(accumulators >= registers / 4, mode + " leaves most registers idle: " + t);
            }
        }
    }

    @Test
    void tinyProductsUseTheSmallProjectionTileOnCpus() {
        WeightLayout l = layout(AVX512, rnn(128, 64, 1, false));
        assertEquals(new KernelPlanner.ProjectionTiles(16, 4, 1, 32, false), KernelPlanner.projectionTiles(l, AVX512, 20L * 64 * 128));
        assertEquals(new KernelPlanner.ProjectionTiles(16, 10, 2, 32, false),
                KernelPlanner.projectionTiles(l, AVX512, 6400L * 512 * 256));
        WeightLayout gpu = layout(GPU, rnn(128, 64, 1, false));
        KernelPlanner.ProjectionTiles onGpu = KernelPlanner.projectionTiles(gpu, GPU, 20L * 64 * 128);
        assertTrue(onGpu.local(), "GPUs stage the projection's tiles in local memory");
        assertEquals(0, gpu.ldn() % onGpu.tileN());
    }

    /**
     * The local-memory projection only where the device has the local memory (8 KiB of tiles) and the work-group
     * size (256) it needs; W_hh^T in local memory only where it fits: the device's queried limits, not a GPU's usual.
     */
    @Test
    void gpuTilesFollowTheDevicesLocalMemoryAndWorkGroupLimits() {
        DeviceInfo smallLocal = new DeviceInfo(1, DeviceInfo.Type.GPU, "gpu", "x", "x", "1.2", 8, 1L << 30, 1L << 28,
                4L << 10, true, 1024, 1, true);
        DeviceInfo smallGroups = new DeviceInfo(1, DeviceInfo.Type.GPU, "gpu", "x", "x", "1.2", 8, 1L << 30, 1L << 28,
                32L << 10, true, 128, 1, true);
        RnnConfig config = rnn(128, 64, 1, false);
        assertTrue(KernelPlanner.tiles(GPU, config).localProjection());
        assertFalse(KernelPlanner.tiles(smallLocal, config).localProjection(), "8 KiB of tiles in 4 KiB");
        assertFalse(KernelPlanner.tiles(smallGroups, config).localProjection(), "256 work-items where 128 fit");
        assertFalse(KernelPlanner.fitsLocal(smallLocal, layout(smallLocal, config)), "W_hh^T of 64 KiB in 4 KiB");
        assertFalse(plan(smallLocal, config, 5, 4).wLocal());
    }

    @Test
    void gpuProjectionsAreCutIntoLaunchesShortEnoughForAWatchdog() {
        WeightLayout gpu = layout(GPU, rnn(1024, 1024, 1, true));
        KernelPlanner.ProjectionTiles tiles = KernelPlanner.projectionTiles(gpu, GPU, Long.MAX_VALUE);
        long mTiles = 1_000_000 / tiles.tileM();
        long per = KernelPlanner.projectionTilesPerLaunch(GPU, tiles, mTiles, gpu.ldn(), 1024);
        assertTrue(per < mTiles && per >= 1, per + " of " + mTiles);
        assertTrue(per * tiles.tileM() * gpu.ldn() * 1024L <= 1L << 28);
        assertEquals(mTiles, KernelPlanner.projectionTilesPerLaunch(AVX512, tiles, mTiles, gpu.ldn(), 1024));
    }

    @Test
    void gpusKeepSmallLayersInLocalMemoryAndStepBigOnesWithFewRows() {
        KernelPlanner.RecurrencePlan small = plan(GPU, rnn(128, 64, 1, true), 5, 4);
        assertEquals(KernelPlanner.Variant.GROUP, small.variant());
        assertTrue(small.wLocal());
        assertTrue(small.local() >= 32 && small.local() % 32 == 0, "whole warps: " + small.local());

        RnnConfig big = RnnConfig.of(CellType.LSTM, 512, 1024);
        assertFalse(KernelPlanner.fitsLocal(GPU, layout(GPU, big)), "16 MiB of W_hh does not fit 48 KiB");
        assertEquals(KernelPlanner.Variant.STEP, plan(GPU, big, 50, 1).variant(), "one row: every unit block in parallel");
        KernelPlanner.RecurrencePlan many = plan(GPU, big, 50, 1024);
        assertEquals(KernelPlanner.Variant.GROUP, many.variant(), "enough rows to fill the chip with groups");
        assertFalse(many.wLocal());
    }

    @Test
    void gpuLaunchesStopShortOfAWatchdogOnLongSequences() {
        RnnConfig config = rnn(64, 96, 1, false);
        KernelPlanner.RecurrencePlan r = plan(GPU, config, 1_000_000, 2);
        assertTrue(r.stepsPerLaunch() < 1_000_000);
        WeightLayout l = layout(GPU, config);
        assertTrue((long) r.stepsPerLaunch() * l.directionWidth() * (96 + 96) * r.groupRows() <= 1L << 28);
    }

    @Test
    void programsDependOnTheModuleAndDeviceNotOnTheBatch() {
        RnnConfig config = RnnConfig.of(CellType.LSTM, 20, 33).withBidirectional(true);
        Set<String> sources = new HashSet<>();
        for (int batch = 1; batch <= 40; batch++) {
            KernelPlanner.RecurrencePlan p = KernelPlanner.recurrence(AVX512, layout(AVX512, config), 30, batch,
                    30L * batch, 1024, null);
            sources.add(KernelSources.recurrenceSource(layout(AVX512, config), io.clrnn.base.WeightsDtype.F32, AVX512,
                    p.variant(), p.wLocal()));
        }
        assertTrue(sources.size() <= 2, sources.size() + " recurrence programs for batches 1 to 40");
    }

    @Test
    void paddedWidthsCoverEveryVectorAccess() {
        for (CellType mode : CellType.values()) {
            for (int hidden : new int[] {2, 5, 16, 37, 130, 1024}) {
                for (boolean bi : new boolean[] {false, true}) {
                    int proj = mode == CellType.LSTM && hidden > 2 ? hidden / 2 : 0;
                    RnnConfig config = RnnConfig.of(mode, 3, hidden).withBidirectional(bi).withProjSize(proj);
                    for (DeviceInfo d : new DeviceInfo[] {AVX512, AVX2, GPU}) {
                        WeightLayout l = layout(d, config);
                        Tiles t = l.tiles();
                        int tileN = t.nv() * t.vecP();
                        assertEquals(0, l.ldn() % tileN);
                        assertEquals(0, l.hp() % l.unit());
                        assertTrue(l.hp() >= hidden);
                        assertTrue(l.pp() >= proj && l.pp() % l.unit() == 0);
                        assertTrue(l.ldn() >= config.numDirections() * l.directionWidth());
                        assertEquals(0, l.ldn() % l.panelP(), "whole panels");
                        assertEquals(0, l.panelP() % tileN, "a tile never straddles two panels");
                        assertEquals(0, l.directionWidth() % l.panelR());
                        assertEquals(0, l.panelR() % (mode.gates() * l.unit()), "a unit block never straddles panels");
                        assertEquals(d.isCpu() ? tileN : l.ldn(), l.panelP(), "panels on CPUs, rows on GPUs");
                        // every column a unit of a gate maps to is distinct and inside its direction
                        Set<Integer> columns = new HashSet<>();
                        for (int dir = 0; dir < config.numDirections(); dir++) {
                            for (int g = 0; g < mode.gates(); g++) {
                                for (int j = 0; j < hidden; j++) {
                                    int c = l.column(dir, g, j);
                                    assertTrue(c >= dir * l.directionWidth() && c < (dir + 1) * l.directionWidth());
                                    assertTrue(columns.add(c));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
