package io.clrnn.cli;

import io.clrnn.InvalidInputException;
import io.clrnn.bench.Benchmark;
import io.clrnn.bench.Grid;
import io.clrnn.bench.Report;
import io.clrnn.bench.Shape;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn bench-suite}: a fixed grid of shapes, clrnn vs the Java reference vs torch, as a table, JSON and chart. */
@Command(name = "bench-suite", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Time clrnn, the Java reference and PyTorch (1 thread and all threads, in subprocesses) on a fixed grid of "
                + "shapes, and clrnn's projection GEMM against torch's SGEMM (OpenBLAS) on the same sizes. Prints "
                + "Markdown tables, writes OUT-DIR/<time>-<device>.json and a speedup chart .png."})
final class BenchSuiteCommand implements Callable<Integer> {
    /** Above this many FLOPs per forward the Java reference runs only 1 + 2 times: it takes seconds each. */
    private static final double BIG_FLOPS = 2e8;
    /** Seconds per SGEMM timing at most: one matmul is a small part of a forward, and hundreds of runs settle it. */
    private static final double GEMM_SECONDS = 0.5;

    @Mixin DeviceOption device;
    @Option(names = "--python", paramLabel = "PATH", description = "Python with torch, or 'none' to skip torch. "
            + "Default: $PYTHON, else the first of /usr/bin/python3, python3, python that can import torch.")
    String python;
    @Option(names = "--out-dir", defaultValue = "bench-results", paramLabel = "DIR",
            description = "Where the JSON and PNG go (default ${DEFAULT-VALUE}).")
    Path outDir;
    @Option(names = "--seconds", defaultValue = "2", paramLabel = "S",
            description = "Time each implementation on each shape for at least this long, split across the "
                    + "rounds (default ${DEFAULT-VALUE}).")
    double seconds;
    @Option(names = "--rounds", paramLabel = "N", description = "Time each shape in N interleaved rounds (clrnn, "
            + "torch, SGEMM in turn) and keep each implementation's best round (default 3; 1 with --quick).")
    Integer rounds;
    @Option(names = "--quick", description = "A tiny budget per case (for tests; the numbers are noisy).")
    boolean quick;
    @Option(names = "--shapes", hidden = true, paramLabel = "LIST",
            description = "Replace the grid, e.g. \"T5 B4 I8 H8; T3 B2 I4 H4 L2 bi relu\".")
    String shapes;
    @Option(names = "--chart-only", paramLabel = "FILE.json",
            description = "Only redraw the PNG of an existing result file.")
    Path chartOnly;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (chartOnly != null) {
            if (!Files.isRegularFile(chartOnly)) {
                throw new NoSuchFileException(chartOnly.toString());
            }
            Path png = SpeedupChart.pngFor(chartOnly);
            SpeedupChart.draw(chartOnly, png);
            out.println("chart: " + png);
            return Main.EXIT_OK;
        }
        if (!(seconds >= 0)) {
            throw new InvalidInputException("--seconds must not be negative");
        }
        int roundCount = rounds != null ? rounds : quick ? 1 : 3;
        if (roundCount < 1) {
            throw new InvalidInputException("--rounds must be at least 1");
        }
        Grid grid = shapes == null ? Grid.standard() : Grid.parse(shapes);
        Optional<TorchRunner> torch = findTorch(err);
        int cores = Runtime.getRuntime().availableProcessors();
        Map<String, Object> machine = new LinkedHashMap<>();
        LocalDateTime started = LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS);
        machine.put("created", started.toString());
        machine.put("command", commandLine());
        List<Report.Row> rows = new ArrayList<>();
        String deviceName;
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
            machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
            machine.put("python", torch.map(TorchRunner::python).orElse(null));
            machine.put("torch_version", torch.map(TorchRunner::version).orElse(null));
            boolean cuda = info.isGpu() && torch.map(TorchRunner::cudaAvailable).orElse(false);
            int n = 0;
            StringBuilder progress = new StringBuilder();
            for (Grid.Case c : grid.cases()) {
                Report.Row row = runCase(d, c, roundCount, torch, cores, cuda, progress);
                rows.add(row);
                // One whole line per shape: the OpenCL compiler may print to stderr while a shape runs.
                err.printf("[%d/%d] %s: %s%n", ++n, grid.cases().size(), row.title(), progress);
                progress.setLength(0);
            }
        }
        Report report = new Report(machine, roundCount, rows);
        out.print(report.markdown());
        out.flush();

        Files.createDirectories(outDir);
        String base = started.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + slug(deviceName);
        Path json = outDir.resolve(base + ".json");
        report.write(json);
        Path png = SpeedupChart.pngFor(json);
        SpeedupChart.draw(json, png);
        err.println("results: " + json);
        err.println("chart:   " + png);
        return Main.EXIT_OK;
    }

    /**
     * Times one shape every way in {@code rounds} interleaved rounds, noting each time in {@code progress}. The
     * machine is shared and its speed swings for tens of seconds: timing each implementation once, one after the
     * other, lets a slow spell land on one of them alone, while in rounds each gets a turn in every spell and
     * {@link Report.Measurement#bestRound} keeps its least disturbed one.
     */
    private Report.Row runCase(Device d, Grid.Case c, int rounds, Optional<TorchRunner> torch, int cores, boolean cuda,
            StringBuilder progress) {
        Shape shape = c.shape();
        // Split across the rounds, so that more rounds cost only more process start-ups, not more timing.
        Benchmark.Budget budget = quick ? new Benchmark.Budget(1, 2, 0) : new Benchmark.Budget(3, 5, seconds / rounds);
        Benchmark.Budget gemmBudget = new Benchmark.Budget(budget.warmup(), budget.minIterations(),
                Math.min(budget.minSeconds(), GEMM_SECONDS / rounds));
        List<Integer> threads = cores > 1 ? List.of(1, cores) : List.of(1);
        List<Shape.Gemm> gemms = shape.projectionGemms().stream().distinct().toList();
        List<Report.Measurement> clrnnRounds = new ArrayList<>();
        List<Report.Measurement> torchRounds = new ArrayList<>();
        List<Report.GemmTime> sgemmRounds = new ArrayList<>();
        Report.Measurement reference = null;
        for (int round = 1; round <= rounds; round++) {
            if (rounds > 1) {
                progress.append(round > 1 ? "; " : "").append("round ").append(round).append(": ");
            }
            Report.Measurement clrnn = Report.Measurement.of(Benchmark.openCl(d, shape, budget, 42));
            clrnnRounds.add(clrnn);
            progress.append("clrnn ").append(ms(clrnn));
            if (torch.isPresent()) {
                for (int t : threads) {
                    torchRun(torch.get(), shape, t, false, budget, progress).ifPresent(torchRounds::add);
                }
                if (cuda) {
                    torchRun(torch.get(), shape, 1, true, budget, progress).ifPresent(torchRounds::add);
                }
                for (int t : threads) {
                    sgemmRounds.addAll(sgemmRun(torch.get(), gemms, t, gemmBudget, progress));
                }
            }
            if (round == 1) {
                // Once, and last, so that it does not stand between the timings that are compared: it is slow
                // and only informative.
                reference = reference(shape);
                progress.append(", reference ").append(ms(reference));
            }
        }
        // Each implementation (each thread count, each matmul) keeps its own best round; for SGEMM then the
        // fastest thread count, as before.
        List<Report.Measurement> torchBest = torchRounds.stream()
                .collect(Collectors.groupingBy(Report.Measurement::implementation, LinkedHashMap::new,
                        Collectors.toList()))
                .values().stream().map(Report.Measurement::bestRound).toList();
        Map<Shape.Gemm, Report.GemmTime> sgemm = new LinkedHashMap<>();
        sgemmRounds.stream()
                .collect(Collectors.groupingBy(g -> List.of(g.gemm(), g.threads()), LinkedHashMap::new,
                        Collectors.toList()))
                .values().stream().map(Report.GemmTime::bestRound)
                .forEach(g -> sgemm.merge(g.gemm(), g, (a, b) -> a.ms() <= b.ms() ? a : b));
        return new Report.Row(c.name(), shape, Report.Measurement.bestRound(clrnnRounds),
                reference, torchBest, List.copyOf(sgemm.values()));
    }

    /** The Java reference, briefly: big shapes take seconds a forward. */
    private Report.Measurement reference(Shape shape) {
        Benchmark.Budget budget = quick ? new Benchmark.Budget(0, 1, 0)
                : shape.flops() > BIG_FLOPS ? new Benchmark.Budget(1, 2, 0)
                : new Benchmark.Budget(1, 3, Math.min(seconds, 1));
        return Report.Measurement.of(Benchmark.reference(shape, budget, 42));
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
