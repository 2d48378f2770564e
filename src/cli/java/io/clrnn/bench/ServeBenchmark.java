package io.clrnn.bench;

import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import io.clrnn.serve.InferenceServer;
import io.clrnn.serve.ServerOptions;
import java.io.IOException;
import java.net.URI;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load test of {@code clrnn serve} on loopback: a 2-layer LSTM(32, 256) state_dict served in process, N clients
 * (threads of this JVM, each with its own HTTP connection) sending requests of one sequence of 1 to 20 steps as fast
 * as answers come, for a fixed time after a warm-up; requests per second and latency percentiles, with dynamic
 * batching (the default limits) and with {@code --max-batch-size 1}. Bounded in time, loopback only.
 */
public final class ServeBenchmark {
    static final RnnConfig MODULE = RnnConfig.of(CellType.LSTM, 32, 256).withLayers(2);
    private static final int MAX_STEPS = 20;
    private static final int BODIES = 256;

    private ServeBenchmark() {}

    /** One load level: clients, requests answered a second, and latency percentiles in ms. */
    public record Result(String mode, int clients, long requests, double requestsPerSecond, double p50Ms, double p99Ms,
            int errors) {
        public String describe() {
            return String.format(Locale.ROOT, "%s, %d clients: %.0f requests/s, p50 %.2f ms, p99 %.2f ms%s", mode,
                    clients, requestsPerSecond, p50Ms, p99Ms, errors > 0 ? ", " + errors + " errors" : "");
        }
    }

    /**
     * Runs every client count against a server with {@code options}; {@code seconds} timed per level, after a warm-up
     * that goes on until the JIT compilers settle unless {@code quick}.
     */
    public static List<Result> run(Device device, String mode, ServerOptions options, int[] clientCounts,
            double seconds, boolean quick) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("clrnn-serve-bench");
        Path weights = dir.resolve("lstm.safetensors");
        StateDict.save(RnnWeights.init(MODULE, 1), weights);
        List<String> bodies = bodies();
        List<Result> out = new ArrayList<>();
        try (InferenceServer server = InferenceServer.start(device, List.of(new InferenceServer.ModelSpec("lstm",
                weights, RnnOptions.defaults())), options, "127.0.0.1", 0)) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v2/models/lstm/infer");
            // the server's JIT warms up under the heaviest load first, then each level settles before it is timed
            int most = Arrays.stream(clientCounts).max().orElse(1);
            if (quick) {
                load(uri, bodies, most, Math.max(3, seconds));
            } else {
                warmUp(uri, bodies, most, Math.max(3, seconds));
            }
            for (int clients : clientCounts) {
                load(uri, bodies, clients, Math.min(1.0, seconds));
                out.add(measure(mode, load(uri, bodies, clients, seconds), clients, seconds));
            }
        } finally {
            Files.deleteIfExists(weights);
            Files.deleteIfExists(dir);
        }
        return out;
    }

    private static List<String> bodies() {
        SplittableRandom random = new SplittableRandom(7);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < BODIES; i++) {
            int steps = 1 + random.nextInt(MAX_STEPS);
            Tensor x = Tensor.randn(i, 1, steps, MODULE.inputSize());
            StringBuilder s = new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,")
                    .append(steps).append(',').append(MODULE.inputSize()).append("],\"data\":[");
            for (int k = 0; k < x.numel(); k++) {
                s.append(k == 0 ? "" : ",").append(x.data()[k]);
            }
            bodies.add(s.append("]}],\"outputs\":[{\"name\":\"h_n\"}]}").toString());
        }
        return bodies;
    }

    /** Compiling takes this share of the wall time, at most, in a warm-up window that ends the warm-up. */
    private static final double SETTLED_COMPILING = 0.05;
    private static final double MAX_WARM_UP_SECONDS = 30;

    /**
     * Load for {@code seconds}, then on in one-second windows until the JIT compilers settle: the server's code paths
     * (HTTP, JSON, the batcher) are many, and C2 compiled for a quarter of both cores' time for the first 15 s of a
     * 64-client load, which the timed levels would otherwise share the machine with. Up to 30 s in all.
     */
    private static void warmUp(URI uri, List<String> bodies, int clients, double seconds) throws InterruptedException {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        load(uri, bodies, clients, seconds);
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        for (double spent = seconds; spent < MAX_WARM_UP_SECONDS; spent += 1) {
            long before = jit.getTotalCompilationTime();
            load(uri, bodies, clients, 1);
            if (jit.getTotalCompilationTime() - before <= SETTLED_COMPILING * 1000) {
                return;
            }
        }
    }

    private record Load(long[] latenciesNanos, int errors) {}

    /** {@code clients} threads sending until {@code seconds} are up; each answer's latency. */
    private static Load load(URI uri, List<String> bodies, int clients, double seconds) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicLong errors = new AtomicLong();
        try {
            List<Future<long[]>> runs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                runs.add(pool.submit(() -> {
                    // HttpURLConnection (keep-alive, one connection a client): the lightest client the JDK has, so
                    // that the clients, which share the machine with the server, take as little of it as they can
                    long[] latencies = new long[1024];
                    int n = 0;
                    for (int i = client; System.nanoTime() < deadline; i += clients) {
                        byte[] body = bodies.get(i % bodies.size()).getBytes(StandardCharsets.UTF_8);
                        long start = System.nanoTime();
                        HttpURLConnection http = (HttpURLConnection) uri.toURL().openConnection();
                        http.setRequestMethod("POST");
                        http.setDoOutput(true);
                        http.setFixedLengthStreamingMode(body.length);
                        http.setRequestProperty("Content-Type", "application/json");
                        try (OutputStream out = http.getOutputStream()) {
                            out.write(body);
                        }
                        int status = http.getResponseCode();
                        try (InputStream in = status == 200 ? http.getInputStream() : http.getErrorStream()) {
                            if (in != null) {
                                in.readAllBytes();
                            }
                        }
                        long took = System.nanoTime() - start;
                        if (status != 200) {
                            errors.incrementAndGet();
                            continue;
                        }
                        if (n == latencies.length) {
                            latencies = Arrays.copyOf(latencies, 2 * n);
                        }
                        latencies[n++] = took;
                    }
                    return Arrays.copyOf(latencies, n);
                }));
            }
            long[] all = new long[0];
            for (Future<long[]> f : runs) {
                long[] l = f.get();
                long[] merged = Arrays.copyOf(all, all.length + l.length);
                System.arraycopy(l, 0, merged, all.length, l.length);
                all = merged;
            }
            return new Load(all, (int) errors.get());
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a load-test client failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static Result measure(String mode, Load load, int clients, double seconds) {
        long[] l = load.latenciesNanos().clone();
        Arrays.sort(l);
        double p50 = l.length == 0 ? Double.NaN : l[(int) (0.50 * (l.length - 1))] / 1e6;
        double p99 = l.length == 0 ? Double.NaN : l[(int) Math.ceil(0.99 * (l.length - 1))] / 1e6;
        return new Result(mode, clients, l.length, l.length / seconds, p50, p99, load.errors());
    }
}
