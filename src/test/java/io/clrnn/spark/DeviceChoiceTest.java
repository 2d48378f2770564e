package io.clrnn.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.InvalidInputException;
import io.clrnn.device.DeviceInfo;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/** Spark's GPU addresses to OpenCL devices: address k is the k-th GPU, whatever else the machine lists. */
class DeviceChoiceTest {
    static final List<DeviceInfo> DEVICES = List.of(
            device(0, DeviceInfo.Type.CPU, "pthread-skylake"),
            device(1, DeviceInfo.Type.GPU, "NVIDIA H100"),
            device(2, DeviceInfo.Type.ACCELERATOR, "FPGA"),
            device(3, DeviceInfo.Type.GPU, "NVIDIA H100"));

    static DeviceInfo device(int index, DeviceInfo.Type type, String name) {
        return new DeviceInfo(index, type, name, "platform", "vendor", "OpenCL 3.0", 1, 1L << 30, 1L << 28, 1L << 16,
                true, 1024, 8, true);
    }

    @Test
    void addressIsTheIndexAmongGpus() {
        assertEquals(1, DeviceChoice.gpuIndex("0", DEVICES));
        assertEquals(3, DeviceChoice.gpuIndex(" 1 ", DEVICES));
    }

    @Test
    void addressesThatNameNoGpuAreRefusedInOneLine() {
        InvalidInputException beyond = assertThrows(InvalidInputException.class, () -> DeviceChoice.gpuIndex("2", DEVICES));
        assertEquals("device resource:gpu: Spark assigned GPU 2, but this executor has 2 OpenCL GPU(s): "
                + "[NVIDIA H100, NVIDIA H100]", beyond.getMessage());
        InvalidInputException uuid = assertThrows(InvalidInputException.class,
                () -> DeviceChoice.gpuIndex("GPU-5e1c", DEVICES));
        assertEquals("device resource:gpu: Spark's GPU address 'GPU-5e1c' is not an index; the discovery script must "
                + "report GPU indices (0, 1, ...)", uuid.getMessage());
    }

    @Test
    void otherSpecsPassThroughAndOtherResourcesAreRefused() {
        assertEquals("gpu", DeviceChoice.resolve("gpu", null));
        assertEquals("0", DeviceChoice.resolve("0", null));
        InvalidInputException none = assertThrows(InvalidInputException.class,
                () -> DeviceChoice.resolve("resource:gpu", null));
        assertEquals("device resource:gpu: Spark assigned this task no GPU; set spark.executor.resource.gpu.amount "
                + "and spark.task.resource.gpu.amount (with a discovery script) on a cluster, or name a device (gpu, "
                + "an index) in local mode", none.getMessage());
        assertThrows(InvalidInputException.class, () -> DeviceChoice.resolve("resource:fpga", null));
    }

    /** Local mode cannot assign GPUs; asked for some, its tasks wait forever: refused with what to do instead. */
    @Test
    @EnabledIf(value = "io.clrnn.spark.SparkOnClasspath#present",
            disabledReason = "Spark is not on this classpath (the test bundle leaves it out)")
    void gpuRequestsInLocalModeAreRefused() {
        SparkConf plain = new SparkConf(false);
        assertNull(ClrnnScorer.localGpuProblem("local[2]", plain, "auto"));
        assertNull(ClrnnScorer.localGpuProblem("local-cluster[2,1,1024]", plain, "resource:gpu"));
        assertNull(ClrnnScorer.localGpuProblem("yarn", new SparkConf(false).set("spark.task.resource.gpu.amount", "1"),
                "resource:gpu"));
        assertEquals("spark.task.resource.gpu.amount is set, but local mode cannot assign GPUs and its tasks would "
                + "wait forever; remove it and name the device instead: device gpu, or an index from 'clrnn devices'",
                ClrnnScorer.localGpuProblem("local[*]", new SparkConf(false).set("spark.task.resource.gpu.amount", "1"),
                        "gpu"));
        assertTrue(ClrnnScorer.localGpuProblem("local", plain, " Resource:GPU ").startsWith("device resource:gpu needs"));
    }
}
