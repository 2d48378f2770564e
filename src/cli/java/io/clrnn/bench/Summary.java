package io.clrnn.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.bench.Report.Peer;
import io.clrnn.bench.Report.Row;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * What a bench-suite run comes to: per cell type (RNN, LSTM, GRU), over all shapes and over the loaded round's,
 * the geometric mean and the smallest of clrnn's speedups over each peer's best; clrnn's speedup with f16 weights
 * and its ragged/full time ratio; and the targets, each met, missed or not measured.
 */
public record Summary(List<CellStats> cells, List<F16> f16, List<Ragged> ragged, CellStats loaded,
        List<Target> targets) {
    /** clrnn's geometric-mean speedup over PyTorch's best should reach this... */
    public static final double GEOMEAN_VS_TORCH = 2.0;
    /** ...and over ONNX Runtime's best this... */
    public static final double GEOMEAN_VS_ORT = 1.5;
    /** ...with no shape slower than either peer, idle or (PyTorch) with one core busy with other work. */
    public static final double MIN_SPEEDUP = 1.0;
    /** The projection GEMM's throughput as a fraction of OpenBLAS SGEMM's on the same M, N, K. */
    public static final double PROJECTION_VS_SGEMM = 0.60;
    /** How much faster f16 weights should make the shapes that read their weights at every step (batch 1). */
    public static final double F16_SPEEDUP = 1.5;
    /** A ragged batch (lengths uniform in 1..T: half the steps on average) against the full one, in time. */
    public static final double RAGGED_VS_FULL = 0.65;

    /** The geometric mean and the smallest speedup over one peer, over the shapes it ran. */
    public record PeerStats(int shapes, OptionalDouble geomean, OptionalDouble min, String minCase) {
        static PeerStats of(List<Row> rows, Peer peer) {
            List<Row> ran = rows.stream().filter(r -> r.speedup(peer).isPresent()).toList();
            if (ran.isEmpty()) {
                return new PeerStats(0, OptionalDouble.empty(), OptionalDouble.empty(), null);
            }
            double meanLog = ran.stream().mapToDouble(r -> Math.log(r.speedup(peer).getAsDouble())).average()
                    .orElseThrow();
            Row slowest = ran.stream().min(Comparator.comparingDouble(r -> r.speedup(peer).getAsDouble())).orElseThrow();
            return new PeerStats(ran.size(), OptionalDouble.of(Math.exp(meanLog)), slowest.speedup(peer),
                    slowest.name());
        }
    }

    /** One cell type's shapes ("RNN", "LSTM", "GRU"), or "all" of them. */
    public record CellStats(String cells, int shapes, Map<Peer, PeerStats> vs) {
        static CellStats of(String cells, List<Row> rows) {
            Map<Peer, PeerStats> vs = new EnumMap<>(Peer.class);
            for (Peer peer : Peer.values()) {
                vs.put(peer, PeerStats.of(rows, peer));
            }
            return new CellStats(cells, rows.size(), vs);
        }

        /** {@code shapes} and {@code vs_torch}/{@code vs_ort} ({@code shapes}, {@code geomean}, {@code min}, ...). */
        void putJson(ObjectNode o) {
            o.put("shapes", shapes);
            for (Peer peer : Peer.values()) {
                PeerStats p = vs.get(peer);
                ObjectNode n = o.putObject("vs_" + peer.key()).put("shapes", p.shapes());
                Report.putOptional(n, "geomean", p.geomean());
                Report.putOptional(n, "min", p.min());
                n.put("min_case", p.minCase());
            }
        }
    }

    /** clrnn on one shape with f32 and with f16 weights. */
    public record F16(String caseName, double f32Ms, double f16Ms) {
        public double speedup() {
            return f32Ms / f16Ms;
        }
    }

    /** A ragged shape and the same shape with every sequence full. */
    public record Ragged(Row ragged, Row full) {
        /** clrnn's ragged time over its full time. */
        public double ratio() {
            return ragged.clrnn().medianMs() / full.clrnn().medianMs();
        }

        /** The same ratio of the peer's bests, for context. */
        public OptionalDouble ratio(Peer peer) {
            Optional<Report.Measurement> r = ragged.best(peer);
            Optional<Report.Measurement> f = full.best(peer);
            return r.isPresent() && f.isPresent() ? OptionalDouble.of(r.get().medianMs() / f.get().medianMs())
                    : OptionalDouble.empty();
        }
    }

    /** How a target's figure is written. */
    public enum Format {
        TIMES("%.2fx"), PERCENT("%.0f%%"), RATIO("%.2f");

        private final String pattern;

        Format(String pattern) {
            this.pattern = pattern;
        }

        String format(double value) {
            return String.format(Locale.ROOT, pattern, this == PERCENT ? 100 * value : value);
        }
    }

    /**
     * One goal: {@code value} (measured on {@code caseName}, when one shape decides it) must be at least
     * ({@code atMost} false) or at most {@code goal}; with no value, the target is not measured.
     */
    public record Target(String key, String description, boolean atMost, double goal, Format format,
            OptionalDouble value, String caseName) {
        /** Met or missed; empty when there is nothing to judge. */
        public Optional<Boolean> met() {
            if (value.isEmpty()) {
                return Optional.empty();
            }
            double v = value.getAsDouble();
            return Optional.of(atMost ? v <= goal : v >= goal);
        }

        public String goalText() {
            return (atMost ? "≤ " : "≥ ") + format.format(goal);
        }

        public String valueText() {
            return value.isEmpty() ? "-"
                    : format.format(value.getAsDouble()) + (caseName == null ? "" : " (" + caseName + ")");
        }

        public String metText() {
            return met().map(m -> m ? "yes" : "**no**").orElse("n/a");
        }
    }

    public static Summary of(List<Row> rows) {
        return of(rows, List.of());
    }

    /** The summary of the idle rounds' {@code rows} and of the {@code loaded} round's (empty: it did not run). */
    public static Summary of(List<Row> rows, List<Row> loaded) {
        Map<String, List<Row>> byCells = new LinkedHashMap<>();
        for (String cells : List.of("RNN", "LSTM", "GRU")) {
            List<Row> these = rows.stream().filter(r -> r.cells().equals(cells)).toList();
            if (!these.isEmpty()) {
                byCells.put(cells, these);
            }
        }
        byCells.put("all", rows);
        List<CellStats> cells = new ArrayList<>();
        byCells.forEach((name, these) -> cells.add(CellStats.of(name, these)));
        CellStats busy = CellStats.of("all, loaded", loaded);

        List<F16> f16 = rows.stream().filter(r -> r.clrnnF16() != null)
                .map(r -> new F16(r.name(), r.clrnn().medianMs(), r.clrnnF16().medianMs())).toList();
        List<Ragged> ragged = new ArrayList<>();
        for (Row r : rows) {
            if (r.shape().ragged()) {
                rows.stream().filter(f -> f.shape().equals(r.shape().withRagged(false))).findFirst()
                        .ifPresent(full -> ragged.add(new Ragged(r, full)));
            }
        }

        CellStats all = cells.get(cells.size() - 1);
        List<Target> targets = new ArrayList<>();
        PeerStats torch = all.vs().get(Peer.TORCH);
        PeerStats ort = all.vs().get(Peer.ORT);
        targets.add(new Target("geomean_speedup_vs_torch", "speedup over PyTorch, geometric mean", false,
                GEOMEAN_VS_TORCH, Format.TIMES, torch.geomean(), null));
        targets.add(new Target("geomean_speedup_vs_ort", "speedup over ONNX Runtime, geometric mean", false,
                GEOMEAN_VS_ORT, Format.TIMES, ort.geomean(), null));
        targets.add(new Target("min_speedup_vs_torch", "speedup over PyTorch, slowest shape", false, MIN_SPEEDUP,
                Format.TIMES, torch.min(), torch.minCase()));
        targets.add(new Target("min_speedup_vs_ort", "speedup over ONNX Runtime, slowest shape", false, MIN_SPEEDUP,
                Format.TIMES, ort.min(), ort.minCase()));
        targets.add(new Target("min_loaded_speedup_vs_torch", "loaded round: speedup over PyTorch, slowest shape",
                false, MIN_SPEEDUP, Format.TIMES, busy.vs().get(Peer.TORCH).min(), busy.vs().get(Peer.TORCH).minCase()));
        targets.add(extreme("min_projection_vs_sgemm", "projection GEMM vs OpenBLAS SGEMM, weakest shape", false,
                PROJECTION_VS_SGEMM, Format.PERCENT, rows, Row::projectionVsSgemm, Row::name));
        targets.add(extreme("min_f16_speedup", "f16 weights vs f32, smallest speedup", false, F16_SPEEDUP,
                Format.TIMES, f16, f -> OptionalDouble.of(f.speedup()), F16::caseName));
        targets.add(extreme("max_ragged_vs_full", "ragged / full batch time (clrnn), largest", true, RAGGED_VS_FULL,
                Format.RATIO, ragged, g -> OptionalDouble.of(g.ratio()), g -> g.ragged().name()));
        return new Summary(List.copyOf(cells), f16, List.copyOf(ragged), busy, List.copyOf(targets));
    }

    /** The target decided by the worst of {@code items}: the smallest value, or the largest when {@code atMost}. */
    private static <T> Target extreme(String key, String description, boolean atMost, double goal, Format format,
            List<T> items, Function<T, OptionalDouble> value, Function<T, String> name) {
        ToDoubleFunction<T> v = t -> value.apply(t).getAsDouble();
        Comparator<T> order = atMost ? Comparator.comparingDouble(v).reversed() : Comparator.comparingDouble(v);
        Optional<T> worst = items.stream().filter(t -> value.apply(t).isPresent()).min(order);
        return new Target(key, description, atMost, goal, format,
                worst.map(value).orElse(OptionalDouble.empty()), worst.map(name).orElse(null));
    }

    private static List<CellStats> concat(List<CellStats> a, CellStats b) {
        List<CellStats> all = new ArrayList<>(a);
        all.add(b);
        return all;
    }

    public long count(Optional<Boolean> outcome) {
        return targets.stream().filter(t -> t.met().equals(outcome)).count();
    }

    public String markdown() {
        StringBuilder s = new StringBuilder();
        s.append("clrnn's speedup over each peer's best (the fastest of its thread counts), per cell type:\n\n");
        s.append("| cells | shapes | vs PyTorch, geomean | vs PyTorch, min | vs ORT, geomean | vs ORT, min |\n");
        s.append("|---|--:|--:|--:|--:|--:|\n");
        for (CellStats c : loaded.shapes() == 0 ? cells : concat(cells, loaded)) {
            s.append("| ").append(c.cells()).append(" | ").append(c.shapes());
            for (Peer peer : Peer.values()) {
                PeerStats p = c.vs().get(peer);
                s.append(" | ").append(Report.times(p.geomean()))
                        .append(" | ").append(Report.times(p.min())).append(p.minCase() == null ? "" : " (" + p.minCase() + ")");
            }
            s.append(" |\n");
        }
        if (!f16.isEmpty()) {
            s.append("\nf16 weights (clrnn with its weight matrices kept as half on the device):\n\n");
            s.append("| shape | f32 ms | f16 ms | f16 speedup |\n|---|--:|--:|--:|\n");
            for (F16 f : f16) {
                s.append("| ").append(f.caseName()).append(" | ").append(Report.ms(f.f32Ms()))
                        .append(" | ").append(Report.ms(f.f16Ms()))
                        .append(" | ").append(Report.times(OptionalDouble.of(f.speedup()))).append(" |\n");
            }
        }
        if (!ragged.isEmpty()) {
            s.append("\nRagged batch (lengths uniform in 1..T, seeded) against the full one, time ratio:\n\n");
            s.append("| shape | full ms | ragged ms | clrnn ragged / full | PyTorch | ONNX Runtime |\n");
            s.append("|---|--:|--:|--:|--:|--:|\n");
            for (Ragged g : ragged) {
                s.append("| ").append(g.ragged().name()).append(" vs ").append(g.full().name())
                        .append(" | ").append(Report.ms(g.full().clrnn().medianMs()))
                        .append(" | ").append(Report.ms(g.ragged().clrnn().medianMs()))
                        .append(" | ").append(Report.number(OptionalDouble.of(g.ratio())))
                        .append(" | ").append(Report.number(g.ratio(Peer.TORCH)))
                        .append(" | ").append(Report.number(g.ratio(Peer.ORT))).append(" |\n");
            }
        }
        s.append("\nTargets:\n\n| target | goal | result | met |\n|---|---|--:|---|\n");
        for (Target t : targets) {
            s.append("| ").append(t.description()).append(" | ").append(t.goalText()).append(" | ")
                    .append(t.valueText()).append(" | ").append(t.metText()).append(" |\n");
        }
        s.append(String.format(Locale.ROOT, "%nTargets met: %d of %d (missed %d, not measured %d).%n",
                count(Optional.of(true)), targets.size(), count(Optional.of(false)), count(Optional.empty())));
        return s.toString();
    }

    /**
     * {@code by_cells}: per cell type and "all", {@code shapes} and {@code vs_torch}/{@code vs_ort} ({@code shapes}
     * compared, {@code geomean}, {@code min}, {@code min_case}); {@code loaded}, the same over the loaded round;
     * {@code f16} ({@code case}, {@code f32_ms}, {@code f16_ms}, {@code speedup}); {@code ragged_vs_full} ({@code ragged_case}, {@code full_case},
     * {@code clrnn}, {@code torch}, {@code ort}: time ratios); {@code targets} ({@code name}, {@code description},
     * {@code comparison} ">=" or "<=", {@code goal}, {@code value}, {@code case}, {@code met}: true, false or null
     * when not measured) and their counts.
     */
    public ObjectNode toJson() {
        ObjectNode n = Report.JSON.createObjectNode();
        ArrayNode byCells = n.putArray("by_cells");
        for (CellStats c : cells) {
            c.putJson(byCells.addObject().put("cells", c.cells()));
        }
        loaded.putJson(n.putObject("loaded"));
        ArrayNode f16s = n.putArray("f16");
        f16.forEach(f -> f16s.addObject().put("case", f.caseName()).put("f32_ms", f.f32Ms()).put("f16_ms", f.f16Ms())
                .put("speedup", f.speedup()));
        ArrayNode raggeds = n.putArray("ragged_vs_full");
        for (Ragged g : ragged) {
            ObjectNode o = raggeds.addObject().put("ragged_case", g.ragged().name()).put("full_case", g.full().name())
                    .put("clrnn", g.ratio());
            for (Peer peer : Peer.values()) {
                Report.putOptional(o, peer.key(), g.ratio(peer));
            }
        }
        ArrayNode goals = n.putArray("targets");
        for (Target t : targets) {
            ObjectNode o = goals.addObject().put("name", t.key()).put("description", t.description())
                    .put("comparison", t.atMost() ? "<=" : ">=").put("goal", t.goal());
            Report.putOptional(o, "value", t.value());
            o.put("case", t.caseName());
            if (t.met().isPresent()) {
                o.put("met", t.met().get());
            } else {
                o.putNull("met");
            }
        }
        n.put("targets_met", count(Optional.of(true)));
        n.put("targets_missed", count(Optional.of(false)));
        n.put("targets_unmeasured", count(Optional.empty()));
        return n;
    }
}
