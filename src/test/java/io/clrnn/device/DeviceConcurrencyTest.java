package io.clrnn.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clrnn.TestDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * Device set-up from many threads at once, as Spark executors and servlet containers do it: before
 * enumeration and builds were guarded, this crashed the JVM in clGetDeviceInfo or reported no device.
 */
class DeviceConcurrencyTest {
    private static final int THREADS = 8;

    @RepeatedTest(3)
    void eightThreadsOpenAndCloseDevicesInALoop() throws Exception {
        int before = ClResource.liveCount();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    int opened = 0;
                    for (int round = 0; round < 40; round++) {
                        Device.list();
                        try (Device device = Device.select(TestDevice.SPEC)) {
                            device.buffer(64).close();
                            opened++;
                        }
                    }
                    return opened;
                }));
            }
            start.countDown();
            for (Future<Integer> f : futures) {
                assertEquals(40, f.get(120, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(before, ClResource.liveCount(), () -> "leaked: " + ClResource.liveCounts());
    }

    /** Programs no cache has seen (a fresh nonce in the options), built on two devices at the same moment. */
    @Test
    void programsBuildOnTwoDevicesAtOnceFromAnEmptyCache() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Device a = Device.select(TestDevice.SPEC); Device b = Device.select(TestDevice.SPEC)) {
            for (int round = 0; round < 10; round++) {
                CountDownLatch start = new CountDownLatch(1);
                String options = "#define VEC 4\n#define CLRNN_NONCE " + System.nanoTime() + round;
                List<Future<ClProgram>> builds = new ArrayList<>();
                for (Device d : new Device[] {a, b}) {
                    builds.add(pool.submit(() -> {
                        start.await();
                        return d.program(options, "common.cl", "projection.cl");
                    }));
                }
                start.countDown();
                for (Future<ClProgram> f : builds) {
                    f.get(120, TimeUnit.SECONDS).kernel("project").close();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
