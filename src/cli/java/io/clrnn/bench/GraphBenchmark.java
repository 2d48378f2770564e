package io.clrnn.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.onnx.IntTensor;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxSession;
import java.util.Locale;
import java.util.Map;

/**
 * Times a whole ONNX network at steady state, as {@link Benchmark} times a module: each timed run gives the
 * inputs, runs every node and reads every graph output back. Device time per kernel family comes from a few
 * runs more, with events.
 */
public final class GraphBenchmark {
    private GraphBenchmark() {}

    public record Result(String model, String deviceName, Timing timing, Map<String, Double> familyMs,
            long peakTensorBytes) {
        public ObjectNode toJson() {
            ObjectNode o = Report.JSON.createObjectNode().put("model", model).put("implementation", "clrnn")
                    .put("device", deviceName);
            Report.putTiming(o, timing, 0);
            o.put("peak_tensor_bytes", peakTensorBytes);
            ObjectNode families = o.putObject("device_ms");
            familyMs.forEach(families::put);
            return o;
        }

        public String toText() {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                    "%s  clrnn on %s: median %.3f ms (min %.3f, max %.3f, %d runs after %d warm-up runs in %.1f s)",
                    model, deviceName, timing.medianMs(), timing.minMs(), timing.maxMs(), timing.runs(),
                    timing.warmupRuns(), timing.warmupSeconds()));
            s.append(String.format(Locale.ROOT, "%n  peak device memory of the graph's tensors: %.2f MiB",
                    peakTensorBytes / 1048576.0));
            if (!familyMs.isEmpty()) {
                s.append("\n  device time per run:");
                familyMs.forEach((f, ms) -> s.append(String.format(Locale.ROOT, " %s %.3f ms", f, ms)));
            }
            return s.toString();
        }
    }

    public static Result run(Device device, OnnxModel model, Map<String, Tensor> floats, Map<String, IntTensor> ints,
            Benchmark.Budget budget) {
        try (OnnxSession session = model.open(device)) {
            Timing timing = Benchmark.time(() -> session.run(floats, ints), budget);
            int runs = device.profiling() ? Math.max(1, Math.min(timing.runs(), 10)) : 0;
            Map<String, Double> families = Benchmark.deviceFamilies(runs);
            for (int i = 0; i < runs; i++) {
                Profile profile = new Profile();
                session.run(floats, ints, profile);
                profile.nanosByFamily().forEach((f, ns) -> families.merge(f, ns / 1e6 / runs, Double::sum));
            }
            return new Result(model.toString().replaceAll("^OnnxModel\\((.*)\\)$", "$1"), device.info().name(),
                    timing, families, session.peakTensorBytes());
        }
    }
}
