package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.bench.Benchmark;
import io.clrnn.device.ClResource;
import io.clrnn.device.Device;
import io.clrnn.device.InjectFaults;
import io.clrnn.device.OpenClException;
import io.clrnn.device.Profile;
import io.clrnn.engine.Engines;
import io.clrnn.model.CellType;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jocl.CL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Native resources, threads, injected driver faults, device limits and non-finite numbers. */
class HardeningTest {
    static final String DEVICE = TestDevice.SPEC;
    static final RnnConfig CONFIG = RnnConfig.of(8, 12).withLayers(2).withBidirectional(true);
    static final RnnWeights WEIGHTS = RnnWeights.init(CONFIG, 3);

    static Tensor x(long seed, int seq, int batch) {
        return Tensor.randn(seed, seq, batch, CONFIG.inputSize());
    }

    static Tensor h0(long seed, int batch) {
        return Tensor.randn(seed, CONFIG.numLayers() * 2, batch, CONFIG.hiddenSize());
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFailsCleanly() {
        int before = ClResource.liveCount();
        Device device = Device.select(DEVICE);
        Rnn rnn = Rnn.create(device, WEIGHTS);
        rnn.forward(x(1, 3, 2));
        assertTrue(ClResource.liveCount() > before);
        rnn.close();
        rnn.close();
        assertThrows(IllegalStateException.class, () -> rnn.forward(x(1, 3, 2)));
        device.close();
        device.close();
        assertThrows(IllegalStateException.class, () -> device.buffer(16));
        assertThrows(IllegalStateException.class, () -> Rnn.create(device, WEIGHTS));
        assertEquals(before, ClResource.liveCount(), () -> "leaked: " + ClResource.liveCounts());
    }

    @Test
    void tenThousandForwardsKeepNativeObjectsAndHeapFlat() {
        try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            Tensor x = x(5, 4, 3);
            Tensor h = h0(6, 3);
            for (int i = 0; i < 500; i++) {
                rnn.forward(x, h);
            }
            int objects = ClResource.liveCount();
            long heap = usedHeapAfterGc();
            RnnOutput first = rnn.forward(x, h);
            for (int i = 0; i < 10_000; i++) {
                RnnOutput y = rnn.forward(x, h);
                if (i % 2500 == 0) {
                    assertArrayEquals(first.output().data(), y.output().data(), "forward " + i);
                }
            }
            assertEquals(objects, ClResource.liveCount(), () -> "native objects grew: " + ClResource.liveCounts());
            long grown = usedHeapAfterGc() - heap;
            assertTrue(grown < 16 << 20, "heap grew by " + grown + " bytes over 10,000 forwards");
        }
    }

    private static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void threadsSharingOneModuleGetExactlyTheSerialResults() throws Exception {
        int threads = 8;
        int perThread = 25;
        try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            List<Tensor> inputs = new ArrayList<>();
            List<RnnOutput> serial = new ArrayList<>();
            for (int i = 0; i < threads * perThread; i++) {
                // varying shapes, so workspaces and plans change under the threads' feet
                Tensor x = x(100 + i, 1 + i % 7, 1 + i % 5);
                inputs.add(x);
                serial.add(rnn.forward(x));
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t * perThread;
                    futures.add(pool.submit(() -> {
                        for (int i = first; i < first + perThread; i++) {
                            RnnOutput y = rnn.forward(inputs.get(i));
                            assertArrayEquals(serial.get(i).output().data(), y.output().data(), "input " + i);
                            assertArrayEquals(serial.get(i).hidden().data(), y.hidden().data(), "input " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"module", "device"})
    void closeRacingForwardFailsCleanly(String whatCloses) throws Exception {
        int before = ClResource.liveCount();
        Device device = Device.select(DEVICE);
        Rnn rnn = Rnn.create(device, WEIGHTS);
        Tensor x = x(9, 20, 4);
        rnn.forward(x); // programs built before the race, so forwards run in it
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                workers.add(pool.submit(() -> {
                    int done = 0;
                    while (true) {
                        try {
                            rnn.forward(x);
                            done++;
                        } catch (IllegalStateException closed) {
                            return done;
                        }
                    }
                }));
            }
            Thread.sleep(200);
            if (whatCloses.equals("device")) {
                device.close();
            } else {
                rnn.close();
            }
            int done = 0;
            for (Future<Integer> w : workers) {
                done += w.get(30, TimeUnit.SECONDS); // each worker ends only by seeing the module closed
            }
            assertTrue(done > 0, "no forward ran before the close");
        } finally {
            pool.shutdownNow();
            rnn.close();
            device.close();
        }
        assertEquals(before, ClResource.liveCount(), () -> "leaked: " + ClResource.liveCounts());
    }

    /** Each fault: the call that fails, after how many such calls, and the status the driver gives. */
    @ParameterizedTest(name = "{0} after {1}: {2}")
    @CsvSource({
            "clCreateBuffer, 0, " + CL.CL_MEM_OBJECT_ALLOCATION_FAILURE,
            "clCreateBuffer, 9, " + CL.CL_MEM_OBJECT_ALLOCATION_FAILURE,
            "clBuildProgram, 0, " + CL.CL_BUILD_PROGRAM_FAILURE,
            "clBuildProgram, 1, " + CL.CL_BUILD_PROGRAM_FAILURE,
            "clCreateKernel, 1, " + CL.CL_OUT_OF_HOST_MEMORY,
            "clEnqueueWriteBuffer, 7, " + CL.CL_OUT_OF_RESOURCES,
            "clEnqueueNDRangeKernel, 0, " + CL.CL_OUT_OF_RESOURCES,
            "clEnqueueNDRangeKernel, 2, " + CL.CL_INVALID_WORK_GROUP_SIZE,
            "clEnqueueReadBuffer, 0, " + CL.CL_OUT_OF_RESOURCES,
            "clEnqueueMapBuffer, 0, " + CL.CL_MAP_FAILURE,
            "clEnqueueUnmapMemObject, 0, " + CL.CL_OUT_OF_RESOURCES,
    })
    void injectedDriverFaultsNameTheCallLeakNothingAndTheNextForwardWorks(String call, int skip, int status)
            throws Exception {
        int before = ClResource.liveCount();
        Tensor x = x(21, 6, 3);
        Tensor h = h0(22, 3);
        RnnOutput expected = ReferenceRnn.forward(WEIGHTS, x, h);
        try (Device device = Device.select(DEVICE)) {
            if (call.startsWith("clEnqueueMapBuffer") || call.startsWith("clEnqueueUnmapMemObject")) {
                assumeTrue(device.info().isCpu(), "results are mapped only on CPU devices; " + device + " reads them");
            }
            InjectFaults.failAfter(device, call, skip, status);
            OpenClException e = assertThrows(OpenClException.class, () -> {
                try (Rnn rnn = Rnn.create(device, WEIGHTS)) {
                    rnn.forward(x, h);
                    // a bigger shape: new buffers, plans and programs (no longer fused), and results large enough to be mapped
                    rnn.forward(x(23, 300, 40), h0(24, 40));
                }
            });
            assertFalse(InjectFaults.pending(device));
            assertEquals(status, e.status());
            assertTrue(e.getMessage().startsWith(call), e.getMessage());
            assertTrue(e.getMessage().contains(CL.stringFor_errorCode(status)), e.getMessage());
            try (Rnn rnn = Rnn.create(device, WEIGHTS)) {
                RnnOutput y = rnn.forward(x, h);
                assertClose(expected.output(), y.output(), "out after the fault");
                assertClose(expected.hidden(), y.hidden(), "h_n after the fault");
            }
        }
        assertEquals(before, ClResource.liveCount(), () -> "leaked: " + ClResource.liveCounts());
    }

    /** Every buffer creation, write and wait while a module uploads its weights, failed in turn. */
    @ParameterizedTest
    @CsvSource({"clCreateBuffer", "clEnqueueWriteBuffer", "clFinish"})
    void aFaultAnywhereInModuleCreationLeaksNothing(String call) {
        RnnWeights weights = RnnWeights.init(CONFIG.withLayers(3), 5);
        try (Device device = Device.select(DEVICE)) {
            Rnn.create(device, weights).close(); // programs are the device's: build them once first
            Map<String, Integer> baseline = ClResource.liveCounts();
            int fired = 0;
            for (int k = 0; k < 200; k++) {
                InjectFaults.failAfter(device, call, k, CL.CL_OUT_OF_RESOURCES);
                try {
                    Rnn.create(device, weights).close();
                } catch (OpenClException expected) {
                    fired++;
                }
                if (InjectFaults.pending(device)) { // module creation makes fewer than k + 1 such calls: all were failed once
                    InjectFaults.clear(device);
                    break;
                }
                assertEquals(baseline, ClResource.liveCounts(), call + " number " + k + " failed and leaked");
            }
            int least = call.equals("clFinish") ? 1 : 3; // one wait for all of a module's uploads
            assertTrue(fired >= least, "only " + fired + " " + call + " calls while creating a 3-layer module");
        }
    }

    /** The batch size must not pick build options: one set of programs serves every batch. */
    @Test
    void batchSizesDoNotEachCompileTheirOwnPrograms() {
        try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            rnn.forward(x(1, 4, 8));
            int programs = ClResource.liveCounts().getOrDefault("program", 0);
            for (int batch = 1; batch <= 7; batch++) {
                rnn.forward(x(batch, 4, batch));
            }
            assertEquals(programs, ClResource.liveCounts().getOrDefault("program", 0),
                    "programs built for batch sizes 1 to 7");
        }
    }

    /** A profile whose events cannot be read (the queue does not profile) still releases them all. */
    @Test
    void aProfileReleasesItsEventsWhenAQueryFails() {
        try (Device device = Device.select(DEVICE, false); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            int before = ClResource.liveCounts().getOrDefault("event", 0);
            Profile profile = new Profile();
            rnn.forward(RnnInput.of(x(3, 5, 2)), profile);
            assertTrue(ClResource.liveCounts().getOrDefault("event", 0) > before, "the forward recorded events");
            assertThrows(OpenClException.class, profile::nanosByFamily);
            assertEquals(before, ClResource.liveCounts().getOrDefault("event", 0), "events left after a failed query");
        }
    }

    @Test
    void largeResultsReadBackThroughAMappingMatchTheReference() {
        Tensor x = x(61, 300, 10); // out + h_n: 72,480 floats, past the mapping threshold on CPUs
        Tensor h = h0(62, 10);
        RnnOutput expected = ReferenceRnn.forward(WEIGHTS, x, h);
        try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            for (int i = 0; i < 3; i++) {
                RnnOutput y = rnn.forward(x, h);
                assertClose(expected.output(), y.output(), "out, forward " + i);
                assertClose(expected.hidden(), y.hidden(), "h_n, forward " + i);
            }
        }
    }

    @Test
    void aRealBuildFailureCarriesTheCompilersLog() {
        try (Device device = Device.select(DEVICE)) {
            OpenClException e = assertThrows(OpenClException.class,
                    () -> device.program("#define VEC 5", "common.cl", "projection.cl")); // there is no float5
            assertEquals(CL.CL_BUILD_PROGRAM_FAILURE, e.status());
            assertTrue(e.getMessage().startsWith("clBuildProgram(common.cl+projection.cl #define VEC 5)"), e.getMessage());
            assertTrue(e.getMessage().contains("float5"), "the build log names the culprit: " + e.getMessage());
        }
    }

    @Test
    void aFaultInsideAForwardLeavesTheModuleUsable() {
        Tensor x = x(31, 7, 4);
        RnnOutput expected = ReferenceRnn.forward(WEIGHTS, x, null);
        try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            rnn.forward(x);
            InjectFaults.failAfter(device, "clEnqueueNDRangeKernel", 1, CL.CL_OUT_OF_RESOURCES); // the 2nd layer
            assertThrows(OpenClException.class, () -> rnn.forward(x));
            assertClose(expected.output(), rnn.forward(x).output(), "out after the fault");
        }
    }

    /**
     * Limits that leave room for about 3 sequences: the batch of 13 runs in 5 slices, with the same result up
     * to float rounding (a slice's rows run in register blocks of other sizes, whose partial sums add up in
     * another order).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"device memory", "host transfers"})
    void batchesBeyondTheLimitsRunInSlicesWithTheSameResult(String limit) {
        for (CellType mode : new CellType[] {CellType.RNN_TANH, CellType.LSTM}) {
            for (boolean batchFirst : new boolean[] {false, true}) {
                RnnConfig config = CONFIG.withMode(mode).withBatchFirst(batchFirst);
                RnnWeights weights = RnnWeights.init(config, 3);
                Tensor x = batchFirst ? Tensor.randn(41, 13, 5, 8) : Tensor.randn(41, 5, 13, 8);
                RnnInput in = RnnInput.of(x).h0(h0(42, 13)).lengths(5, 1, 4, 5, 2, 3, 5, 5, 1, 2, 4, 3, 5);
                if (mode.hasCellState()) {
                    in = in.c0(h0(43, 13));
                }
                String what = mode + (batchFirst ? " batch_first" : "") + " under " + limit;
                try (Device device = Device.select(DEVICE, true); Rnn rnn = Rnn.create(device, weights)) {
                    Profile one = new Profile();
                    RnnOutput whole = rnn.forward(in, one);
                    // room for 3 sequences of 5 steps: 13 halves to 6, then 3 fits; 5 slices
                    if (limit.equals("device memory")) {
                        Engines.limitMemory(rnn.engine(), Engines.largestBuffer(rnn.engine(), 5, 3), Long.MAX_VALUE);
                    } else {
                        Engines.limitTransfers(rnn.engine(), Engines.largestTransfer(rnn.engine(), 5, 3));
                    }
                    Profile sliced = new Profile();
                    RnnOutput y = rnn.forward(in, sliced);
                    assertEquals(2, one.commands(Profile.TRANSFER), what + ": one forward, one transfer each way");
                    assertTrue(sliced.commands(Profile.TRANSFER) >= 2 * 5,
                            what + ": " + sliced.commands(Profile.TRANSFER) + " transfers, fewer than 5 slices");
                    one.release();
                    sliced.release();
                    assertEquals(mode.hasCellState(), whole.cell() != null, what + ": c_n exactly when the mode has one");
                    assertClose(whole, y, 1e-6, 1e-6, what);
                }
            }
        }
    }

    @Test
    void anInputTooLargeEvenForOneSequenceIsRefusedWithTheSizes() {
        try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, WEIGHTS)) {
            Engines.limitMemory(rnn.engine(), 1024, Long.MAX_VALUE);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> rnn.forward(x(1, 50, 2)));
            assertTrue(e.getMessage().startsWith("input too large for "), e.getMessage());
            assertTrue(e.getMessage().contains("seq_len 50"), e.getMessage());
        }
    }

    @Test
    void nanAndInfinityPropagateAsInTheReference() {
        for (CellType mode : CellType.values()) {
            RnnConfig config = CONFIG.withMode(mode);
            RnnWeights weights = RnnWeights.init(config, 3);
            Tensor x = x(51, 6, 3);
            x.data()[(2 * 3 + 1) * 8 + 4] = Float.NaN;               // t=2, b=1
            x.data()[(4 * 3 + 2) * 8] = Float.POSITIVE_INFINITY;      // t=4, b=2
            RnnOutput expected = ReferenceRnn.forward(weights, x, null);
            try (Device device = Device.select(DEVICE); Rnn rnn = Rnn.create(device, weights)) {
                RnnOutput y = rnn.forward(x);
                assertClose(expected.output(), y.output(), mode + " out");
                assertClose(expected.hidden(), y.hidden(), mode + " h_n");
                int width = 2 * CONFIG.hiddenSize();
                assertTrue(Float.isNaN(y.output().data()[(5 * 3 + 1) * width]), "NaN reaches the end of row 1");
                assertFalse(Float.isNaN(y.output().data()[(1 * 3 + 0) * width + 12]), "row 0 stays finite");
            }
        }
    }
}
