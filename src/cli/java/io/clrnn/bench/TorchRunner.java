package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.clrnn.base.ClrnnException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times torch.nn.RNN by running {@code scripts/bench_torch.py} in a Python that has torch, one
 * subprocess per measurement, so that torch's threads never share a process with the JVM's.
 */
public final class TorchRunner {
    private static final Logger log = LoggerFactory.getLogger(TorchRunner.class);
    /** Importing torch alone takes seconds on a cold cache. */
    private static final long PROBE_TIMEOUT_S = 120;
    private static final long RUN_TIMEOUT_S = 900;

    private final String python;
    private final Path script;
    private final String version;
    private final boolean cuda;

    private TorchRunner(String python, Path script, String version, boolean cuda) {
        this.python = python;
        this.script = script;
        this.version = version;
        this.cuda = cuda;
    }

    public String python() {
        return python;
    }

    public String version() {
        return version;
    }

    public boolean cudaAvailable() {
        return cuda;
    }

    /** A runner for {@code python} if it starts and can import torch; empty otherwise. */
    public static Optional<TorchRunner> probe(String python, Path script) {
        String code = "import json, torch; print(json.dumps({'version': torch.__version__, "
                + "'cuda': torch.cuda.is_available()}))";
        try {
            JsonNode answer = Subprocess.runForJson(List.of(python, "-c", code), PROBE_TIMEOUT_S);
            return Optional.of(new TorchRunner(python, script, answer.path("version").asText(),
                    answer.path("cuda").asBoolean()));
        } catch (IOException | ClrnnException e) {
            log.debug("{} cannot run torch: {}", python, e.getMessage());
            return Optional.empty();
        }
    }

    /** bench_torch.py next to the working directory's scripts/, else next to the jar (target/../scripts). */
    public static Optional<Path> locateScript() {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("scripts", "bench_torch.py")));
        try {
            Path code = Path.of(TorchRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (code.getParent() != null && code.getParent().getParent() != null) {
                candidates.add(code.getParent().getParent().resolve("scripts").resolve("bench_torch.py"));
            }
        } catch (URISyntaxException | RuntimeException e) {
            log.debug("cannot tell where clrnn's classes are: {}", e.toString());
        }
        return candidates.stream().filter(Files::isRegularFile).map(Path::toAbsolutePath).findFirst();
    }

    /**
     * Times whole forwards of {@code shape} with {@code threads} torch threads, on the GPU when {@code onCuda},
     * warmed up and timed as {@code budget} says (bench_torch.py settles the median as {@link Benchmark} does).
     */
    public Report.Measurement run(Shape shape, int threads, boolean onCuda, Benchmark.Budget budget) throws IOException {
        List<String> command = moduleCommand(shape);
        command.addAll(List.of("--threads", Integer.toString(threads), "--device", onCuda ? "cuda" : "cpu"));
        command.addAll(budgetArguments(budget));
        return Report.Measurement.fromJson(Subprocess.runForJson(command, RUN_TIMEOUT_S));
    }

    /**
     * Writes the torch module of {@code shape} as ONNX to {@code file} (torch.onnx.export, layout 0; a ragged
     * shape's model takes sequence_lens), for ONNX Runtime. Fails for an LSTM with proj_size, which ONNX cannot
     * express, and for a ragged shape when the Python lacks the onnx package; the message says which.
     */
    public void exportOnnx(Shape shape, Path file) throws IOException {
        List<String> command = moduleCommand(shape);
        command.addAll(List.of("--export-onnx", file.toString()));
        Subprocess.runForJson(command, RUN_TIMEOUT_S);
    }

    /** bench_torch.py and the arguments that make its module and input: the shape's. */
    private List<String> moduleCommand(Shape shape) {
        List<String> command = new ArrayList<>(List.of(python, script.toString(),
                "--seq", Integer.toString(shape.seqLen()), "--batch", Integer.toString(shape.batch()),
                "--input", Integer.toString(shape.inputSize()), "--hidden", Integer.toString(shape.hiddenSize()),
                "--layers", Integer.toString(shape.layers()), "--mode", shape.mode().cliName(),
                "--proj", Integer.toString(shape.projSize())));
        if (shape.bidirectional()) {
            command.add("--bidirectional");
        }
        int[] lengths = shape.lengths(Benchmark.LENGTHS_SEED);
        if (lengths != null) {
            command.add("--lengths");
            for (int l : lengths) {
                command.add(Integer.toString(l));
            }
        }
        return command;
    }

    private static List<String> budgetArguments(Benchmark.Budget budget) {
        return List.of("--warmup", Integer.toString(budget.warmup()),
                "--warmup-seconds", String.format(Locale.ROOT, "%s", budget.warmupSeconds()),
                "--iterations", Integer.toString(budget.minIterations()),
                "--seconds", String.format(Locale.ROOT, "%s", budget.minSeconds()));
    }

    /**
     * Times each of {@code gemms} as one float32 torch.mm (OpenBLAS SGEMM) with {@code threads} threads, all
     * in one subprocess; the answer has them in the same order.
     */
    public List<Report.GemmTime> gemm(List<Shape.Gemm> gemms, int threads, Benchmark.Budget budget)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--gemm"));
        gemms.forEach(g -> command.addAll(List.of(Integer.toString(g.m()), Integer.toString(g.n()),
                Integer.toString(g.k()))));
        command.addAll(List.of("--threads", Integer.toString(threads)));
        command.addAll(budgetArguments(budget));
        JsonNode answer = Subprocess.runForJson(command, RUN_TIMEOUT_S).path("gemms");
        List<Report.GemmTime> times = new ArrayList<>();
        for (int i = 0; i < gemms.size(); i++) {
            times.add(new Report.GemmTime(gemms.get(i), answer.path(i).path("median_ms").asDouble(Double.NaN),
                    threads));
        }
        if (times.stream().anyMatch(t -> !(t.ms() > 0))) {
            throw new ClrnnException("bench_torch.py --gemm answered without a time for each matmul: " + answer);
        }
        return times;
    }

    /** Exports the benchmark network {@code name} (scripts/networks.py's BENCH; opset 14, dynamic axes) to {@code file}. */
    public void exportNetwork(String name, Path file) throws IOException {
        Subprocess.runForJson(List.of(python, script.toString(), "--network", name, "--export-onnx", file.toString()),
                RUN_TIMEOUT_S);
    }

    /** Writes the network's seeded input of (batch, seq) to {@code file} (.npy). */
    public void saveNetworkInput(String name, int batch, int seq, Path file) throws IOException {
        Subprocess.runForJson(List.of(python, script.toString(), "--network", name, "--batch", Integer.toString(batch),
                "--seq", Integer.toString(seq), "--save-input", file.toString()), RUN_TIMEOUT_S);
    }

    /** The median milliseconds of torch's own forward of the network on that input, with {@code threads} threads. */
    public double runNetwork(String name, int batch, int seq, int threads, Benchmark.Budget budget) throws IOException {
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--network", name, "--batch",
                Integer.toString(batch), "--seq", Integer.toString(seq), "--threads", Integer.toString(threads)));
        command.addAll(budgetArguments(budget));
        double ms = Subprocess.runForJson(command, RUN_TIMEOUT_S).path("median_ms").asDouble(Double.NaN);
        if (!(ms > 0)) {
            throw new ClrnnException("bench_torch.py --network " + name + " answered without a time");
        }
        return ms;
    }

    /**
     * Exports the seeded language model twice (opset 14, dynamic batch and sequence): ids to logits into
     * {@code logits}, for clrnn; and ids, h0, c0 to logits, hn, cn into {@code withState}, for ONNX Runtime.
     */
    public void exportLanguageModel(GenerationBenchmark.Model lm, Path logits, Path withState) throws IOException {
        List<String> command = generateCommand(lm, 1);
        command.addAll(List.of("--export-onnx", logits.toString(), "--export-onnx-state", withState.toString()));
        Subprocess.runForJson(command, RUN_TIMEOUT_S);
    }

    /** The median milliseconds of one greedy step of torch's own loop (carrying (h, c)), {@code threads} threads. */
    public double runGeneration(GenerationBenchmark.Model lm, int batch, int threads, Benchmark.Budget budget)
            throws IOException {
        List<String> command = generateCommand(lm, batch);
        command.addAll(List.of("--threads", Integer.toString(threads)));
        command.addAll(budgetArguments(budget));
        double ms = Subprocess.runForJson(command, RUN_TIMEOUT_S).path("median_ms").asDouble(Double.NaN);
        if (!(ms > 0)) {
            throw new ClrnnException("bench_torch.py --generate answered without a time");
        }
        return ms;
    }

    private List<String> generateCommand(GenerationBenchmark.Model lm, int batch) {
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--generate", "--batch",
                Integer.toString(batch), "--seq", Integer.toString(GenerationBenchmark.PROMPT_LENGTH)));
        command.addAll(lm.torchArguments());
        return command;
    }
}
