package io.clrnn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.RnnOptions;
import io.clrnn.device.DeviceInfo;
import io.clrnn.model.RnnConfig;
import org.junit.jupiter.api.Test;

/** The host-side choices, on made-up devices: what runs where, and that every layout is consistent. */
class KernelPlanTest {
    static final DeviceInfo AVX512 = new DeviceInfo(0, DeviceInfo.Type.CPU, "cpu", "pocl", "x", "3.0", 2,
            8L << 30, 2L << 30, 2L << 20, false, 4096, 16);
    static final DeviceInfo AVX2 = new DeviceInfo(0, DeviceInfo.Type.CPU, "cpu", "pocl", "x", "3.0", 8,
            8L << 30, 2L << 30, 2L << 20, false, 4096, 8);
    static final DeviceInfo GPU = new DeviceInfo(1, DeviceInfo.Type.GPU, "gpu", "nvidia", "x", "3.0", 132,
            140L << 30, 35L << 30, 48L << 10, true, 1024, 1);

    static RnnConfig rnn(int input, int hidden, int layers, boolean bi) {
        return new RnnConfig(input, hidden, layers, true, bi, RnnOptions.defaults());
    }

    @Test
    void cpusRunTheBarrierFreeRowsKernelOverAllSteps() {
        RnnConfig config = rnn(128, 512, 1, false);
        KernelPlan.Layout layout = KernelPlan.layout(AVX512, config);
        KernelPlan.Recurrence r = KernelPlan.recurrence(AVX512, config, layout, 200, 1, Long.MAX_VALUE, null);
        assertEquals(KernelPlan.Variant.ROWS, r.variant());
        assertEquals(200, r.stepsPerLaunch());
        assertEquals(16, layout.vecR());
        assertFalse(layout.wLocal(), "PoCL's local memory is ordinary memory: no copy");
    }

    @Test
    void tinyLayersFuseTheProjectionIntoTheRecurrenceWhenTheWeightsAlign() {
        RnnConfig lab = rnn(128, 64, 1, false);
        KernelPlan.Layout layout = KernelPlan.layout(AVX512, lab);
        assertEquals(KernelPlan.Variant.ROWS_FUSED,
                KernelPlan.recurrence(AVX512, lab, layout, 5, 4, Long.MAX_VALUE, null).variant());
        RnnConfig ragged = rnn(7, 37, 1, true);
        assertFalse(KernelPlan.layout(AVX512, ragged).wihAligned(ragged));
        assertEquals(KernelPlan.Variant.ROWS, KernelPlan.recurrence(AVX512, ragged,
                KernelPlan.layout(AVX512, ragged), 5, 4, Long.MAX_VALUE, null).variant());
        assertEquals(KernelPlan.Variant.SEQUENCE,
                KernelPlan.recurrence(GPU, lab, KernelPlan.layout(GPU, lab), 5, 4, 1024, null).variant());
    }

    @Test
    void bigCpuWorkSplitsTheBatchOverComputeUnits() {
        RnnConfig config = rnn(512, 1024, 1, false);
        KernelPlan.Layout layout = KernelPlan.layout(AVX512, config);
        KernelPlan.Recurrence r = KernelPlan.recurrence(AVX512, config, layout, 50, 32, Long.MAX_VALUE, null);
        assertEquals(16, r.groupRows(), "two work-items of 16 rows for two compute units");
        KernelPlan.Recurrence tiny = KernelPlan.recurrence(AVX512, rnn(128, 64, 1, false),
                KernelPlan.layout(AVX512, rnn(128, 64, 1, false)), 5, 4, Long.MAX_VALUE, null);
        assertEquals(4, tiny.groupRows(), "latency-bound work stays in one work-item");
    }

    @Test
    void tinyProductsUseTheSmallProjectionTileOnCpus() {
        KernelPlan.Layout layout = KernelPlan.layout(AVX512, rnn(128, 64, 1, false));
        assertEquals(new KernelPlan.ProjectionTiles(16, 4, 1, 32), layout.projectionTiles(AVX512, 20L * 64 * 128));
        assertEquals(new KernelPlan.ProjectionTiles(16, 10, 2, 32), layout.projectionTiles(AVX512, 6400L * 512 * 256));
        KernelPlan.Layout gpu = KernelPlan.layout(GPU, rnn(128, 64, 1, false));
        assertEquals(gpu.tm(), gpu.projectionTiles(GPU, 20L * 64 * 128).tm());
    }

    @Test
    void narrowerCpusGetNarrowerTiles() {
        KernelPlan.Layout layout = KernelPlan.layout(AVX2, rnn(64, 256, 1, false));
        assertEquals(8, layout.vecR());
        assertEquals(8, layout.vecP());
        KernelPlan.Recurrence r = KernelPlan.recurrence(AVX2, rnn(64, 256, 1, false), layout, 10, 64,
                Long.MAX_VALUE, null);
        assertEquals(4, r.tb());
    }

    @Test
    void gpusKeepSmallLayersInLocalMemoryAndStepBigOnes() {
        RnnConfig small = rnn(128, 64, 1, true);
        KernelPlan.Layout smallLayout = KernelPlan.layout(GPU, small);
        assertTrue(smallLayout.wLocal());
        KernelPlan.Recurrence r = KernelPlan.recurrence(GPU, small, smallLayout, 5, 4, 1024, null);
        assertEquals(KernelPlan.Variant.SEQUENCE, r.variant());
        assertTrue(KernelPlan.sequenceLocalBytes(smallLayout, 64, r.groupRows()) <= GPU.localMemBytes());

        RnnConfig big = rnn(512, 1024, 1, false);
        KernelPlan.Layout bigLayout = KernelPlan.layout(GPU, big);
        assertFalse(bigLayout.wLocal(), "4 MiB of W_hh does not fit 48 KiB");
        assertEquals(KernelPlan.Variant.STEP,
                KernelPlan.recurrence(GPU, big, bigLayout, 50, 32, 1024, null).variant());
    }

    @Test
    void gpuLaunchesStopShortOfAWatchdogOnLongSequences() {
        RnnConfig config = rnn(64, 96, 1, false);
        KernelPlan.Layout layout = KernelPlan.layout(GPU, config);
        KernelPlan.Recurrence r = KernelPlan.recurrence(GPU, config, layout, 1_000_000, 2, 1024, null);
        assertTrue(r.stepsPerLaunch() < 1_000_000);
        assertTrue((long) r.stepsPerLaunch() * 96 * layout.hp() * r.groupRows() <= 1L << 28);
    }

    @Test
    void aForcedSequenceThatCannotFitIsRefused() {
        RnnConfig big = rnn(512, 4096, 1, false);
        KernelPlan.Layout layout = KernelPlan.layout(GPU, big);
        assertThrows(IllegalArgumentException.class,
                () -> KernelPlan.recurrence(GPU, big, layout, 5, 4, 1024, KernelPlan.Variant.SEQUENCE));
    }

    @Test
    void paddedWidthsCoverEveryVectorAccess() {
        for (int hidden : new int[] {1, 2, 5, 16, 37, 130, 1024}) {
            for (boolean bi : new boolean[] {false, true}) {
                RnnConfig config = rnn(3, hidden, 1, bi);
                for (DeviceInfo d : new DeviceInfo[] {AVX512, AVX2, GPU}) {
                    KernelPlan.Layout l = KernelPlan.layout(d, config);
                    int width = config.numDirections() * hidden;
                    assertEquals(0, l.ldn() % l.tileN());
                    assertEquals(0, l.hp() % (l.vecR() * l.nvR()));
                    assertTrue(l.hp() >= hidden);
                    assertTrue(l.ldn() >= width - hidden + l.hp(), "last direction's vector over-read stays in P");
                    assertEquals(0, l.ldn() % l.panelP(), "whole panels");
                    assertEquals(0, l.panelP() % l.tileN(), "a tile never straddles two panels");
                    assertEquals(0, l.hp() % l.panelR());
                    assertEquals(0, l.panelR() % (l.vecR() * l.nvR()));
                    assertEquals(d.isCpu() ? l.tileN() : l.ldn(), l.panelP(), "panels on CPUs, rows on GPUs");
                }
            }
        }
    }
}
