package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import io.clrnn.format.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * The results of one {@code clrnn bench-suite} run: per shape clrnn, the Java reference and torch
 * side by side, and clrnn's projection GEMM against OpenBLAS's SGEMM on the same M, N, K, as
 * Markdown tables and as the JSON file the chart is drawn from.
 *
 * @param machine where and how it ran (device, cores, Java and torch versions, command line), written as is
 * @param rounds how many interleaved rounds each shape ran; every figure is the median of its best round
 */
public record Report(Map<String, Object> machine, int rounds, List<Row> rows) {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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

        public static Measurement of(Benchmark.Result r) {
            Map<String, Double> split = new LinkedHashMap<>();
            r.familyMs().forEach((family, ms) -> split.put(family.name().toLowerCase(Locale.ROOT), ms));
            return new Measurement(r.implementation(), r.deviceName(), r.timing().medianMs(), r.timing().minMs(),
                    r.timing().maxMs(), r.timing().runs(), r.gflops(), r.recurrenceVariant(), split);
        }

        /** Reads the object bench_torch.py prints (or one this class wrote). */
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

        /** "1t", "2t" or "cuda" out of "torch-cpu-1t", "torch-cuda". */
        String shortName() {
            return implementation.replaceFirst("^torch-(cpu-)?", "");
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
     * One shape; {@code reference} may be null and {@code torch} and {@code sgemm} (one time per distinct
     * projection GEMM of the shape) empty when they were not run.
     */
    public record Row(String name, Shape shape, Measurement clrnn, Measurement reference, List<Measurement> torch,
            List<GemmTime> sgemm) {
        public Optional<Measurement> bestTorch() {
            return torch.stream().min(Comparator.comparingDouble(Measurement::medianMs));
        }

        /** How many times faster clrnn is than the fastest torch run (below 1: slower). */
        public OptionalDouble speedupVsTorch() {
            return bestTorch().map(t -> OptionalDouble.of(t.medianMs() / clrnn.medianMs())).orElse(OptionalDouble.empty());
        }

        public OptionalDouble speedupVsReference() {
            return reference == null ? OptionalDouble.empty() : OptionalDouble.of(reference.medianMs() / clrnn.medianMs());
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

    /** Geometric mean of the speedups over torch, over the shapes that have one. */
    public OptionalDouble geomeanSpeedup() {
        double[] logs = rows.stream().map(Row::speedupVsTorch).filter(OptionalDouble::isPresent)
                .mapToDouble(s -> Math.log(s.getAsDouble())).toArray();
        return logs.length == 0 ? OptionalDouble.empty()
                : OptionalDouble.of(Math.exp(Arrays.stream(logs).average().orElseThrow()));
    }

    /** The shape clrnn does worst on against torch. */
    public Optional<Row> slowest() {
        return rows.stream().filter(r -> r.speedupVsTorch().isPresent())
                .min(Comparator.comparingDouble(r -> r.speedupVsTorch().getAsDouble()));
    }

    /** The shape whose projection GEMM is furthest behind OpenBLAS's. */
    public Optional<Row> weakestProjection() {
        return rows.stream().filter(r -> r.projectionVsSgemm().isPresent())
                .min(Comparator.comparingDouble(r -> r.projectionVsSgemm().getAsDouble()));
    }

    public String markdown() {
        StringBuilder s = new StringBuilder();
        s.append("| shape | clrnn ms | GFLOP/s | torch best ms | speedup vs torch | Java reference ms "
                + "| recurrence | device time split |\n");
        s.append("|---|--:|--:|--:|--:|--:|---|---|\n");
        for (Row r : rows) {
            Optional<Measurement> best = r.bestTorch();
            s.append("| ").append(r.title())
                    .append(" | ").append(ms(r.clrnn().medianMs()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.2f", r.clrnn().gflops()))
                    .append(" | ").append(best.map(t -> ms(t.medianMs()) + " (" + t.shortName() + ")").orElse("-"))
                    .append(" | ").append(times(r.speedupVsTorch()))
                    .append(" | ").append(r.reference() == null ? "-" : ms(r.reference().medianMs()))
                    .append(" | ").append(r.clrnn().recurrence().isEmpty() ? "-" : r.clrnn().recurrence())
                    .append(" | ").append(split(r.clrnn().deviceMs()))
                    .append(" |\n");
        }
        s.append('\n').append(rounds == 1 ? "One round per shape: each figure is the median of that round's runs."
                : rounds + " rounds per shape (clrnn, torch and SGEMM in turn; the Java reference in the first only): "
                        + "each figure is the median of the best round.").append('\n');
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
        s.append('\n').append(summary()).append('\n');
        return s.toString();
    }

    /** One line: the geometric-mean and the smallest speedup over torch, and the weakest projection vs SGEMM. */
    public String summary() {
        OptionalDouble geomean = geomeanSpeedup();
        String speedup = slowest().map(worst -> String.format(Locale.ROOT, "Speedup over torch (fastest of its "
                + "runs per shape): geometric mean %s, min %s (%s).", times(geomean), times(worst.speedupVsTorch()),
                worst.name())).orElse("No torch results, so no speedup over torch.");
        String sgemm = weakestProjection().map(r -> "Projection GEMM vs OpenBLAS SGEMM: min "
                + percent(r.projectionVsSgemm()) + " (" + r.name() + ").").orElse("No OpenBLAS SGEMM to compare with.");
        return speedup + " " + sgemm;
    }

    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode m = root.putObject("machine");
        machine.forEach((key, value) -> m.set(key, JSON.valueToTree(value)));
        root.put("rounds", rounds);
        ArrayNode cases = root.putArray("cases");
        for (Row r : rows) {
            Shape shape = r.shape();
            ObjectNode c = cases.addObject();
            c.put("name", r.name());
            c.put("shape", shape.label());
            c.put("seq", shape.seqLen());
            c.put("batch", shape.batch());
            c.put("input", shape.inputSize());
            c.put("hidden", shape.hiddenSize());
            c.put("layers", shape.layers());
            c.put("bidirectional", shape.bidirectional());
            c.put("mode", shape.mode().cliName());
            c.put("proj_size", shape.projSize());
            c.put("ragged", shape.ragged());
            c.put("flops", shape.flops());
            c.set("clrnn", r.clrnn().toJson());
            c.set("reference", r.reference() == null ? null : r.reference().toJson());
            ArrayNode torch = c.putArray("torch");
            r.torch().forEach(t -> torch.add(t.toJson()));
            c.put("torch_best", r.bestTorch().map(Measurement::implementation).orElse(null));
            putOptional(c, "speedup_vs_torch", r.speedupVsTorch());
            putOptional(c, "speedup_vs_reference", r.speedupVsReference());
            ObjectNode projection = c.putObject("projection");
            ArrayNode gemms = projection.putArray("gemms");
            shape.projectionGemms().forEach(g -> gemms.addObject().put("m", g.m()).put("n", g.n()).put("k", g.k()));
            putOptional(projection, "ms", r.projectionMs());
            putOptional(projection, "gflops", r.projectionGflops());
            ArrayNode sgemm = projection.putArray("sgemm");
            r.sgemm().forEach(t -> roundsToJson(sgemm.addObject().put("m", t.gemm().m()).put("n", t.gemm().n())
                    .put("k", t.gemm().k()).put("median_ms", t.ms()).put("threads", t.threads()), t.roundMs()));
            putOptional(projection, "sgemm_ms", r.sgemmMs());
            putOptional(projection, "sgemm_gflops", r.sgemmGflops());
            putOptional(projection, "vs_sgemm", r.projectionVsSgemm());
        }
        ObjectNode summary = root.putObject("summary");
        putOptional(summary, "geomean_speedup_vs_torch", geomeanSpeedup());
        Optional<Row> worst = slowest();
        putOptional(summary, "min_speedup_vs_torch", worst.map(Row::speedupVsTorch).orElse(OptionalDouble.empty()));
        summary.put("min_case", worst.map(Row::name).orElse(null));
        Optional<Row> weakest = weakestProjection();
        putOptional(summary, "min_projection_vs_sgemm",
                weakest.map(Row::projectionVsSgemm).orElse(OptionalDouble.empty()));
        summary.put("min_projection_vs_sgemm_case", weakest.map(Row::name).orElse(null));
        return root;
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

    private static void putOptional(ObjectNode n, String key, OptionalDouble value) {
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

    private static String times(OptionalDouble speedup) {
        return speedup.isPresent() ? String.format(Locale.ROOT, "%.2fx", speedup.getAsDouble()) : "-";
    }

    private static String number(OptionalDouble value) {
        return value.isPresent() ? String.format(Locale.ROOT, "%.2f", value.getAsDouble()) : "-";
    }

    private static String percent(OptionalDouble fraction) {
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
