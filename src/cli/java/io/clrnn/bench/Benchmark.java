package io.clrnn.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.model.RnnConfig;
import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.engine.RnnEngine;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.OnnxSession;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times whole forwards (upload X and h_0, compute, read back out and h_n) of one shape, on an
 * OpenCL device or on the Java reference. Runs until both the iteration count and the time budget
 * are spent, whichever asks for more, after warm-up runs that are not counted.
 */
public final class Benchmark {
    /** Seed of ragged shapes' lengths, the same for every implementation. */
    public static final long LENGTHS_SEED = 4242;

    /**
     * How long and how often to run: at least {@code warmup} untimed runs and {@code warmupSeconds} of them,
     * and, when {@code warmupSeconds > 0}, on until the medians of two successive windows of runs agree
     * within {@link #SETTLED} (a JVM, a JIT and a driver's caches take a while to reach steady state); then
     * timed runs until both {@code minIterations} and {@code minSeconds} are spent.
     */
    public record Budget(int warmup, double warmupSeconds, int minIterations, double minSeconds) {
        public Budget(int warmup, int minIterations, double minSeconds) {
            this(warmup, 0, minIterations, minSeconds);
        }

        /** The default: a second of warm-up at least, until the median settles, then a second of timed runs. */
        public static Budget steady() {
            return new Budget(3, 1.0, 10, 1.0);
        }

        /** 3 warm-up runs, 10 timed: a cold JVM's numbers, for smoke tests only. */
        public static Budget quick() {
            return new Budget(3, 0, 10, 0);
        }
    }

    /** Relative difference within which two windows' medians count as settled. */
    static final double SETTLED = 0.05;
    /** Warm-up stops here even when the median keeps moving (a shared machine's noise). */
    static final double MAX_WARMUP_SECONDS = 10;

    /**
     * A timed shape.
     *
     * @param familyMs mean device time per forward of each kernel family (empty when not profiled)
     * @param hostMs   host time per forward of each phase (empty when not profiled)
     */
    public record Result(Shape shape, String implementation, String deviceName, Timing timing,
            Map<String, Double> familyMs, String recurrenceVariant, WeightsDtype weightsDtype,
            Map<Profile.Host, Double> hostMs) {
        public double gflops() {
            return timing.gflops(shape.flops());
        }

        /** What {@code clrnn bench --json} prints: the keys bench_torch.py's JSON has too, the sizes, the split. */
        public ObjectNode toJson() {
            ObjectNode node = Report.JSON.createObjectNode();
            node.put("implementation", implementation);
            node.put("device", deviceName);
            node.put("shape", shape.label());
            Report.putSizes(node, shape);
            node.put("weights_dtype", weightsDtype.name().toLowerCase(Locale.ROOT));
            Report.putTiming(node, timing, shape.flops());
            node.put("recurrence", recurrenceVariant);
            ObjectNode families = node.putObject("device_ms");
            familyMs.forEach(families::put);
            ObjectNode host = node.putObject("host_ms");
            hostMs.forEach((h, ms) -> host.put(h.name().toLowerCase(Locale.ROOT), ms));
            return node;
        }
    }

    private Benchmark() {}

    /** The module, input and initial states a shape is timed with, the same for every implementation. */
    record Case(RnnWeights weights, RnnInput input) {
        static Case of(Shape shape, long seed) {
            RnnWeights weights = RnnWeights.init(shape.config(), seed);
            RnnConfig c = shape.config();
            int states = c.numLayers() * c.numDirections();
            RnnInput input = RnnInput.of(Tensor.randn(seed + 1, shape.seqLen(), shape.batch(), shape.inputSize()))
                    .h0(Tensor.randn(seed + 2, states, shape.batch(), c.outputSize()))
                    .lengths(shape.lengths(LENGTHS_SEED));
            if (c.mode().hasCellState()) {
                input = input.c0(Tensor.randn(seed + 3, states, shape.batch(), c.hiddenSize()));
            }
            return new Case(weights, input);
        }
    }

    public static Result openCl(Device device, Shape shape, Budget budget, long seed) {
        return openCl(device, shape, WeightsDtype.F32, budget, seed);
    }

    /**
     * Device milliseconds per family of commands, to be summed over {@code runs} profiled runs: when there are any,
     * every family a forward may have starts at 0, in the order the JSON lists them.
     */
    static Map<String, Double> deviceFamilies(int runs) {
        Map<String, Double> families = new LinkedHashMap<>();
        if (runs > 0) {
            for (String f : List.of(RnnEngine.PROJECTION, RnnEngine.RECURRENCE, OnnxSession.OPERATORS,
                    Profile.TRANSFER)) {
                families.put(f, 0.0);
            }
        }
        return families;
    }

    public static Result openCl(Device device, Shape shape, WeightsDtype dtype, Budget budget, long seed) {
        Case c = Case.of(shape, seed);
        try (Rnn rnn = Rnn.create(device, c.weights(), dtype)) {
            Timing timing = time(() -> rnn.forward(c.input()), budget);
            Map<Profile.Host, Double> host = new EnumMap<>(Profile.Host.class);
            String variant = "";
            int runs = device.profiling() ? Math.max(1, Math.min(timing.runs(), 10)) : 0;
            Map<String, Double> families = deviceFamilies(runs);
            for (int i = 0; i < runs; i++) {
                Profile profile = new Profile();
                rnn.forward(c.input(), profile);
                variant = profile.recurrence();
                profile.nanosByFamily().forEach((f, ns) -> families.merge(f, ns / 1e6 / runs, Double::sum));
            }
            // The host's phases from runs without events (which would slow the runtime down); the median of
            // each, as the timing's, so that a few preempted runs do not dominate.
            int hostRuns = device.profiling() ? Math.max(1, Math.min(timing.runs(), 200)) : 0;
            Map<Profile.Host, double[]> phases = new EnumMap<>(Profile.Host.class);
            for (int i = 0; i < hostRuns; i++) {
                Profile profile = Profile.hostOnly();
                rnn.forward(c.input(), profile);
                int run = i;
                profile.hostNanos().forEach((h, ns) -> phases.computeIfAbsent(h, k -> new double[hostRuns])[run] = ns / 1e6);
            }
            phases.forEach((h, ms) -> host.put(h, Timing.of(ms).medianMs()));
            return new Result(shape, "clrnn", device.info().name(), timing, families, variant, dtype, host);
        }
    }

    public static Result reference(Shape shape, Budget budget, long seed) {
        Case c = Case.of(shape, seed);
        Timing timing = time(() -> ReferenceRnn.forward(c.weights(), c.input()), budget);
        return new Result(shape, "java-reference", "JVM (1 thread)", timing, Map.of(), "", WeightsDtype.F32, Map.of());
    }

    /** Times {@code forward} (clrnn's, the reference's, ONNX Runtime's in its own JVM) as the class doc says. */
    public static Timing time(Runnable forward, Budget budget) {
        long start = System.nanoTime();
        int warmupRuns = 0;
        double previousWindow = Double.NaN;
        while (true) {
            // Windows of a quarter of the warm-up time, at least 5 runs: short enough to notice settling.
            List<Double> window = new ArrayList<>();
            long windowStart = System.nanoTime();
            do {
                long t0 = System.nanoTime();
                forward.run();
                window.add((System.nanoTime() - t0) / 1e6);
            } while (window.size() < 5 || (System.nanoTime() - windowStart) / 1e9 < budget.warmupSeconds() / 4);
            warmupRuns += window.size();
            double median = Timing.of(window.stream().mapToDouble(Double::doubleValue).toArray()).medianMs();
            double elapsed = (System.nanoTime() - start) / 1e9;
            boolean settled = Math.abs(median - previousWindow) <= SETTLED * median;
            previousWindow = median;
            if (warmupRuns >= budget.warmup() && elapsed >= budget.warmupSeconds()
                    && (budget.warmupSeconds() == 0 || settled || elapsed >= MAX_WARMUP_SECONDS)) {
                break;
            }
        }
        double warmupSeconds = (System.nanoTime() - start) / 1e9;
        List<Double> millis = new ArrayList<>();
        long timedStart = System.nanoTime();
        while (millis.size() < budget.minIterations() || (System.nanoTime() - timedStart) / 1e9 < budget.minSeconds()) {
            long t0 = System.nanoTime();
            forward.run();
            millis.add((System.nanoTime() - t0) / 1e6);
        }
        return Timing.of(millis.stream().mapToDouble(Double::doubleValue).toArray()).withWarmup(warmupRuns,
                warmupSeconds);
    }
}
