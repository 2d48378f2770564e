package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.format.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * The results of one {@code clrnn bench-suite} run: per shape clrnn, PyTorch and ONNX Runtime side by side, clrnn
 * with f16 weights where the grid asks, and clrnn's projection GEMM against OpenBLAS's SGEMM on the same M, N, K;
 * written as Markdown tables and as the JSON file the chart is drawn from ({@link #toJson()} documents its keys).
 *
 * @param machine where and how it ran (device, cores, Java, torch and ONNX Runtime versions, command line), as is
 * @param rounds how many interleaved rounds each shape ran; every figure is the median of its best round
 */
public record Report(Map<String, Object> machine, int rounds, List<Row> rows, List<NetworkRow> networks,
        List<GenerationRow> generation, List<ServeBenchmark.Result> serve, List<Row> loaded) {
    public Report {
        rows = List.copyOf(rows);
        loaded = List.copyOf(loaded);
    }

    public Report(Map<String, Object> machine, int rounds, List<Row> rows, List<NetworkRow> networks,
            List<GenerationRow> generation, List<ServeBenchmark.Result> serve) {
        this(machine, rounds, rows, networks, generation, serve, List.of());
    }

    /**
     * The same report with a loaded round: per shape, clrnn and both peers timed again while another process keeps
     * one core busy (rows named as the idle ones).
     */
    public Report withLoaded(List<Row> value) {
        return new Report(machine, rounds, rows, networks, generation, serve, value);
    }

    /** The loaded round's row of the shape named {@code name}, if it ran. */
    public Optional<Row> loaded(String name) {
        return loaded.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    public Report(Map<String, Object> machine, int rounds, List<Row> rows, List<NetworkRow> networks,
            List<GenerationRow> generation) {
        this(machine, rounds, rows, networks, generation, List.of());
    }

    public Report(Map<String, Object> machine, int rounds, List<Row> rows) {
        this(machine, rounds, rows, List.of());
    }

    public Report(Map<String, Object> machine, int rounds, List<Row> rows, List<NetworkRow> networks) {
        this(machine, rounds, rows, networks, List.of());
    }

    /**
     * Greedy generation at one batch ({@link GenerationBenchmark}): the median time of one step, a token for each
     * stream, of clrnn, PyTorch and ONNX Runtime, each the best round of its fastest thread count (NaN: did not run).
     */
    public record GenerationRow(String model, int batch, int prompt, double clrnnStepMs, double torchStepMs,
            String torchBest, double ortStepMs, String ortBest) {
        public String name() {
            return "generate B" + batch;
        }

        /** Tokens a second over all streams: {@code batch} of them a step. */
        public double tokensPerSecond(double stepMs) {
            return batch * 1e3 / stepMs;
        }

        /** clrnn's tokens/s over PyTorch's. */
        public OptionalDouble speedupVsTorch() {
            return torchStepMs > 0 ? OptionalDouble.of(torchStepMs / clrnnStepMs) : OptionalDouble.empty();
        }

        /** clrnn's tokens/s over ONNX Runtime's. */
        public OptionalDouble speedupVsOrt() {
            return ortStepMs > 0 ? OptionalDouble.of(ortStepMs / clrnnStepMs) : OptionalDouble.empty();
        }
    }

    /**
     * A whole network (scripts/networks.py) on one batch: clrnn's time on its ONNX export, ONNX Runtime's on the same
     * file and torch's on the module itself, each the best round of its fastest thread count (NaN: did not run).
     */
    public record NetworkRow(String network, int batch, int seq, double clrnnMs, double ortMs, String ortBest,
            double torchMs, String torchBest, long peakTensorBytes) {
        public String name() {
            return network + " B" + batch;
        }

        public OptionalDouble speedupVsOrt() {
            return ortMs > 0 ? OptionalDouble.of(ortMs / clrnnMs) : OptionalDouble.empty();
        }

        public OptionalDouble speedupVsTorch() {
            return torchMs > 0 ? OptionalDouble.of(torchMs / clrnnMs) : OptionalDouble.empty();
        }
    }

    /** The geometric mean and the smallest of some speedups; empty when there are none. */
    static Optional<double[]> geomeanAndMin(List<OptionalDouble> speedups) {
        double[] v = speedups.stream().filter(OptionalDouble::isPresent).mapToDouble(OptionalDouble::getAsDouble)
                .toArray();
        if (v.length == 0) {
            return Optional.empty();
        }
        double log = 0;
        double min = Double.POSITIVE_INFINITY;
        for (double x : v) {
            log += Math.log(x);
            min = Math.min(min, x);
        }
        return Optional.of(new double[] {Math.exp(log / v.length), min});
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The JSON's layout: 2 added ONNX Runtime, f16 weights, the summary per cell type and the targets. */
    static final int SCHEMA = 2;

    /** The implementations clrnn is compared with, each timed at 1 thread and at all of them. */
    public enum Peer {
        TORCH("torch", "PyTorch"), ORT("ort", "ONNX Runtime");

        private final String key;
        private final String title;

        Peer(String key, String title) {
            this.key = key;
            this.title = title;
        }

        /** The JSON's word for it: {@code torch} or {@code ort}. */
        public String key() {
            return key;
        }

        public String title() {
            return title;
        }
    }

    /**
     * One timed implementation, with the keys of {@code clrnn bench --json} and bench_torch.py; the figures are
     * those of one round, and {@code roundMs} holds the median of every round it ran (this one among them).
     */
    public record Measurement(String implementation, String device, double medianMs, double minMs, double maxMs,
            int runs, double gflops, String recurrence, Map<String, Double> deviceMs, List<Double> roundMs) {

        /** A measurement of a single round. */
        public Measurement(String implementation, String device, double medianMs, double minMs, double maxMs,
                int runs, double gflops, String recurrence, Map<String, Double> deviceMs) {
            this(implementation, device, medianMs, minMs, maxMs, runs, gflops, recurrence, deviceMs,
                    List.of(medianMs));
        }

        /**
         * The round with the lowest median, carrying every round's median. The machine is shared and its speed
         * swings for seconds at a time; the best round is the least disturbed one, and picking it the same way
         * for every implementation keeps the comparison fair.
         */
        public static Measurement bestRound(List<Measurement> rounds) {
            Measurement best = rounds.stream().min(Comparator.comparingDouble(Measurement::medianMs)).orElseThrow();
            return new Measurement(best.implementation, best.device, best.medianMs, best.minMs, best.maxMs, best.runs,
                    best.gflops, best.recurrence, best.deviceMs, rounds.stream().map(Measurement::medianMs).toList());
        }

        /** Each implementation's best round, in the order they first appear in {@code rounds}. */
        public static List<Measurement> bestRounds(List<Measurement> rounds) {
            return rounds.stream()
                    .collect(Collectors.groupingBy(Measurement::implementation, LinkedHashMap::new, Collectors.toList()))
                    .values().stream().map(Measurement::bestRound).toList();
        }

        public static Measurement of(Benchmark.Result r) {
            Map<String, Double> split = new LinkedHashMap<>(r.familyMs());
            return new Measurement(r.implementation(), r.deviceName(), r.timing().medianMs(), r.timing().minMs(),
                    r.timing().maxMs(), r.timing().runs(), r.gflops(), r.recurrenceVariant(), split);
        }

        /** Reads the object bench_torch.py or OrtTimer prints (or one this class wrote). */
        public static Measurement fromJson(JsonNode n) {
            Map<String, Double> split = new LinkedHashMap<>();
            n.path("device_ms").fields().forEachRemaining(e -> split.put(e.getKey(), e.getValue().asDouble()));
            return new Measurement(n.path("implementation").asText(), n.path("device").asText(),
                    n.path("median_ms").asDouble(), n.path("min_ms").asDouble(), n.path("max_ms").asDouble(),
                    n.path("runs").asInt(), n.path("gflops").asDouble(), n.path("recurrence").asText(), split,
                    n.has("round_median_ms") ? roundsFromJson(n) : List.of(n.path("median_ms").asDouble()));
        }

        ObjectNode toJson() {
            ObjectNode n = JSON.createObjectNode();
            n.put("implementation", implementation);
            n.put("device", device);
            n.put("median_ms", medianMs);
            n.put("min_ms", minMs);
            n.put("max_ms", maxMs);
            n.put("runs", runs);
            n.put("gflops", gflops);
            n.put("recurrence", recurrence);
            ObjectNode split = n.putObject("device_ms");
            deviceMs.forEach(split::put);
            roundsToJson(n, roundMs);
            return n;
        }

        /** "1t", "2t" or "cuda" out of "torch-cpu-1t", "ort-cpu-2t", "torch-cuda". */
        public String shortName() {
            return implementation.replaceFirst("^(torch|ort)-(cpu-)?", "");
        }
    }

    /**
     * OpenBLAS's time for one matmul (torch.mm), the best of its thread counts, and which that was; {@code roundMs}
     * holds that thread count's median of every round.
     */
    public record GemmTime(Shape.Gemm gemm, double ms, int threads, List<Double> roundMs) {
        /** The time of a single round. */
        public GemmTime(Shape.Gemm gemm, double ms, int threads) {
            this(gemm, ms, threads, List.of(ms));
        }

        /** The round with the lowest median of one matmul at one thread count, as {@link Measurement#bestRound}. */
        public static GemmTime bestRound(List<GemmTime> rounds) {
            GemmTime best = rounds.stream().min(Comparator.comparingDouble(GemmTime::ms)).orElseThrow();
            return new GemmTime(best.gemm, best.ms, best.threads, rounds.stream().map(GemmTime::ms).toList());
        }
    }

    /**
     * One shape. {@code clrnnF16} (clrnn with f16 weights) and {@code reference} may be null and the peers' lists
     * and {@code sgemm} (one time per distinct projection GEMM of the shape) empty when they were not run;
     * {@code ortNote} says why ONNX Runtime could not run this shape (null when it ran or was not run at all).
     */
    public record Row(String name, Shape shape, Measurement clrnn, Measurement clrnnF16, Measurement reference,
            List<Measurement> torch, List<Measurement> ort, String ortNote, List<GemmTime> sgemm) {
        public Row {
            torch = List.copyOf(torch);
            ort = List.copyOf(ort);
            sgemm = List.copyOf(sgemm);
        }

        /** clrnn beside torch alone, as most tests and older results have it. */
        public Row(String name, Shape shape, Measurement clrnn, List<Measurement> torch, List<GemmTime> sgemm) {
            this(name, shape, clrnn, null, null, torch, List.of(), null, sgemm);
        }

        public Row withOrt(List<Measurement> value, String note) {
            return new Row(name, shape, clrnn, clrnnF16, reference, torch, value, note, sgemm);
        }

        public Row withF16(Measurement value) {
            return new Row(name, shape, clrnn, value, reference, torch, ort, ortNote, sgemm);
        }

        /** The peer's measurements: one per thread count (and torch's CUDA run). */
        public List<Measurement> runs(Peer peer) {
            return peer == Peer.TORCH ? torch : ort;
        }

        /** The peer's fastest run. */
        public Optional<Measurement> best(Peer peer) {
            return runs(peer).stream().min(Comparator.comparingDouble(Measurement::medianMs));
        }

        /** How many times faster clrnn is than the peer's fastest run (below 1: slower). */
        public OptionalDouble speedup(Peer peer) {
            return best(peer).map(t -> OptionalDouble.of(t.medianMs() / clrnn.medianMs())).orElse(OptionalDouble.empty());
        }

        public OptionalDouble speedupVsReference() {
            return reference == null ? OptionalDouble.empty() : OptionalDouble.of(reference.medianMs() / clrnn.medianMs());
        }

        /** How many times faster clrnn runs with f16 weights than with f32 ones. */
        public OptionalDouble f16Speedup() {
            return clrnnF16 == null ? OptionalDouble.empty() : OptionalDouble.of(clrnn.medianMs() / clrnnF16.medianMs());
        }

        /** The torch class: RNN (tanh or relu), LSTM or GRU. */
        public String cells() {
            return shape.mode().moduleName();
        }

        /** Whether clrnn ran the projection inside the recurrence kernel (no GEMM launch to time). */
        public boolean projectionFused() {
            return clrnn.recurrence().endsWith("fused");
        }

        /** clrnn's profiled projection device time per forward; empty when the device was not profiled or fused. */
        public OptionalDouble projectionMs() {
            Double ms = clrnn.deviceMs().get("projection");
            return ms != null && ms > 0 ? OptionalDouble.of(ms) : OptionalDouble.empty();
        }

        /** What OpenBLAS takes for the same GEMMs: a layer's matmul counts each time a layer runs it. */
        public OptionalDouble sgemmMs() {
            double sum = 0;
            for (Shape.Gemm g : shape.projectionGemms()) {
                Optional<GemmTime> t = sgemm.stream().filter(s -> s.gemm().equals(g)).findFirst();
                if (t.isEmpty()) {
                    return OptionalDouble.empty();
                }
                sum += t.get().ms();
            }
            return OptionalDouble.of(sum);
        }

        public OptionalDouble projectionGflops() {
            return gflops(projectionMs());
        }

        public OptionalDouble sgemmGflops() {
            return gflops(sgemmMs());
        }

        /** clrnn's projection throughput as a fraction of OpenBLAS's on the same work (1: as fast). */
        public OptionalDouble projectionVsSgemm() {
            return projectionMs().isPresent() && sgemmMs().isPresent()
                    ? OptionalDouble.of(sgemmMs().getAsDouble() / projectionMs().getAsDouble()) : OptionalDouble.empty();
        }

        private OptionalDouble gflops(OptionalDouble ms) {
            double flops = shape.projectionGemms().stream().mapToDouble(Shape.Gemm::flops).sum();
            return ms.isPresent() ? OptionalDouble.of(flops / (ms.getAsDouble() * 1e6)) : OptionalDouble.empty();
        }

        /** "name: label", or the label alone for shapes named by it. */
        public String title() {
            return name.equals(shape.label()) ? name : name + ": " + shape.label();
        }
    }

    public Summary summary() {
        return Summary.of(rows, loaded);
    }

    /** Every table: the shapes' (when the grid ran), the whole networks', greedy generation's. */
    public String markdown() {
        StringBuilder s = new StringBuilder();
        if (!rows.isEmpty()) {
            appendShapes(s);
        }
        if (!networks.isEmpty()) {
            appendNetworks(s);
        }
        if (!generation.isEmpty()) {
            appendGeneration(s);
        }
        if (!serve.isEmpty()) {
            appendServe(s);
        }
        return s.toString();
    }

    /** The shapes against both peers, projection vs SGEMM, f16 weights, ragged vs full, the summary. */
    private void appendShapes(StringBuilder s) {
        boolean withReference = rows.stream().anyMatch(r -> r.reference() != null);
        s.append("| shape | clrnn ms | GFLOP/s | PyTorch best ms | vs PyTorch | ONNX Runtime best ms | vs ORT "
                + "| recurrence | device time split |").append(withReference ? " Java reference ms |" : "").append('\n');
        s.append("|---|--:|--:|--:|--:|--:|--:|---|---|").append(withReference ? "--:|" : "").append('\n');
        List<String> notes = new ArrayList<>();
        for (Row r : rows) {
            s.append("| ").append(r.title())
                    .append(" | ").append(ms(r.clrnn().medianMs()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.2f", r.clrnn().gflops()))
                    .append(" | ").append(best(r, Peer.TORCH, null, notes))
                    .append(" | ").append(times(r.speedup(Peer.TORCH)))
                    .append(" | ").append(best(r, Peer.ORT, r.ortNote(), notes))
                    .append(" | ").append(times(r.speedup(Peer.ORT)))
                    .append(" | ").append(r.clrnn().recurrence().isEmpty() ? "-" : r.clrnn().recurrence())
                    .append(" | ").append(split(r.clrnn().deviceMs()))
                    .append(" |");
            if (withReference) {
                s.append(' ').append(r.reference() == null ? "-" : ms(r.reference().medianMs())).append(" |");
            }
            s.append('\n');
        }
        appendNotes(s, notes);
        s.append('\n').append(rounds == 1 ? "One round per shape: each figure is the median of that round's runs."
                : rounds + " rounds per shape (clrnn, PyTorch, ONNX Runtime and SGEMM in turn): each figure is the "
                        + "median of the best round; a peer's best is the fastest of its thread counts (in "
                        + "parentheses).").append('\n');

        if (!loaded.isEmpty()) {
            appendLoaded(s);
        }

        s.append("\nProjection GEMM vs OpenBLAS SGEMM (torch.mm on the same M x N x K, best of its thread counts):\n\n");
        s.append("| shape | GEMMs per layer | proj ms | proj GFLOP/s | OpenBLAS SGEMM ms | OpenBLAS SGEMM GFLOP/s "
                + "| proj / SGEMM |\n");
        s.append("|---|---|--:|--:|--:|--:|--:|\n");
        for (Row r : rows) {
            String threads = r.sgemm().stream().map(t -> t.threads() + "t").distinct().collect(Collectors.joining("/"));
            s.append("| ").append(r.title())
                    .append(" | ").append(r.shape().projectionGemms().stream().map(Shape.Gemm::toString)
                            .collect(Collectors.joining(", ")))
                    .append(" | ").append(r.projectionMs().isPresent() ? ms(r.projectionMs().getAsDouble())
                            : r.projectionFused() ? "fused" : "-")
                    .append(" | ").append(number(r.projectionGflops()))
                    .append(" | ").append(r.sgemmMs().isPresent() ? ms(r.sgemmMs().getAsDouble()) + " (" + threads + ")"
                            : "-")
                    .append(" | ").append(number(r.sgemmGflops()))
                    .append(" | ").append(percent(r.projectionVsSgemm()))
                    .append(" |\n");
        }
        if (rows.stream().anyMatch(Row::projectionFused)) {
            s.append("\n\"fused\": the projection ran inside the recurrence kernel (rows_fused), no GEMM launch of its own.\n");
        }
        s.append('\n').append(summary().markdown());
    }

    /** The loaded round beside the idle one: each implementation with another process keeping one core busy. */
    private void appendLoaded(StringBuilder s) {
        s.append("\nLoaded round: each shape once more while another process keeps one core busy (a shell spinning "
                + "in a loop), as a server's other work would; a peer's best is the fastest of its thread counts:\n\n");
        s.append("| shape | clrnn ms | clrnn idle ms | PyTorch best ms | vs PyTorch | ONNX Runtime best ms | vs ORT "
                + "| recurrence |\n|---|--:|--:|--:|--:|--:|--:|---|\n");
        List<String> notes = new ArrayList<>();
        for (Row r : loaded) {
            String idle = rows.stream().filter(i -> i.name().equals(r.name())).findFirst()
                    .map(i -> ms(i.clrnn().medianMs())).orElse("-");
            s.append("| ").append(r.title())
                    .append(" | ").append(ms(r.clrnn().medianMs()))
                    .append(" | ").append(idle)
                    .append(" | ").append(best(r, Peer.TORCH, null, notes))
                    .append(" | ").append(times(r.speedup(Peer.TORCH)))
                    .append(" | ").append(best(r, Peer.ORT, r.ortNote(), notes))
                    .append(" | ").append(times(r.speedup(Peer.ORT)))
                    .append(" | ").append(r.clrnn().recurrence().isEmpty() ? "-" : r.clrnn().recurrence())
                    .append(" |\n");
        }
        appendNotes(s, notes);
    }

    private void appendNetworks(StringBuilder s) {
        s.append("\nWhole networks (scripts/networks.py exported by torch.onnx.export at opset 14; clrnn and ONNX "
                + "Runtime run the same file, PyTorch the module; each the best round of its fastest thread "
                + "count):\n\n");
        s.append("| network | batch x seq | clrnn ms | PyTorch best ms | vs PyTorch | ONNX Runtime best ms | vs ORT "
                + "| peak tensor MiB |\n|---|---|--:|--:|--:|--:|--:|--:|\n");
        for (NetworkRow n : networks) {
            s.append("| ").append(n.network()).append(" | ").append(n.batch()).append(" x ").append(n.seq())
                    .append(" | ").append(ms(n.clrnnMs()))
                    .append(" | ").append(n.torchMs() > 0 ? ms(n.torchMs()) + " (" + n.torchBest() + ")" : "-")
                    .append(" | ").append(times(n.speedupVsTorch()))
                    .append(" | ").append(n.ortMs() > 0 ? ms(n.ortMs()) + " (" + n.ortBest() + ")" : "-")
                    .append(" | ").append(times(n.speedupVsOrt()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.2f", n.peakTensorBytes() / 1048576.0))
                    .append(" |\n");
        }
        geomeanAndMin(networks.stream().map(NetworkRow::speedupVsOrt).toList()).ifPresent(g -> s.append(
                String.format(Locale.ROOT, "%nNetworks vs ONNX Runtime: geometric mean %.2fx, slowest %.2fx "
                        + "(target: 1.5x and no network below 1.0x).%n", g[0], g[1])));
        geomeanAndMin(networks.stream().map(NetworkRow::speedupVsTorch).toList()).ifPresent(g -> s.append(
                String.format(Locale.ROOT, "Networks vs PyTorch: geometric mean %.2fx, slowest %.2fx.%n", g[0],
                        g[1])));
    }

    /** Greedy generation: per batch, each peer's tokens/s and clrnn's over it. */
    private void appendGeneration(StringBuilder s) {
        GenerationRow first = generation.get(0);
        s.append("\nGreedy generation (a ").append(first.model()).append("; every stream's ").append(first.prompt())
                .append("-token prompt once, then steps that each feed every stream's argmax back: tokens/s is batch "
                        + "/ the median step. clrnn runs the ids -> logits export with its state kept on the device, "
                        + "ONNX Runtime the export with h0, c0 -> hn, cn fed back each step, PyTorch the module "
                        + "carrying (h, c); each the best round of its fastest thread count):\n\n");
        s.append("| peer | batch | tokens/s | clrnn / peer |\n|---|--:|--:|--:|\n");
        for (GenerationRow g : generation) {
            appendPeer(s, "clrnn", null, g, g.clrnnStepMs(), OptionalDouble.empty());
            appendPeer(s, "PyTorch", g.torchBest(), g, g.torchStepMs(), g.speedupVsTorch());
            appendPeer(s, "ONNX Runtime", g.ortBest(), g, g.ortStepMs(), g.speedupVsOrt());
        }
    }

    /** clrnn serve under load: per mode and client count, requests/s and latency; batching's gain at each count. */
    private void appendServe(StringBuilder s) {
        s.append("\nclrnn serve on loopback (a 2-layer LSTM(32, 256) state_dict; every client sends one sequence of 1 "
                + "to 20 steps at a time, as fast as answers come; the clients run in the same machine):\n\n");
        s.append("| mode | clients | requests/s | p50 ms | p99 ms | errors | batching's gain |\n"
                + "|---|--:|--:|--:|--:|--:|--:|\n");
        for (ServeBenchmark.Result r : serve) {
            OptionalDouble gain = serveGain(r);
            s.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.2f | %.2f | %d | %s |%n", r.mode(), r.clients(),
                    r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.errors(), times(gain)));
        }
    }

    /** Batching's requests/s over one request per forward's, at {@code r}'s client count (for a batching row). */
    private OptionalDouble serveGain(ServeBenchmark.Result r) {
        if (!r.mode().equals("batching")) {
            return OptionalDouble.empty();
        }
        return serve.stream().filter(o -> !o.mode().equals("batching") && o.clients() == r.clients()
                && o.requestsPerSecond() > 0).mapToDouble(o -> r.requestsPerSecond() / o.requestsPerSecond())
                .findFirst();
    }

    /** A line of the generation table, e.g. "| PyTorch (1t) | 16 | 25703 | 1.20x |"; "-" where the peer did not run. */
    private static void appendPeer(StringBuilder s, String peer, String best, GenerationRow g, double stepMs,
            OptionalDouble speedup) {
        s.append("| ").append(peer).append(best == null ? "" : " (" + best + ")").append(" | ").append(g.batch())
                .append(" | ").append(stepMs > 0 ? String.format(Locale.ROOT, "%.0f", g.tokensPerSecond(stepMs)) : "-")
                .append(" | ").append(times(speedup)).append(" |\n");
    }

    /** The notes that {@link #best} numbered, "[1] ...", a line each. */
    private static void appendNotes(StringBuilder s, List<String> notes) {
        for (int i = 0; i < notes.size(); i++) {
            s.append(i == 0 ? "\n" : "").append('[').append(i + 1).append("] ").append(notes.get(i)).append('\n');
        }
    }

    /** "0.050 (1t)", "n/a [1]" with the reason noted, or "-" when the peer did not run. */
    private static String best(Row r, Peer peer, String note, List<String> notes) {
        Optional<Measurement> best = r.best(peer);
        if (best.isPresent()) {
            return ms(best.get().medianMs()) + " (" + best.get().shortName() + ")";
        }
        if (note == null) {
            return "-";
        }
        if (!notes.contains(note)) {
            notes.add(note);
        }
        return "n/a [" + (notes.indexOf(note) + 1) + "]";
    }

    /**
     * The JSON: {@code schema}, {@code machine}, {@code rounds}; {@code cases}, one per shape, with its sizes,
     * {@code clrnn} (and {@code clrnn_f16}, {@code reference}) as measurements, {@code torch} and {@code ort} (a
     * measurement per thread count), {@code torch_best}/{@code ort_best} (the fastest one's implementation),
     * {@code speedup_vs_torch}/{@code speedup_vs_ort}, {@code ort_note}, {@code f16_speedup},
     * {@code projection}, and {@code loaded} (the loaded round's clrnn, torch, ort, bests and speedups, or null; its
     * speedups also as {@code loaded_speedup_vs_torch}/{@code _ort}); and {@code summary} ({@link Summary#toJson()});
     * {@code networks}, one per network and batch; {@code generation}, one per batch, with {@code clrnn_tokens_per_s}, {@code torch_tokens_per_s},
     * {@code ort_tokens_per_s} (and each one's {@code _step_ms}), {@code torch_best}/{@code ort_best} (the fastest
     * thread count) and {@code speedup_vs_torch}/{@code speedup_vs_ort} (clrnn's tokens/s over the peer's). Missing
     * figures are null.
     */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("schema", SCHEMA);
        ObjectNode m = root.putObject("machine");
        machine.forEach((key, value) -> m.set(key, JSON.valueToTree(value)));
        root.put("rounds", rounds);
        ArrayNode cases = root.putArray("cases");
        for (Row r : rows) {
            Shape shape = r.shape();
            ObjectNode c = cases.addObject();
            c.put("name", r.name());
            c.put("shape", shape.label());
            c.put("cells", r.cells());
            putSizes(c, shape);
            c.put("flops", shape.flops());
            c.set("clrnn", r.clrnn().toJson());
            c.set("clrnn_f16", r.clrnnF16() == null ? null : r.clrnnF16().toJson());
            putOptional(c, "f16_speedup", r.f16Speedup());
            putPeers(c, r);
            c.put("ort_note", r.ortNote());
            Optional<Row> busy = loaded(r.name());
            if (busy.isPresent()) {
                ObjectNode l = c.putObject("loaded");
                l.set("clrnn", busy.get().clrnn().toJson());
                putPeers(l, busy.get());
                for (Peer peer : Peer.values()) {
                    putOptional(c, "loaded_speedup_vs_" + peer.key(), busy.get().speedup(peer));
                }
            } else {
                c.putNull("loaded");
            }
            c.set("reference", r.reference() == null ? null : r.reference().toJson());
            putOptional(c, "speedup_vs_reference", r.speedupVsReference());
            ObjectNode projection = c.putObject("projection");
            ArrayNode gemms = projection.putArray("gemms");
            shape.projectionGemms().forEach(g -> gemms.addObject().put("m", g.m()).put("n", g.n()).put("k", g.k()));
            putOptional(projection, "ms", r.projectionMs());
            putOptional(projection, "gflops", r.projectionGflops());
            projection.put("fused", r.projectionFused());
            ArrayNode sgemm = projection.putArray("sgemm");
            r.sgemm().forEach(t -> roundsToJson(sgemm.addObject().put("m", t.gemm().m()).put("n", t.gemm().n())
                    .put("k", t.gemm().k()).put("median_ms", t.ms()).put("threads", t.threads()), t.roundMs()));
            putOptional(projection, "sgemm_ms", r.sgemmMs());
            putOptional(projection, "sgemm_gflops", r.sgemmGflops());
            putOptional(projection, "vs_sgemm", r.projectionVsSgemm());
        }
        root.set("summary", summary().toJson());
        ArrayNode nets = root.putArray("networks");
        for (NetworkRow n : networks) {
            ObjectNode o = nets.addObject().put("name", n.name()).put("network", n.network()).put("batch", n.batch())
                    .put("seq", n.seq()).put("clrnn_ms", n.clrnnMs());
            o.put("torch_ms", n.torchMs() > 0 ? n.torchMs() : null).put("torch_best", n.torchBest());
            o.put("ort_ms", n.ortMs() > 0 ? n.ortMs() : null).put("ort_best", n.ortBest());
            putOptional(o, "speedup_vs_torch", n.speedupVsTorch());
            putOptional(o, "speedup_vs_ort", n.speedupVsOrt());
            o.put("peak_tensor_bytes", n.peakTensorBytes());
        }
        geomeanAndMin(networks.stream().map(NetworkRow::speedupVsOrt).toList()).ifPresent(g -> root
                .putObject("networks_vs_ort").put("geomean", g[0]).put("slowest", g[1]));
        geomeanAndMin(networks.stream().map(NetworkRow::speedupVsTorch).toList()).ifPresent(g -> root
                .putObject("networks_vs_torch").put("geomean", g[0]).put("slowest", g[1]));
        ArrayNode load = root.putArray("serve");
        for (ServeBenchmark.Result r : serve) {
            ObjectNode o = load.addObject().put("mode", r.mode()).put("clients", r.clients())
                    .put("requests", r.requests()).put("requests_per_s", r.requestsPerSecond())
                    .put("p50_ms", r.p50Ms()).put("p99_ms", r.p99Ms()).put("errors", r.errors());
            putOptional(o, "batching_gain", serveGain(r));
        }
        ArrayNode gen = root.putArray("generation");
        for (GenerationRow g : generation) {
            ObjectNode o = gen.addObject().put("name", g.name()).put("model", g.model()).put("batch", g.batch())
                    .put("prompt", g.prompt());
            o.put("clrnn_step_ms", g.clrnnStepMs()).put("clrnn_tokens_per_s", g.tokensPerSecond(g.clrnnStepMs()));
            putPeerRate(o, "torch", g, g.torchStepMs(), g.torchBest());
            putPeerRate(o, "ort", g, g.ortStepMs(), g.ortBest());
            putOptional(o, "speedup_vs_torch", g.speedupVsTorch());
            putOptional(o, "speedup_vs_ort", g.speedupVsOrt());
        }
        return root;
    }

    /** Each peer's runs ({@code torch}, {@code ort}), its fastest ({@code torch_best}...) and clrnn's speedup over it. */
    private static void putPeers(ObjectNode n, Row r) {
        for (Peer peer : Peer.values()) {
            ArrayNode runs = n.putArray(peer.key());
            r.runs(peer).forEach(t -> runs.add(t.toJson()));
            n.put(peer.key() + "_best", r.best(peer).map(Measurement::implementation).orElse(null));
            putOptional(n, "speedup_vs_" + peer.key(), r.speedup(peer));
        }
    }

    /** A peer's step time, tokens/s and fastest thread count ({@code torch_step_ms}...); nulls if it did not run. */
    private static void putPeerRate(ObjectNode o, String peer, GenerationRow g, double stepMs, String best) {
        boolean ran = stepMs > 0;
        o.put(peer + "_step_ms", ran ? stepMs : null);
        o.put(peer + "_tokens_per_s", ran ? g.tokensPerSecond(stepMs) : null);
        o.put(peer + "_best", best);
    }

    /** Writes the JSON so that no reader sees half a file. */
    public void write(Path json) throws IOException {
        AtomicFiles.write(json, JSON.writeValueAsBytes(toJson()));
    }

    /** Every round's median, in the order the rounds ran, so the spread the best one was picked from shows. */
    private static void roundsToJson(ObjectNode n, List<Double> roundMs) {
        ArrayNode rounds = n.putArray("round_median_ms");
        roundMs.forEach(rounds::add);
    }

    private static List<Double> roundsFromJson(JsonNode n) {
        List<Double> rounds = new ArrayList<>();
        n.path("round_median_ms").forEach(r -> rounds.add(r.asDouble()));
        return List.copyOf(rounds);
    }

    /** A shape's sizes, under the keys of the cases here and of {@code clrnn bench --json}: mode, seq, ..., ragged. */
    static void putSizes(ObjectNode n, Shape shape) {
        n.put("mode", shape.mode().cliName());
        n.put("seq", shape.seqLen());
        n.put("batch", shape.batch());
        n.put("input", shape.inputSize());
        n.put("hidden", shape.hiddenSize());
        n.put("layers", shape.layers());
        n.put("bidirectional", shape.bidirectional());
        n.put("proj_size", shape.projSize());
        n.put("ragged", shape.ragged());
    }

    /**
     * One timed run's figures, under the keys {@code clrnn bench --json}, {@link OrtTimer} and bench_torch.py share:
     * median_ms, min_ms, max_ms, runs, warmup_runs, warmup_seconds and gflops (of {@code flops} per forward).
     */
    static void putTiming(ObjectNode n, Timing timing, double flops) {
        n.put("median_ms", timing.medianMs());
        n.put("min_ms", timing.minMs());
        n.put("max_ms", timing.maxMs());
        n.put("runs", timing.runs());
        n.put("warmup_runs", timing.warmupRuns());
        n.put("warmup_seconds", timing.warmupSeconds());
        n.put("gflops", timing.gflops(flops));
    }

    static void putOptional(ObjectNode n, String key, OptionalDouble value) {
        if (value.isPresent()) {
            n.put(key, value.getAsDouble());
        } else {
            n.putNull(key);
        }
    }

    /** Milliseconds with about three significant digits. */
    static String ms(double ms) {
        String format = ms >= 100 ? "%.0f" : ms >= 10 ? "%.1f" : ms >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, format, ms);
    }

    static String times(OptionalDouble speedup) {
        return speedup.isPresent() ? String.format(Locale.ROOT, "%.2fx", speedup.getAsDouble()) : "-";
    }

    static String number(OptionalDouble value) {
        return value.isPresent() ? String.format(Locale.ROOT, "%.2f", value.getAsDouble()) : "-";
    }

    static String percent(OptionalDouble fraction) {
        return fraction.isPresent() ? String.format(Locale.ROOT, "%.0f%%", 100 * fraction.getAsDouble()) : "-";
    }

    private static String split(Map<String, Double> deviceMs) {
        if (deviceMs.isEmpty()) {
            return "-";
        }
        StringBuilder s = new StringBuilder();
        deviceMs.forEach((family, ms) -> s.append(s.length() == 0 ? "" : ", ").append(abbreviate(family))
                .append(' ').append(ms(ms)));
        return s.append(" ms").toString();
    }

    private static String abbreviate(String family) {
        return switch (family) {
            case "projection" -> "proj";
            case "recurrence" -> "rec";
            case "transfer" -> "xfer";
            default -> family;
        };
    }
}
