package io.clrnn.bench;

import java.util.Arrays;

/** Wall-clock times of repeated runs, in milliseconds, and the untimed warm-up before them. */
public record Timing(double medianMs, double minMs, double maxMs, int runs, int warmupRuns, double warmupSeconds) {
    public static Timing of(double[] millis) {
        double[] sorted = millis.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Timing(median, sorted[0], sorted[n - 1], n, 0, 0);
    }

    public Timing withWarmup(int count, double seconds) {
        return new Timing(medianMs, minMs, maxMs, runs, count, seconds);
    }

    public double gflops(double flops) {
        return flops / (medianMs * 1e6);
    }
}
