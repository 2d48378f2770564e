package io.clrnn.bench;

import io.clrnn.Rnn;
import io.clrnn.RnnOutput;
import io.clrnn.Tensor;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnWeights;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Times whole forwards (upload X and h_0, compute, read back out and h_n) of one shape, on an
 * OpenCL device or on the Java reference. Runs until both the iteration count and the time budget
 * are spent, whichever asks for more, after warm-up runs that are not counted.
 */
public final class Benchmark {
    /** How long and how often to run. */
    public record Budget(int warmup, int minIterations, double minSeconds) {}

    /** A timed shape; {@code familyMs} is the mean device time per forward of each kernel family (empty when not profiled). */
    public record Result(Shape shape, String implementation, String deviceName, Timing timing,
            Map<Profile.Family, Double> familyMs, String recurrenceVariant) {
        public double gflops() {
            return timing.gflops(shape.flops());
        }
    }

    private Benchmark() {}

    public static Result openCl(Device device, Shape shape, Budget budget, long seed) {
        RnnWeights weights = RnnWeights.init(shape.config(), seed);
        Tensor x = random(seed + 1, shape.seqLen(), shape.batch(), shape.inputSize());
        Tensor h0 = random(seed + 2, shape.layers() * (shape.bidirectional() ? 2 : 1), shape.batch(),
                shape.hiddenSize());
        try (Rnn rnn = Rnn.create(device, weights)) {
            Timing timing = time(() -> rnn.forward(x, h0), budget);
            Map<Profile.Family, Double> families = new EnumMap<>(Profile.Family.class);
            if (device.profiling()) {
                int runs = Math.max(1, Math.min(timing.runs(), 10));
                for (int i = 0; i < runs; i++) {
                    Profile profile = new Profile();
                    rnn.forward(x, h0, profile);
                    profile.nanosByFamily().forEach((f, ns) -> families.merge(f, ns / 1e6 / runs, Double::sum));
                }
            }
            String variant = rnn.engine().recurrencePlan(
                    io.clrnn.model.ForwardShape.check(rnn.config(), x, h0)).variant().name().toLowerCase();
            return new Result(shape, "clrnn", device.info().name(), timing, families, variant);
        }
    }

    public static Result reference(Shape shape, Budget budget, long seed) {
        RnnWeights weights = RnnWeights.init(shape.config(), seed);
        Tensor x = random(seed + 1, shape.seqLen(), shape.batch(), shape.inputSize());
        Tensor h0 = random(seed + 2, shape.layers() * (shape.bidirectional() ? 2 : 1), shape.batch(),
                shape.hiddenSize());
        Timing timing = time(() -> ReferenceRnn.forward(weights, x, h0), budget);
        return new Result(shape, "java-reference", "JVM (1 thread)", timing, Map.of(), "");
    }

    static Timing time(Supplier<RnnOutput> forward, Budget budget) {
        for (int i = 0; i < budget.warmup(); i++) {
            forward.get();
        }
        List<Double> millis = new ArrayList<>();
        long start = System.nanoTime();
        while (millis.size() < budget.minIterations() || (System.nanoTime() - start) / 1e9 < budget.minSeconds()) {
            long t0 = System.nanoTime();
            forward.get();
            millis.add((System.nanoTime() - t0) / 1e6);
        }
        return Timing.of(millis.stream().mapToDouble(Double::doubleValue).toArray());
    }

    public static Tensor random(long seed, int... shape) {
        SplittableRandom random = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        float[] data = t.data();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }
}
