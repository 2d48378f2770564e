package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.bench.Benchmark;
import io.clrnn.bench.BusyCore;
import io.clrnn.bench.GenerationBenchmark;
import io.clrnn.bench.ServeBenchmark;
import io.clrnn.serve.ServerOptions;
import io.clrnn.bench.GraphBenchmark;
import io.clrnn.bench.Grid;
import io.clrnn.bench.Report;
import io.clrnn.bench.Shape;
import io.clrnn.base.WeightsDtype;
import io.clrnn.bench.OrtRunner;
import io.clrnn.bench.SpeedupChart;
import io.clrnn.bench.TorchRunner;
import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code clrnn bench-suite}: a fixed grid of shapes, clrnn against PyTorch and ONNX Runtime (each in processes of
 * its own), as Markdown tables, a JSON file and, drawn from that, a chart.
 */
@Command(name = "bench-suite", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Time clrnn, PyTorch and ONNX Runtime (1 thread and all threads, each in processes of its own) on a fixed "
                + "grid of RNN, LSTM and GRU shapes, at steady state and in interleaved rounds; clrnn with f16 "
                + "weights on the batch-1 shapes, and its projection GEMM against torch's SGEMM (OpenBLAS) on the "
                + "same sizes; then whole networks, and greedy text generation in tokens/s. Prints Markdown tables "
                + "and the targets met, writes OUT-DIR/<time>-<device>.json and a speedup chart .png next to it, and "
                + "a progress line per shape and round on stderr."})
final class BenchSuiteCommand implements Callable<Integer> {
    /** Above this many FLOPs per forward the Java reference runs only 1 + 2 times: it takes seconds each. */
    private static final double BIG_FLOPS = 2e8;
    /** Seconds per SGEMM timing at most: one matmul is a small part of a forward, and hundreds of runs settle it. */
    private static final double GEMM_SECONDS = 0.5;
    /** Every implementation's module and input come from this seed (torch's module: from its own seed 0). */
    private static final long SEED = 42;

    @Mixin DeviceOption device;
    @Option(names = "--python", paramLabel = "PATH", description = "Python with torch, or 'none' to skip torch "
            + "(and ONNX Runtime, whose models are torch's exports). Default: $PYTHON, else the first of "
            + "/usr/bin/python3, python3, python that can import torch.")
    String python;
    @Option(names = "--ort-jar", paramLabel = "JAR", description = "ONNX Runtime for Java's jar, or 'none' to skip "
            + "ONNX Runtime. Default: this JVM's classpath, else target/bench-lib/ (scripts/bench fetches it there), "
            + "else the local Maven repository.")
    String ortJar;
    @Option(names = "--out-dir", defaultValue = "bench-results", paramLabel = "DIR",
            description = "Where the JSON and PNG go (default ${DEFAULT-VALUE}).")
    Path outDir;
    @Option(names = "--seconds", defaultValue = "1", paramLabel = "S",
            description = "Timed seconds per implementation and round, after a warm-up of at least a second that "
                    + "goes on until the median settles, as clrnn bench's (default ${DEFAULT-VALUE}).")
    double seconds;
    @Option(names = "--rounds", paramLabel = "N", description = "Time each shape in N interleaved rounds (clrnn, "
            + "PyTorch, ONNX Runtime, SGEMM in turn) and keep each implementation's best round (default 3; 1 with "
            + "--quick).")
    Integer rounds;
    @Option(names = "--quick", description = "A tiny budget per case (for tests; the numbers are noisy).")
    boolean quick;
    @Option(names = "--reference", description = "Time the plain Java reference too, once per shape (slow: "
            + "seconds a forward on the larger shapes).")
    boolean reference;
    @Option(names = "--shapes", paramLabel = "LIST", description = "Replace the grid, e.g. \"T5 B4 I8 H8; LSTM T3 "
            + "B2 I4 H4 L2 bi ragged; GRU T5 B1 I8 H8 f16\", or none to skip it (only the sections below).")
    String shapes;
    @Option(names = "--networks", defaultValue = "sentiment,tagger,forecaster,charlm,events", paramLabel = "LIST",
            description = "The whole networks to time (scripts/networks.py; exported by torch, so PyTorch must run), "
                    + "comma-separated, or none (default ${DEFAULT-VALUE}).")
    String networkList;
    @Option(names = "--generation", defaultValue = "1,16", paramLabel = "LIST", description = "The batches at which to "
            + "time greedy generation with a 2-layer LSTM-256 language model (exported by torch, so PyTorch must "
            + "run), comma-separated, or none (default ${DEFAULT-VALUE}).")
    String generationList;
    @Option(names = "--serve", defaultValue = "1,8,64", paramLabel = "LIST", description = "The client counts at which "
            + "to load-test clrnn serve on loopback (a 2-layer LSTM state_dict, requests of 1 to 20 steps), with "
            + "dynamic batching and with --max-batch-size 1, comma-separated, or none (default ${DEFAULT-VALUE}).")
    String serveList;
    @Option(names = "--loaded", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "After each shape's rounds, time clrnn and both peers once more while another process keeps "
                    + "one core busy (default; --no-loaded skips it).")
    boolean loaded;
    @Option(names = "--chart-only", paramLabel = "FILE.json",
            description = "Only redraw the PNG of an existing result file.")
    Path chartOnly;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (chartOnly != null) {
            if (!Files.isRegularFile(chartOnly)) {
                throw new NoSuchFileException(chartOnly.toString());
            }
            Path png = SpeedupChart.pngFor(chartOnly);
            out.println(SpeedupChart.draw(chartOnly, png) ? "chart: " + png
                    : "chart: not drawn (" + chartOnly + " has no speedups)");
            return Main.EXIT_OK;
        }
        if (!(seconds >= 0)) {
            throw new InvalidInputException("--seconds must not be negative");
        }
        int roundCount = rounds != null ? rounds : quick ? 1 : 3;
        if (roundCount < 1) {
            throw new InvalidInputException("--rounds must be at least 1");
        }
        List<Grid.Case> cases = shapes == null ? Grid.standard().cases()
                : shapes.equals("none") ? List.of() : Grid.parse(shapes).cases();
        List<Integer> generationBatches = generationBatches();
        Optional<TorchRunner> torch = findTorch(err);
        Optional<OrtRunner> ort = findOrt(err, torch.isPresent());
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> threads = cores > 1 ? List.of(1, cores) : List.of(1);
        // Per implementation and round: clrnn bench's steady state, timed for --seconds.
        Benchmark.Budget steady = Benchmark.Budget.steady();
        Benchmark.Budget budget = quick ? new Benchmark.Budget(1, 0, 2, 0)
                : new Benchmark.Budget(steady.warmup(), steady.warmupSeconds(), steady.minIterations(), seconds);
        Map<String, Object> machine = new LinkedHashMap<>();
        LocalDateTime started = LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS);
        machine.put("created", started.toString());
        machine.put("command", commandLine());
        List<Report.Row> rows = new ArrayList<>();
        List<Report.Row> loadedRows = new ArrayList<>();
        List<Report.NetworkRow> networks = List.of();
        List<Report.GenerationRow> generation = List.of();
        List<ServeBenchmark.Result> serve = new ArrayList<>();
        int[] serveClients = serveClients();
        String deviceName;
        Path models = ort.isPresent() || torch.isPresent() ? Files.createTempDirectory("clrnn-bench-onnx") : null;
        try (Device d = device.open(true)) {
            DeviceInfo info = d.info();
            deviceName = info.name();
            machine.put("device", info.name());
            machine.put("device_type", info.type().name().toLowerCase(Locale.ROOT));
            machine.put("platform", info.platform());
            machine.put("compute_units", info.computeUnits());
            machine.put("cores", cores);
            machine.put("java_version", System.getProperty("java.version")
                    + " (" + System.getProperty("java.vm.name") + ")");
            machine.put("jvm_memory_options", OrtRunner.memoryOptions());
            machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
            machine.put("python", torch.map(TorchRunner::python).orElse(null));
            machine.put("torch_version", torch.map(TorchRunner::version).orElse(null));
            machine.put("onnxruntime_version", ort.map(OrtRunner::version).orElse(null));
            machine.put("onnxruntime_jar", ort.map(OrtRunner::source).orElse(null));
            machine.put("peer_threads", threads);
            Map<String, Object> perRound = new LinkedHashMap<>();
            perRound.put("warmup_runs", budget.warmup());
            perRound.put("warmup_seconds", budget.warmupSeconds());
            perRound.put("min_runs", budget.minIterations());
            perRound.put("min_seconds", budget.minSeconds());
            machine.put("budget", perRound);
            boolean cuda = info.isGpu() && torch.map(TorchRunner::cudaAvailable).orElse(false);
            Peers peers = new Peers(torch, ort, models, threads, cuda);
            Progress progress = new Progress(err, cases.size());
            for (Grid.Case c : cases) {
                CaseResult result = runCase(d, c, roundCount, budget, peers, progress.next());
                rows.add(result.idle());
                if (result.loaded() != null) {
                    loadedRows.add(result.loaded());
                }
            }
            networks = runNetworks(d, roundCount, budget, peers, err);
            generation = runGeneration(d, generationBatches, roundCount, budget, peers, err);
            if (serveClients.length > 0) {
                serve = runServe(d, serveClients, Math.min(2, roundCount), err);
            }
        } finally {
            if (models != null) {
                deleteTree(models);
            }
        }
        Report report = new Report(machine, roundCount, rows, networks, generation, serve).withLoaded(loadedRows);
        out.print(report.markdown());
        out.flush();

        Files.createDirectories(outDir);
        String base = started.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + slug(deviceName);
        Path json = outDir.resolve(base + ".json");
        report.write(json);
        Path png = SpeedupChart.pngFor(json);
        err.println("results: " + json);
        err.println(SpeedupChart.draw(json, png) ? "chart:   " + png
                : "chart:   not drawn (neither PyTorch nor ONNX Runtime ran, so there are no speedups)");
        return Main.EXIT_OK;
    }

    /** The peers that run, where ONNX models go, the thread counts each peer is timed with. */
    private record Peers(Optional<TorchRunner> torch, Optional<OrtRunner> ort, Path models, List<Integer> threads,
            boolean cuda) {}

    /**
     * Progress on stderr, so that a run of minutes is seen to be alive: a line when a shape starts (which of how
     * many, what will be timed, the time since the start) and one when each of its rounds ends, with its figures.
     * Whole lines only: the OpenCL compiler may print to stderr while a shape runs.
     */
    private static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final long start = System.nanoTime();
        private int index;
        private String prefix = "";

        Progress(PrintWriter err, int total) {
            this.err = err;
            this.total = total;
        }

        Progress next() {
            index++;
            prefix = "[" + index + "/" + total + "] ";
            return this;
        }

        int index() {
            return index;
        }

        void line(String text) {
            long s = (System.nanoTime() - start) / 1_000_000_000L;
            err.printf(Locale.ROOT, "%s%d:%02d %s%n", prefix, s / 60, s % 60, text);
            err.flush();
        }
    }

    /** A shape's idle rounds, and its loaded round (null when --no-loaded). */
    private record CaseResult(Report.Row idle, Report.Row loaded) {}

    /**
     * Times one shape every way in {@code rounds} interleaved rounds. The machine is shared and its speed swings for
     * tens of seconds: timing each implementation once, one after the other, lets a slow spell land on one of them
     * alone, while in rounds each gets a turn in every spell and {@link Report.Measurement#bestRound} keeps its
     * least disturbed one.
     */
    private CaseResult runCase(Device d, Grid.Case c, int rounds, Benchmark.Budget budget, Peers peers,
            Progress progress) {
        Shape shape = c.shape();
        Benchmark.Budget gemmBudget = new Benchmark.Budget(budget.warmup(), budget.minIterations(),
                Math.min(budget.minSeconds(), GEMM_SECONDS / rounds));
        List<Shape.Gemm> gemms = shape.projectionGemms().stream().distinct().toList();
        String threadList = peers.threads().stream().map(t -> t + "t").collect(Collectors.joining("/"));

        progress.line(c.name().equals(shape.label()) ? shape.label() : c.name() + ": " + shape.label());
        // ONNX Runtime's model: torch's module, exported once per shape.
        String ortNote = null;
        Path model = null;
        if (peers.ort().isPresent()) {
            if (shape.projSize() > 0) {
                ortNote = "proj_size: ONNX's LSTM operator has no projection, so this module has no ONNX form";
            } else {
                model = peers.models().resolve("case" + progress.index() + ".onnx");
                try {
                    peers.torch().orElseThrow().exportOnnx(shape, model);
                } catch (IOException | RuntimeException e) {
                    ortNote = "no ONNX model: " + Main.oneLine(e.getMessage());
                    model = null;
                }
            }
        }
        List<String> plan = new ArrayList<>(List.of("clrnn"));
        if (c.f16()) {
            plan.add("clrnn f16");
        }
        peers.torch().ifPresent(t -> plan.add("PyTorch " + threadList + (peers.cuda() ? "/cuda" : "")));
        if (model != null) {
            plan.add("ONNX Runtime " + threadList);
        }
        peers.torch().ifPresent(t -> plan.add("SGEMM " + threadList));
        if (reference) {
            plan.add("the Java reference");
        }
        progress.line("  timing " + String.join(", ", plan) + " in " + rounds + (rounds == 1 ? " round" : " rounds")
                + (ortNote != null ? "; ONNX Runtime n/a (" + ortNote + ")" : ""));

        List<Report.Measurement> clrnnRounds = new ArrayList<>();
        List<Report.Measurement> f16Rounds = new ArrayList<>();
        List<Report.Measurement> torchRounds = new ArrayList<>();
        List<Report.Measurement> ortRounds = new ArrayList<>();
        List<Report.GemmTime> sgemmRounds = new ArrayList<>();
        Report.Measurement referenceRun = null;
        String ortFailure = null;
        for (int round = 1; round <= rounds; round++) {
            StringBuilder line = new StringBuilder("  round ").append(round).append('/').append(rounds).append(": ");
            Report.Measurement clrnn = Report.Measurement.of(Benchmark.openCl(d, shape, budget, SEED));
            clrnnRounds.add(clrnn);
            line.append("clrnn ").append(ms(clrnn));
            if (c.f16()) {
                Report.Measurement f16 = Report.Measurement.of(Benchmark.openCl(d, shape, WeightsDtype.F16, budget,
                        SEED));
                f16Rounds.add(f16);
                line.append(", clrnn f16 ").append(ms(f16));
            }
            if (peers.torch().isPresent()) {
                for (int t : peers.threads()) {
                    torchRun(peers.torch().get(), shape, t, false, budget, line).ifPresent(torchRounds::add);
                }
                if (peers.cuda()) {
                    torchRun(peers.torch().get(), shape, 1, true, budget, line).ifPresent(torchRounds::add);
                }
            }
            if (model != null) {
                String failure = ortRun(peers, model, shape, budget, ortRounds, line);
                ortFailure = failure != null ? failure : ortFailure;
            }
            if (peers.torch().isPresent()) {
                for (int t : peers.threads()) {
                    sgemmRounds.addAll(sgemmRun(peers.torch().get(), gemms, t, gemmBudget, line));
                }
            }
            if (round == 1 && reference) {
                // Once, and last, so that it does not stand between the timings that are compared: it is slow
                // and only informative.
                referenceRun = reference(shape);
                line.append(", reference ").append(ms(referenceRun));
            }
            progress.line(line.toString());
        }
        if (model != null && ortRounds.isEmpty()) {
            ortNote = "ONNX Runtime failed: " + ortFailure;
        }
        // Each implementation (each thread count, each matmul) keeps its own best round; for SGEMM then the
        // fastest thread count.
        Map<Shape.Gemm, Report.GemmTime> sgemm = new LinkedHashMap<>();
        sgemmRounds.stream()
                .collect(Collectors.groupingBy(g -> List.of(g.gemm(), g.threads()), LinkedHashMap::new,
                        Collectors.toList()))
                .values().stream().map(Report.GemmTime::bestRound)
                .forEach(g -> sgemm.merge(g.gemm(), g, (a, b) -> a.ms() <= b.ms() ? a : b));
        Report.Row idle = new Report.Row(c.name(), shape, Report.Measurement.bestRound(clrnnRounds),
                f16Rounds.isEmpty() ? null : Report.Measurement.bestRound(f16Rounds), referenceRun,
                Report.Measurement.bestRounds(torchRounds), Report.Measurement.bestRounds(ortRounds), ortNote,
                List.copyOf(sgemm.values()));
        return new CaseResult(idle, loaded ? loadedRound(d, c, model, ortNote, budget, peers, progress) : null);
    }

    /**
     * clrnn and each peer at each thread count once more, while a process of its own keeps one core busy: a server's
     * other work, which a forward must not lose to (a team of cores that waits for a busy one, say).
     */
    private static Report.Row loadedRound(Device d, Grid.Case c, Path model, String ortNote, Benchmark.Budget budget,
            Peers peers, Progress progress) {
        Shape shape = c.shape();
        StringBuilder line = new StringBuilder("  loaded round (one core busy): ");
        List<Report.Measurement> torchRuns = new ArrayList<>();
        List<Report.Measurement> ortRuns = new ArrayList<>();
        Report.Measurement clrnn;
        String failure;
        try (BusyCore busy = BusyCore.start()) {
            clrnn = Report.Measurement.of(Benchmark.openCl(d, shape, budget, SEED));
            line.append("clrnn ").append(ms(clrnn));
            if (peers.torch().isPresent()) {
                for (int t : peers.threads()) {
                    torchRun(peers.torch().get(), shape, t, false, budget, line).ifPresent(torchRuns::add);
                }
            }
            failure = model == null ? null : ortRun(peers, model, shape, budget, ortRuns, line);
        }
        progress.line(line.toString());
        return new Report.Row(c.name(), shape, clrnn, null, null, torchRuns, ortRuns,
                failure != null ? "ONNX Runtime failed: " + failure : ortNote, List.of());
    }

    /**
     * ONNX Runtime on {@code model} at each thread count, into {@code into}, each figure added to the progress
     * line; the failure's one-line message when it does not run, else null.
     */
    private static String ortRun(Peers peers, Path model, Shape shape, Benchmark.Budget budget,
            List<Report.Measurement> into, StringBuilder line) {
        try {
            List<Report.Measurement> runs = peers.ort().orElseThrow().run(model, shape, SEED, peers.threads(), budget);
            into.addAll(runs);
            runs.forEach(m -> line.append(", ").append(m.implementation()).append(' ').append(ms(m)));
            return null;
        } catch (IOException | RuntimeException e) {
            String failure = Main.oneLine(e.getMessage());
            line.append(", ONNX Runtime FAILED: ").append(failure);
            return failure;
        }
    }

    /** Batches and sequence length of the networks section. */
    private static final int[] NETWORK_BATCHES = {1, 32};
    private static final int NETWORK_SEQ = 50;

    /**
     * The networks section: each network exported once by torch, then per batch and round clrnn's session, ONNX
     * Runtime on the same file and torch on the module, each at its thread counts; the best round of each kept.
     */
    private List<Report.NetworkRow> runNetworks(Device d, int rounds, Benchmark.Budget budget, Peers peers,
            PrintWriter err) {
        List<String> names = networkList.equals("none") ? List.of() : List.of(networkList.split(","));
        if (names.isEmpty()) {
            return List.of();
        }
        if (peers.torch().isEmpty()) {
            err.println("networks: not run (torch exports them, and torch does not run)");
            return List.of();
        }
        TorchRunner torch = peers.torch().get();
        List<Report.NetworkRow> out = new ArrayList<>();
        for (String name : names) {
            Path model = peers.models().resolve(name + ".onnx");
            try {
                torch.exportNetwork(name, model);
            } catch (IOException | RuntimeException e) {
                err.println("networks: " + name + " not exported: " + Main.oneLine(e.getMessage()));
                continue;
            }
            for (int batch : NETWORK_BATCHES) {
                try {
                    out.add(runNetwork(d, torch, name, model, batch, rounds, budget, peers, err));
                } catch (IOException | RuntimeException e) {
                    err.println("networks: " + name + " B" + batch + " FAILED: " + Main.oneLine(e.getMessage()));
                }
            }
        }
        return out;
    }

    private Report.NetworkRow runNetwork(Device d, TorchRunner torch, String name, Path model, int batch, int rounds,
            Benchmark.Budget budget, Peers peers, PrintWriter err) throws IOException {
        Path input = peers.models().resolve(name + "_b" + batch + ".npy");
        torch.saveNetworkInput(name, batch, NETWORK_SEQ, input);
        io.clrnn.onnx.OnnxModel onnx = io.clrnn.onnx.OnnxModel.load(model);
        String port = onnx.inputs().get(0).name();
        GraphInputs inputs = GraphInputs.read(onnx, Map.of(port, input));
        double clrnn = Double.POSITIVE_INFINITY;
        long peak = 0;
        double ort = Double.POSITIVE_INFINITY;
        String ortBest = null;
        double torchMs = Double.POSITIVE_INFINITY;
        String torchBest = null;
        for (int round = 1; round <= rounds; round++) {
            StringBuilder line = new StringBuilder("network ").append(name).append(" B").append(batch).append(" round ")
                    .append(round).append('/').append(rounds).append(": ");
            GraphBenchmark.Result r = GraphBenchmark.run(d, onnx, inputs.floats(), inputs.ints(), budget);
            clrnn = Math.min(clrnn, r.timing().medianMs());
            peak = Math.max(peak, r.peakTensorBytes());
            line.append("clrnn ").append(ms(r.timing().medianMs()));
            if (peers.ort().isPresent()) {
                List<Double> medians = peers.ort().get().runGraph(model, Map.of(port, input), peers.threads(), budget);
                for (int i = 0; i < medians.size(); i++) {
                    line.append(", ort-").append(peers.threads().get(i)).append("t ").append(ms(medians.get(i)));
                    if (medians.get(i) < ort) {
                        ort = medians.get(i);
                        ortBest = peers.threads().get(i) + "t";
                    }
                }
            }
            for (int t : peers.threads()) {
                double ms = torch.runNetwork(name, batch, NETWORK_SEQ, t, budget);
                line.append(", torch-").append(t).append("t ").append(ms(ms));
                if (ms < torchMs) {
                    torchMs = ms;
                    torchBest = t + "t";
                }
            }
            err.println(line);
            err.flush();
        }
        return new Report.NetworkRow(name, batch, NETWORK_SEQ, clrnn, ortBest == null ? Double.NaN : ort, ortBest,
                torchBest == null ? Double.NaN : torchMs, torchBest, peak);
    }

    /** The language model of the generation section, a character-level one's usual size. */
    private static final GenerationBenchmark.Model LANGUAGE_MODEL = new GenerationBenchmark.Model(100, 64, 256, 2);

    /** --generation's batches; refused before anything runs when it is neither none nor positive integers. */
    /**
     * The serve section: clrnn serve under load on loopback, one request per forward and dynamic batching, in up to
     * two interleaved rounds (the first server a JVM starts runs colder), the better round of each kept.
     */
    private List<ServeBenchmark.Result> runServe(Device d, int[] clients, int rounds, PrintWriter err)
            throws IOException, InterruptedException {
        ServerOptions batching = ServerOptions.defaults();
        ServerOptions single = new ServerOptions(1, 0, batching.maxQueue(), batching.maxBodyBytes(),
                batching.maxSequences(), batching.sequenceIdleNanos());
        java.util.Map<String, ServeBenchmark.Result> best = new java.util.LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            for (ServerOptions o : List.of(single, batching)) {
                String mode = o.maxBatchSize() == 1 ? "max-batch-size 1" : "batching";
                double timed = Math.max(2, 2 * seconds);
                for (ServeBenchmark.Result r : ServeBenchmark.run(d, mode, o, clients, timed, quick)) {
                    err.println("serve round " + round + ": " + r.describe());
                    best.merge(mode + " " + r.clients(), r,
                            (a, b) -> b.requestsPerSecond() > a.requestsPerSecond() ? b : a);
                }
            }
        }
        List<ServeBenchmark.Result> out = new ArrayList<>(best.values());
        out.sort(java.util.Comparator.comparing((ServeBenchmark.Result r) -> !r.mode().equals("batching"))
                .thenComparingInt(ServeBenchmark.Result::clients));
        return out;
    }

    /** --serve's client counts; refused before anything runs when it is neither none nor positive integers. */
    private int[] serveClients() {
        if (serveList.equals("none")) {
            return new int[0];
        }
        if (!serveList.matches(" *[1-9][0-9]{0,3} *(, *[1-9][0-9]{0,3} *)*")) {
            throw new InvalidInputException("--serve takes none or client counts of 1 to 9999, e.g. 1,8,64; not '"
                    + serveList + "'");
        }
        return Stream.of(serveList.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
    }

    private List<Integer> generationBatches() {
        if (generationList.equals("none")) {
            return List.of();
        }
        if (!generationList.matches(" *[1-9][0-9]{0,5} *(, *[1-9][0-9]{0,5} *)*")) {
            throw new InvalidInputException("--generation takes none or batch sizes of 1 or more, e.g. 1,16; not '"
                    + generationList + "'");
        }
        return Stream.of(generationList.split(",")).map(String::strip).map(Integer::valueOf).toList();
    }

    /**
     * The generation section: the language model exported by torch once (two ways, see
     * {@link TorchRunner#exportLanguageModel}), then per batch and round clrnn, ONNX Runtime and torch at each of
     * their thread counts, one greedy step each timed; the best round of each kept.
     */
    private List<Report.GenerationRow> runGeneration(Device d, List<Integer> batches, int rounds,
            Benchmark.Budget budget, Peers peers, PrintWriter err) {
        if (batches.isEmpty()) {
            return List.of();
        }
        if (peers.torch().isEmpty()) {
            err.println("generation: not run (torch exports the language model, and torch does not run)");
            return List.of();
        }
        TorchRunner torch = peers.torch().get();
        Path logits = peers.models().resolve("lm.onnx");
        Path withState = peers.models().resolve("lm_state.onnx");
        io.clrnn.onnx.OnnxModel model;
        try {
            torch.exportLanguageModel(LANGUAGE_MODEL, logits, withState);
            model = io.clrnn.onnx.OnnxModel.load(logits);
        } catch (IOException | RuntimeException e) {
            err.println("generation: not run (the language model was not exported: " + Main.oneLine(e.getMessage())
                    + ")");
            return List.of();
        }
        List<Report.GenerationRow> out = new ArrayList<>();
        for (int batch : batches) {
            try {
                out.add(runGeneration(d, torch, model, withState, batch, rounds, budget, peers, err));
            } catch (IOException | RuntimeException e) {
                err.println("generation: B" + batch + " FAILED: " + Main.oneLine(e.getMessage()));
            }
        }
        return out;
    }

    private Report.GenerationRow runGeneration(Device d, TorchRunner torch, io.clrnn.onnx.OnnxModel model,
            Path withState, int batch, int rounds, Benchmark.Budget budget, Peers peers, PrintWriter err)
            throws IOException {
        int vocab = LANGUAGE_MODEL.vocab();
        double clrnn = Double.POSITIVE_INFINITY;
        Fastest ortFastest = new Fastest();
        Fastest torchFastest = new Fastest();
        for (int round = 1; round <= rounds; round++) {
            StringBuilder line = new StringBuilder("generation B").append(batch).append(" round ").append(round)
                    .append('/').append(rounds).append(", one step: ");
            double ms = GenerationBenchmark.clrnn(d, model, batch, vocab, budget).medianMs();
            clrnn = Math.min(clrnn, ms);
            line.append("clrnn ").append(ms(ms));
            if (peers.ort().isPresent()) {
                List<Double> medians = peers.ort().get().runGeneration(withState, batch, vocab, peers.threads(),
                        budget);
                for (int i = 0; i < medians.size(); i++) {
                    int t = peers.threads().get(i);
                    ortFastest.offer(medians.get(i), t);
                    line.append(", ort-").append(t).append("t ").append(ms(medians.get(i)));
                }
            }
            for (int t : peers.threads()) {
                double torchMs = torch.runGeneration(LANGUAGE_MODEL, batch, t, budget);
                torchFastest.offer(torchMs, t);
                line.append(", torch-").append(t).append("t ").append(ms(torchMs));
            }
            err.println(line);
            err.flush();
        }
        return new Report.GenerationRow(LANGUAGE_MODEL.label(), batch, GenerationBenchmark.PROMPT_LENGTH, clrnn,
                torchFastest.ms, torchFastest.threads, ortFastest.ms, ortFastest.threads);
    }

    /** A peer's fastest time over its rounds and thread counts, and that count ("2t"); NaN and null if none ran. */
    private static final class Fastest {
        double ms = Double.NaN;
        String threads;

        void offer(double candidateMs, int candidateThreads) {
            if (!(candidateMs >= ms)) { // NaN (nothing yet) compares false too
                ms = candidateMs;
                threads = candidateThreads + "t";
            }
        }
    }

    /** The Java reference, briefly: big shapes take seconds a forward. */
    private Report.Measurement reference(Shape shape) {
        Benchmark.Budget budget = quick ? new Benchmark.Budget(0, 1, 0)
                : shape.flops() > BIG_FLOPS ? new Benchmark.Budget(1, 2, 0)
                : new Benchmark.Budget(1, 3, Math.min(seconds, 1));
        return Report.Measurement.of(Benchmark.reference(shape, budget, SEED));
    }

    /** OpenBLAS's times for the shape's projection GEMMs; a failure costs the comparison only, not the suite. */
    private static List<Report.GemmTime> sgemmRun(TorchRunner torch, List<Shape.Gemm> gemms, int threads,
            Benchmark.Budget budget, StringBuilder progress) {
        try {
            List<Report.GemmTime> times = torch.gemm(gemms, threads, budget);
            progress.append(", sgemm-").append(threads).append("t ")
                    .append(ms(times.stream().mapToDouble(Report.GemmTime::ms).sum()));
            return times;
        } catch (IOException | RuntimeException e) {
            progress.append(", sgemm-").append(threads).append("t FAILED: ").append(Main.oneLine(e.getMessage()));
            return List.of();
        }
    }

    /** One torch measurement; a failure costs that measurement only, not the suite. */
    private static Optional<Report.Measurement> torchRun(TorchRunner torch, Shape shape, int threads, boolean cuda,
            Benchmark.Budget budget, StringBuilder progress) {
        try {
            Report.Measurement m = torch.run(shape, threads, cuda, budget);
            progress.append(", ").append(m.implementation()).append(' ').append(ms(m));
            return Optional.of(m);
        } catch (IOException | RuntimeException e) {
            progress.append(", torch ").append(cuda ? "cuda" : threads + "t").append(" FAILED: ")
                    .append(Main.oneLine(e.getMessage()));
            return Optional.empty();
        }
    }

    /**
     * ONNX Runtime's runner, unless --ort-jar none; its models are torch's modules exported, so it needs torch.
     * Unavailable, it is said so and the suite goes on without it.
     */
    private Optional<OrtRunner> findOrt(PrintWriter err, boolean torchRuns) {
        if ("none".equals(ortJar)) {
            err.println("ONNX Runtime: not run (--ort-jar none)");
            return Optional.empty();
        }
        if (!torchRuns) {
            err.println("ONNX Runtime: not run (its models are torch.onnx exports, and torch does not run)");
            return Optional.empty();
        }
        try {
            OrtRunner runner = OrtRunner.locate(ortJar == null ? null : Path.of(ortJar));
            err.println("ONNX Runtime: " + runner.version() + " from " + runner.source() + " (in a JVM of its own)");
            return Optional.of(runner);
        } catch (OrtRunner.Unavailable e) {
            if (ortJar != null) {
                throw new InvalidInputException(e.getMessage());
            }
            err.println("ONNX Runtime: not run (" + e.getMessage() + ")");
            return Optional.empty();
        }
    }

    /** Removes the temporary ONNX models; what cannot be removed stays in the temporary directory. */
    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Left behind in the temporary directory; nothing else depends on it.
        }
    }

    /** --python, else $PYTHON, else the usual names; 'none' or nothing usable runs without torch. */
    private Optional<TorchRunner> findTorch(PrintWriter err) {
        if ("none".equals(python)) {
            err.println("torch: not run (--python none)");
            return Optional.empty();
        }
        Optional<Path> script = TorchRunner.locateScript();
        if (script.isEmpty()) {
            err.println("torch: not run (scripts/bench_torch.py not found; run from the clrnn checkout)");
            return Optional.empty();
        }
        List<String> candidates = new ArrayList<>();
        if (python != null) {
            candidates.add(python);
        } else {
            Optional.ofNullable(System.getenv("PYTHON")).filter(p -> !p.isBlank()).ifPresent(candidates::add);
            candidates.addAll(List.of("/usr/bin/python3", "python3", "python"));
        }
        for (String candidate : candidates) {
            Optional<TorchRunner> runner = TorchRunner.probe(candidate, script.get());
            if (runner.isPresent()) {
                err.println("torch: " + runner.get().version() + " from " + candidate
                        + (runner.get().cudaAvailable() ? " (cuda available)" : ""));
                return runner;
            }
        }
        if (python != null) {
            throw new InvalidInputException("--python " + python + " cannot run or cannot import torch");
        }
        err.println("torch: not run (none of " + String.join(", ", candidates) + " can import torch)");
        return Optional.empty();
    }

    private String commandLine() {
        // The parse result is the top command's, so its arguments start with "bench-suite".
        return "clrnn " + spec.root().commandLine().getParseResult().originalArgs().stream()
                .map(a -> a.isEmpty() || a.contains(" ") ? "'" + a + "'" : a)
                .collect(Collectors.joining(" "));
    }

    /** A file-name-safe form of a device name, e.g. {@code pthread-skylake-avx512-intel-xeon-processor}. */
    static String slug(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceAll("\\((r|tm|c)\\)", "")
                .replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        s = s.length() > 48 ? s.substring(0, 48).replaceAll("-+$", "") : s;
        return s.isEmpty() ? "device" : s;
    }

    private static String ms(Report.Measurement m) {
        return ms(m.medianMs());
    }

    private static String ms(double ms) {
        return String.format(Locale.ROOT, "%.3f ms", ms);
    }
}
