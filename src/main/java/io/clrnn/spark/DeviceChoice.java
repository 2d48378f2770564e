package io.clrnn.spark;

import io.clrnn.base.InvalidInputException;
import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The device a task runs on. {@code resource:gpu} is the GPU Spark assigned to the task (its {@code gpu}
 * resource addresses, as the cluster's discovery script reported them): address {@code k} is the k-th OpenCL
 * GPU of this executor, in {@code clrnn devices} order. Any other spec is clrnn's own
 * ({@code auto}, {@code cpu}, {@code gpu}, an index, part of a name) and is passed through.
 */
final class DeviceChoice {
    /** The spec that means "the GPU Spark assigned to this task". */
    static final String SPARK_GPU = "resource:gpu";

    private DeviceChoice() {}

    static boolean isSparkGpu(String spec) {
        return spec != null && spec.trim().toLowerCase(Locale.ROOT).equals(SPARK_GPU);
    }

    /** A spec {@link Device#select} takes, for a task running under {@code task} (null outside a task). */
    static String resolve(String spec, TaskContext task) {
        if (!isSparkGpu(spec)) {
            if (spec != null && spec.trim().toLowerCase(Locale.ROOT).startsWith("resource:")) {
                throw new InvalidInputException("unknown device '" + spec + "': the Spark resource clrnn maps "
                        + "to a device is " + SPARK_GPU);
            }
            return spec;
        }
        Map<String, ResourceInformation> resources = task == null ? Map.of() : task.resourcesJMap();
        ResourceInformation gpu = resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            throw new InvalidInputException("device " + SPARK_GPU + ": Spark assigned this task no GPU; set "
                    + "spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount (with a discovery "
                    + "script) on a cluster, or name a device (gpu, an index) in local mode");
        }
        // A task given several GPUs runs on the first: one module serves one device.
        return String.valueOf(gpuIndex(gpu.addresses()[0], Device.list()));
    }

    /** The index in {@code devices} of the GPU that Spark's address {@code address} names. */
    static int gpuIndex(String address, List<DeviceInfo> devices) {
        List<DeviceInfo> gpus = devices.stream().filter(d -> d.type() == DeviceInfo.Type.GPU).toList();
        int k;
        try {
            k = Integer.parseInt(address.trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("device " + SPARK_GPU + ": Spark's GPU address '" + address
                    + "' is not an index; the discovery script must report GPU indices (0, 1, ...)");
        }
        if (k < 0 || k >= gpus.size()) {
            throw new InvalidInputException("device " + SPARK_GPU + ": Spark assigned GPU " + address
                    + ", but this executor has " + gpus.size() + " OpenCL GPU(s)"
                    + (gpus.isEmpty() ? "" : ": " + gpus.stream().map(DeviceInfo::name).toList()));
        }
        return gpus.get(k).index();
    }
}
