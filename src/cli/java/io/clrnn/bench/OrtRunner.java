package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.clrnn.base.ClrnnException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Times ONNX models with ONNX Runtime for Java in a child JVM ({@link OrtTimer}), one per shape and round, so that
 * its threads never share a process with the OpenCL runtime's, as torch runs in its own. ONNX Runtime is a
 * benchmark-only dependency: neither the library nor target/clrnn.jar carries it, and the child's classpath adds
 * its jar, found by {@link #locate}.
 */
public final class OrtRunner {
    /** Starting a JVM and loading ONNX Runtime's native library takes a second or two on a cold cache. */
    private static final long PROBE_TIMEOUT_S = 120;
    private static final long RUN_TIMEOUT_S = 900;
    private static final String ORT_CLASS = "ai/onnxruntime/OrtEnvironment.class";

    private final List<String> java;
    private final String version;
    private final String source;

    private OrtRunner(List<String> java, String version, String source) {
        this.java = java;
        this.version = version;
        this.source = source;
    }

    /** Why ONNX Runtime cannot run here, in a few words for the suite's output. */
    public static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String reason) {
            super(reason);
        }
    }

    /** The version of ONNX Runtime that answered, e.g. {@code 1.23.2}. */
    public String version() {
        return version;
    }

    /** Where its jar came from (a path, or "the classpath"). */
    public String source() {
        return source;
    }

    /** The version of ONNX Runtime clrnn was built against (the pom's onnxruntime.version). */
    public static String expectedVersion() {
        Properties p = new Properties();
        try (InputStream in = OrtRunner.class.getResourceAsStream("bench.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("onnxruntime.version", "");
    }

    /**
     * A runner whose child JVM can load ONNX Runtime: with {@code jar} when given; else with this JVM's classpath
     * when that has it already (tests, an IDE); else with the jar that scripts/bench copies next to clrnn.jar
     * ({@code target/bench-lib/}); else with the local Maven repository's, where building clrnn put it. The child
     * is started once to ask ONNX Runtime for its version: that proves its native library loads here.
     */
    public static OrtRunner locate(Path jar) throws Unavailable {
        String version = expectedVersion();
        String classpath = System.getProperty("java.class.path");
        List<String> paths = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                paths.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        String source;
        if (jar != null) {
            if (!Files.isRegularFile(jar)) {
                throw new Unavailable("--ort-jar " + jar + " is not a file");
            }
            paths.add(jar.toAbsolutePath().toString());
            source = jar.toAbsolutePath().toString();
        } else if (OrtRunner.class.getClassLoader().getResource(ORT_CLASS) != null) {
            source = "the classpath";
        } else {
            List<Path> candidates = candidates(version);
            Path found = candidates.stream().filter(Files::isRegularFile).findFirst()
                    .orElseThrow(() -> new Unavailable("no onnxruntime-" + version + ".jar at "
                            + candidates.stream().map(Path::toString).collect(Collectors.joining(" or "))
                            + " (scripts/bench fetches it; or give --ort-jar)"));
            paths.add(found.toString());
            source = found.toString();
        }
        List<String> java = new ArrayList<>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.addAll(memoryOptions());
        java.addAll(List.of("-cp", String.join(File.pathSeparator, paths), OrtTimer.class.getName()));
        List<String> command = new ArrayList<>(java);
        command.add("--version");
        try {
            JsonNode answer = Subprocess.runForJson("ONNX Runtime's JVM", command, PROBE_TIMEOUT_S);
            return new OrtRunner(java, answer.path("version").asText(), source);
        } catch (IOException | ClrnnException e) {
            throw new Unavailable("ONNX Runtime from " + source + " does not start: " + e.getMessage());
        }
    }

    /**
     * This JVM's heap and garbage-collector options ({@code -Xm..}, {@code -XX:..}: the launcher's transparent huge
     * pages among them), which ONNX Runtime's JVM gets too: both peers then pay the same for the arrays they return.
     */
    public static List<String> memoryOptions() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:") || a.startsWith("-Xm") || a.startsWith("-Xs"))
                .toList();
    }

    /** target/bench-lib/ next to clrnn.jar, then the local Maven repository. */
    private static List<Path> candidates(String version) {
        String name = "onnxruntime-" + version + ".jar";
        List<Path> candidates = new ArrayList<>();
        try {
            Path code = Path.of(OrtRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (code.getParent() != null) {
                candidates.add(code.getParent().resolve("bench-lib").resolve(name));
            }
        } catch (URISyntaxException | RuntimeException e) {
            // Not from a file: only the Maven repository is left.
        }
        candidates.add(Path.of(System.getProperty("user.home"), ".m2", "repository", "com", "microsoft",
                "onnxruntime", "onnxruntime", version, name));
        return candidates;
    }

    /**
     * Times whole forwards of the ONNX model of {@code shape} with each of {@code threads} intra-op thread counts
     * in turn, in one child JVM, on clrnn's input for {@code seed}.
     */
    public List<Report.Measurement> run(Path model, Shape shape, long seed, List<Integer> threads,
            Benchmark.Budget budget) throws IOException {
        List<String> command = new ArrayList<>(java);
        command.addAll(List.of(model.toString(), shape.label(), Long.toString(seed),
                threads.stream().map(String::valueOf).collect(Collectors.joining(",")),
                Integer.toString(budget.warmup()), String.format(Locale.ROOT, "%s", budget.warmupSeconds()),
                Integer.toString(budget.minIterations()), String.format(Locale.ROOT, "%s", budget.minSeconds())));
        List<Report.Measurement> measurements = new ArrayList<>();
        Subprocess.runForJson("ONNX Runtime's JVM", command, RUN_TIMEOUT_S).path("measurements")
                .forEach(m -> measurements.add(Report.Measurement.fromJson(m)));
        if (measurements.size() != threads.size()) {
            throw new ClrnnException("ONNX Runtime answered " + measurements.size() + " measurements for "
                    + threads.size() + " thread counts");
        }
        return measurements;
    }

    /**
     * Times a whole network with each of {@code threads} intra-op thread counts, on the given input files by
     * graph input name; returns each count's median in milliseconds, in order.
     */
    public List<Double> runGraph(Path model, java.util.Map<String, Path> inputs, List<Integer> threads,
            Benchmark.Budget budget) throws IOException {
        List<String> command = new ArrayList<>(java);
        command.addAll(List.of("--graph", model.toString()));
        command.addAll(threadsAndBudget(threads, budget));
        inputs.forEach((name, path) -> command.add(name + "=" + path));
        return medians(command, threads.size());
    }

    /**
     * Times one greedy generation step (see {@link GenerationBenchmark}) of a language model exported with its state
     * as inputs and outputs (ids, h0, c0 to logits, hn, cn), with each of {@code threads} intra-op thread counts;
     * returns each count's median in milliseconds, in order.
     */
    public List<Double> runGeneration(Path model, int batch, int vocab, List<Integer> threads,
            Benchmark.Budget budget) throws IOException {
        List<String> command = new ArrayList<>(java);
        command.addAll(List.of("--generate", model.toString(), Integer.toString(batch), Integer.toString(vocab)));
        command.addAll(threadsAndBudget(threads, budget));
        return medians(command, threads.size());
    }

    /** OrtTimer's arguments THREADS WARMUP WARMUP_SECONDS MIN_ITERATIONS MIN_SECONDS. */
    private static List<String> threadsAndBudget(List<Integer> threads, Benchmark.Budget budget) {
        return List.of(threads.stream().map(String::valueOf).collect(Collectors.joining(",")),
                Integer.toString(budget.warmup()), String.format(Locale.ROOT, "%s", budget.warmupSeconds()),
                Integer.toString(budget.minIterations()), String.format(Locale.ROOT, "%s", budget.minSeconds()));
    }

    /** Runs OrtTimer and reads one median per thread count from its answer. */
    private static List<Double> medians(List<String> command, int threadCounts) throws IOException {
        List<Double> medians = new ArrayList<>();
        Subprocess.runForJson("ONNX Runtime's JVM", command, RUN_TIMEOUT_S).path("measurements")
                .forEach(m -> medians.add(m.path("median_ms").asDouble()));
        if (medians.size() != threadCounts) {
            throw new ClrnnException("ONNX Runtime answered " + medians.size() + " measurements for "
                    + threadCounts + " thread counts");
        }
        return medians;
    }
}
