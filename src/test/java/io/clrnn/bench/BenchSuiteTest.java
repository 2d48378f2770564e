package io.clrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.base.InvalidInputException;
import io.clrnn.TestDevice;
import io.clrnn.cli.Main;
import io.clrnn.model.CellType;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench suite: one real quick run end to end beside whichever peers this machine has (saying so for those it
 * lacks), and its tables, JSON, summary, targets and chart on made-up measurements.
 */
class BenchSuiteTest {
    private static final Shape LAB = Shape.rnn(5, 4, 128, 64, 1, false);
    private static final Shape THROUGHPUT = Shape.rnn(100, 64, 256, 256, 2, true);

    @TempDir Path dir;

    @Test
    void quickSuiteRunsBesideEachPeerThatIsHere() throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // A ragged GRU (ONNX Runtime gets sequence_lens) timed with f16 weights too, and an LSTM with proj_size
        // (which has no ONNX form).
        int code = Main.run(new String[] {"bench-suite", "--quick", "--device", TestDevice.SPEC,
                "--shapes", "GRU T5 B3 I8 H8 L2 bi ragged f16; LSTM T3 B2 I4 H4 P2", "--networks", "events",
                "--generation", "2", "--serve", "2", "--out-dir", dir.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true));
        String log = err.toString();
        assertEquals(0, code, log);
        boolean torch = !log.contains("torch: not run");
        boolean ort = !log.contains("ONNX Runtime: not run");
        assertTrue(torch || log.contains("torch: not run ("), log);
        assertTrue(torch || !ort, "ONNX Runtime's models are torch's exports: " + log);
        // Progress: which shape of how many, what it times, the time since the start.
        assertTrue(log.contains("[1/2] 0:"), log);
        assertTrue(log.contains("[2/2] "), log);
        assertTrue(log.contains("timing clrnn, clrnn f16" + (torch ? ", PyTorch 1t" : "")), log);
        assertTrue(log.contains("round 1/1: clrnn "), log);
        assertTrue(out.toString().startsWith("| shape | clrnn ms | GFLOP/s | PyTorch best ms | vs PyTorch "
                + "| ONNX Runtime best ms | vs ORT |"), out.toString());
        assertTrue(out.toString().contains("\nTargets met: "), out.toString());

        Path json = single(dir, ".json");
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals(Report.SCHEMA, root.path("schema").asInt());
        assertEquals(1, root.path("rounds").asInt());
        assertTrue(root.path("machine").path("command").asText().startsWith("clrnn bench-suite --quick"));
        JsonNode gru = root.path("cases").get(0);
        JsonNode lstm = root.path("cases").get(1);
        assertEquals("GRU T5 B3 I8 H8 L2 bi ragged", gru.path("shape").asText());
        assertEquals("GRU", gru.path("cells").asText());
        assertTrue(gru.path("clrnn").path("median_ms").asDouble() > 0, gru.toString());
        assertTrue(gru.path("clrnn_f16").path("median_ms").asDouble() > 0, gru.toString());
        assertTrue(gru.path("f16_speedup").isNumber(), gru.toString());
        assertTrue(lstm.path("clrnn_f16").isNull(), lstm.toString());
        assertTrue(gru.path("reference").isNull(), "the Java reference runs only when asked");
        assertEquals(1, root.path("summary").path("f16").size());
        // The loaded round: every shape once more, one core kept busy, beside the idle figures.
        assertTrue(log.contains("loaded round (one core busy): clrnn "), log);
        assertTrue(gru.path("loaded").path("clrnn").path("median_ms").asDouble() > 0, gru.toString());
        assertEquals(torch, gru.path("loaded_speedup_vs_torch").isNumber(), gru.toString());
        assertEquals(ort, gru.path("loaded").path("speedup_vs_ort").isNumber(), gru.toString());
        assertEquals(2, root.path("summary").path("loaded").path("shapes").asInt());
        assertTrue(out.toString().contains("\nLoaded round: "), out.toString());

        // The networks section: torch exports them; clrnn and ONNX Runtime run the export, torch the module.
        JsonNode nets = root.path("networks");
        if (torch) {
            assertEquals(List.of("events B1", "events B32"), List.of(nets.path(0).path("name").asText(),
                    nets.path(1).path("name").asText()), nets.toString());
            for (JsonNode n : nets) {
                assertTrue(n.path("clrnn_ms").asDouble() > 0, n.toString());
                assertTrue(n.path("speedup_vs_torch").isNumber(), n.toString());
                assertEquals(ort, n.path("speedup_vs_ort").isNumber(), n.toString());
                assertTrue(n.path("peak_tensor_bytes").asLong() > 0, n.toString());
            }
            assertTrue(out.toString().contains("\nWhole networks ("), out.toString());
            assertTrue(out.toString().contains("| events | 32 x 50 | "), out.toString());
        } else {
            assertEquals(0, nets.size());
            assertTrue(log.contains("networks: not run"), log);
        }

        // The generation section: torch exports the language model; each peer runs greedy steps.
        JsonNode generation = root.path("generation");
        if (torch) {
            assertEquals(1, generation.size(), generation.toString());
            JsonNode b2 = generation.get(0);
            assertEquals("generate B2", b2.path("name").asText());
            assertEquals(GenerationBenchmark.PROMPT_LENGTH, b2.path("prompt").asInt());
            assertTrue(b2.path("clrnn_tokens_per_s").asDouble() > 0, b2.toString());
            assertTrue(b2.path("speedup_vs_torch").isNumber(), b2.toString());
            assertEquals(ort, b2.path("speedup_vs_ort").isNumber(), b2.toString());
            assertTrue(log.contains("generation B2 round 1/1, one step: clrnn "), log);
            assertTrue(out.toString().contains("\nGreedy generation (a 2-layer LSTM-256 language model"),
                    out.toString());
            assertTrue(out.toString().contains("\n| clrnn | 2 | "), out.toString());
        } else {
            assertEquals(0, generation.size());
            assertTrue(log.contains("generation: not run"), log);
        }

        // The serve section: clrnn serve on loopback, with batching and one request per forward, 2 clients each.
        JsonNode serve = root.path("serve");
        assertEquals(2, serve.size(), serve.toString());
        assertEquals("batching", serve.get(0).path("mode").asText());
        assertEquals("max-batch-size 1", serve.get(1).path("mode").asText());
        for (JsonNode r : serve) {
            assertEquals(2, r.path("clients").asInt());
            assertTrue(r.path("requests").asLong() > 0 && r.path("p99_ms").asDouble() >= r.path("p50_ms").asDouble(),
                    r.toString());
            assertEquals(0, r.path("errors").asInt(), r.toString());
        }
        assertTrue(serve.get(0).path("batching_gain").isNumber(), serve.toString());
        assertTrue(out.toString().contains("\nclrnn serve on loopback"), out.toString());

        int cores = Runtime.getRuntime().availableProcessors();
        List<String> threads = cores > 1 ? List.of("1t", cores + "t") : List.of("1t");
        assertEquals(torch ? threads.stream().map(t -> "torch-cpu-" + t).toList() : List.of(),
                implementations(gru.path("torch")));
        assertEquals(torch, gru.path("speedup_vs_torch").isNumber(), gru.toString());
        if (ort) {
            assertTrue(log.contains("ONNX Runtime: 1."), log);
            assertEquals(threads.stream().map(t -> "ort-cpu-" + t).toList(), implementations(gru.path("ort")));
            assertTrue(gru.path("speedup_vs_ort").isNumber(), gru.toString());
            assertTrue(gru.path("ort_note").isNull(), gru.toString());
            assertEquals(0, lstm.path("ort").size());
            assertTrue(lstm.path("ort_note").asText().startsWith("proj_size:"), lstm.toString());
            assertTrue(out.toString().contains("| n/a [1] | - |"), out.toString());
            assertTrue(out.toString().contains("\n[1] proj_size: ONNX's LSTM operator has no projection"),
                    out.toString());
        } else {
            assertEquals(0, gru.path("ort").size());
            assertTrue(gru.path("ort_note").isNull(), gru.toString());
        }

        Path png = SpeedupChart.pngFor(json);
        if (torch) {
            assertTrue(log.contains("chart:   " + png), log);
            BufferedImage image = ImageIO.read(png.toFile());
            assertNotNull(image, "PNG does not decode: " + png);
            assertEquals(SpeedupChart.WIDTH, image.getWidth());
            // Redrawing from the JSON alone gives the same picture.
            Files.delete(png);
            StringWriter chartOut = new StringWriter();
            assertEquals(0, Main.run(new String[] {"bench-suite", "--chart-only", json.toString()},
                    new PrintWriter(chartOut, true), new PrintWriter(new StringWriter())));
            assertEquals("chart: " + png, chartOut.toString().strip());
            assertEquals(SpeedupChart.HEIGHT, ImageIO.read(png.toFile()).getHeight());
        } else {
            assertTrue(log.contains("chart:   not drawn"), log);
            assertFalse(Files.exists(png));
        }
    }

    @Test
    void tablesSetBothPeersSideBySideWithNotesForWhatCouldNotRun() {
        String[] lines = madeUp().markdown().split("\n");
        assertEquals("| shape | clrnn ms | GFLOP/s | PyTorch best ms | vs PyTorch | ONNX Runtime best ms | vs ORT "
                + "| recurrence | device time split |", lines[0]);
        assertEquals("| lab: T5 B4 I128 H64 | 0.500 | 0.98 | 1.00 (1t) | 2.00x | 0.600 (2t) | 1.20x | rows "
                + "| proj 0.100, rec 0.250 ms |", lines[2]);
        assertEquals("| lstm batch-1: LSTM T200 B1 I128 H512 | 2.00 | " + gflops(lstm(), 2.0)
                + " | 5.00 (2t) | 2.50x | 2.40 (1t) | 1.20x | rows | - |", lines[3]);
        // ONNX Runtime could not run this one, and says why; on the GRU it did not run at all.
        assertEquals("| lstm proj: LSTM T50 B32 I512 H1024 P256 | 4.00 | " + gflops(lstmProj(), 4.0)
                + " | 3.00 (1t) | 0.75x | n/a [1] | - | rows | - |", lines[4]);
        assertEquals("| gru: GRU T5 B4 I128 H64 | 1.00 | " + gflops(LAB.withMode(CellType.GRU), 1.0)
                + " | 2.00 (1t) | 2.00x | - | - | rows | - |", lines[5]);
        assertEquals("[1] proj_size: no ONNX form", lines[9]);
        assertEquals("3 rounds per shape (clrnn, PyTorch, ONNX Runtime and SGEMM in turn): each figure is the median "
                + "of the best round; a peer's best is the fastest of its thread counts (in parentheses).", lines[11]);
        // 2*20*64*128 FLOPs in 0.1 ms against 0.05 ms
        // The loaded round, beside the idle clrnn figure.
        assertTrue(lines[13].startsWith("Loaded round: "), lines[13]);
        assertEquals("| lab: T5 B4 I128 H64 | 0.700 | 0.500 | 1.40 (1t) | 2.00x | 0.700 (1t) | 1.00x | rows |",
                lines[17]);
        assertEquals("| gru: GRU T5 B4 I128 H64 | 2.50 | 1.00 | 2.00 (1t) | 0.80x | - | - | rows |", lines[18]);
        assertEquals("| lab: T5 B4 I128 H64 | 20x64x128 | 0.100 | 3.28 | 0.050 (1t) | 6.55 | 50% |", lines[24]);

        String summary = madeUp().summary().markdown();
        // RNN, vs torch: 2, 2.2 and 3 -> (13.2)^(1/3); vs ORT: 1.2, 1.6, 4/3 -> (2.56)^(1/3).
        assertTrue(summary.contains("| RNN | 3 | 2.36x | 2.00x (lab) | 1.37x | 1.20x (lab) |\n"), summary);
        assertTrue(summary.contains("| LSTM | 2 | 1.37x | 0.75x (lstm proj) | 1.20x | 1.20x (lstm batch-1) |\n"),
                summary);
        assertTrue(summary.contains("| GRU | 1 | 2.00x | 2.00x (gru) | - | - |\n"), summary);
        // vs torch: 49.5^(1/6); vs ORT: 3.072^(1/4)
        assertTrue(summary.contains("| all | 6 | 1.92x | 0.75x (lstm proj) | 1.32x | 1.20x (lab) |\n"), summary);
        assertTrue(summary.contains("| lstm batch-1 | 2.00 | 1.00 | 2.00x |\n"), summary);
        assertTrue(summary.contains("| ragged throughput vs throughput | 50.0 | 30.0 | 0.60 | 0.82 | 0.50 |\n"), summary);
        assertTrue(summary.contains("| speedup over PyTorch, geometric mean | ≥ 2.00x | 1.92x | **no** |\n"), summary);
        assertTrue(summary.contains("| speedup over ONNX Runtime, geometric mean | ≥ 1.50x | 1.32x | **no** |\n"),
                summary);
        assertTrue(summary.contains("| speedup over PyTorch, slowest shape | ≥ 1.00x | 0.75x (lstm proj) | **no** |\n"),
                summary);
        assertTrue(summary.contains("| speedup over ONNX Runtime, slowest shape | ≥ 1.00x | 1.20x (lab) | yes |\n"),
                summary);
        assertTrue(summary.contains("| projection GEMM vs OpenBLAS SGEMM, weakest shape | ≥ 60% | 50% (lab) | **no** |\n"),
                summary);
        assertTrue(summary.contains("| f16 weights vs f32, smallest speedup | ≥ 1.50x | 2.00x (lstm batch-1) | yes |\n"),
                summary);
        assertTrue(summary.contains("| ragged / full batch time (clrnn), largest | ≤ 0.65 | 0.60 (ragged throughput) "
                + "| yes |\n"), summary);
        // The loaded round: lab and gru ran it; gru lost to torch there (2.0 / 2.5).
        assertTrue(summary.contains("| all, loaded | 2 | 1.26x | 0.80x (gru) | 1.00x | 1.00x (lab) |\n"), summary);
        assertTrue(summary.contains("| loaded round: speedup over PyTorch, slowest shape | ≥ 1.00x | 0.80x (gru) "
                + "| **no** |\n"), summary);
        assertTrue(summary.endsWith("\nTargets met: 3 of 8 (missed 5, not measured 0).\n"), summary);
    }

    @Test
    void jsonCarriesBothPeersTheSummaryAndTheTargets() {
        JsonNode json = madeUp().toJson();
        assertEquals(Report.SCHEMA, json.path("schema").asInt());
        JsonNode lab = json.path("cases").get(0);
        assertEquals("RNN", lab.path("cells").asText());
        assertEquals(2, lab.path("torch").size());
        assertEquals("torch-cpu-1t", lab.path("torch_best").asText());
        assertEquals(2.0, lab.path("speedup_vs_torch").asDouble(), 1e-12);
        assertEquals("ort-cpu-2t", lab.path("ort_best").asText());
        assertEquals(1.2, lab.path("speedup_vs_ort").asDouble(), 1e-12);
        assertTrue(lab.path("clrnn_f16").isNull());
        assertEquals(0.5, lab.path("projection").path("vs_sgemm").asDouble(), 1e-12);
        JsonNode batch1 = json.path("cases").get(1);
        assertEquals(2.0, batch1.path("f16_speedup").asDouble(), 1e-12);
        assertEquals(1.0, batch1.path("clrnn_f16").path("median_ms").asDouble());
        JsonNode proj = json.path("cases").get(2);
        assertTrue(proj.path("speedup_vs_ort").isNull());
        assertTrue(proj.path("ort_best").isNull());
        assertEquals("proj_size: no ONNX form", proj.path("ort_note").asText());

        JsonNode summary = json.path("summary");
        JsonNode rnn = summary.path("by_cells").get(0);
        assertEquals("RNN", rnn.path("cells").asText());
        assertEquals(3, rnn.path("shapes").asInt());
        assertEquals(Math.cbrt(13.2), rnn.path("vs_torch").path("geomean").asDouble(), 1e-9);
        assertEquals("lab", rnn.path("vs_ort").path("min_case").asText());
        JsonNode gru = summary.path("by_cells").get(2);
        assertEquals(0, gru.path("vs_ort").path("shapes").asInt());
        assertTrue(gru.path("vs_ort").path("geomean").isNull());
        JsonNode all = summary.path("by_cells").get(3);
        assertEquals("all", all.path("cells").asText());
        assertEquals(Math.pow(49.5, 1.0 / 6), all.path("vs_torch").path("geomean").asDouble(), 1e-9);
        assertEquals(4, all.path("vs_ort").path("shapes").asInt());
        JsonNode ragged = summary.path("ragged_vs_full").get(0);
        assertEquals(0.6, ragged.path("clrnn").asDouble(), 1e-12);
        assertEquals(90.0 / 110, ragged.path("torch").asDouble(), 1e-12);

        JsonNode targets = summary.path("targets");
        assertEquals(8, targets.size());
        assertEquals("min_speedup_vs_torch", targets.get(2).path("name").asText());
        assertEquals(">=", targets.get(2).path("comparison").asText());
        assertEquals(1.0, targets.get(2).path("goal").asDouble());
        assertEquals(0.75, targets.get(2).path("value").asDouble(), 1e-12);
        assertEquals("lstm proj", targets.get(2).path("case").asText());
        assertFalse(targets.get(2).path("met").asBoolean());
        assertEquals("min_loaded_speedup_vs_torch", targets.get(4).path("name").asText());
        assertEquals(0.8, targets.get(4).path("value").asDouble(), 1e-12);
        assertEquals("gru", targets.get(4).path("case").asText());
        assertEquals("max_ragged_vs_full", targets.get(7).path("name").asText());
        assertEquals("<=", targets.get(7).path("comparison").asText());
        assertTrue(targets.get(7).path("met").asBoolean());
        assertEquals(3, summary.path("targets_met").asInt());
        assertEquals(5, summary.path("targets_missed").asInt());
        JsonNode loaded = summary.path("loaded");
        assertEquals(2, loaded.path("shapes").asInt());
        assertEquals(Math.sqrt(2.0 * 0.8), loaded.path("vs_torch").path("geomean").asDouble(), 1e-9);
        assertEquals(1, loaded.path("vs_ort").path("shapes").asInt());
        assertEquals(1.0, lab.path("loaded").path("speedup_vs_ort").asDouble(), 1e-12);
        assertEquals(2.0, lab.path("loaded_speedup_vs_torch").asDouble(), 1e-12);
        assertEquals(0.7, lab.path("loaded").path("clrnn").path("median_ms").asDouble(), 1e-12);
        assertTrue(json.path("cases").get(1).path("loaded").isNull());
    }

    @Test
    void targetsWithNothingToJudgeAreNotMeasured() {
        Report clrnnAlone = new Report(Map.of(), 1, List.of(
                new Report.Row("lab", LAB, measurement("clrnn", LAB, 0.5), List.of(), List.of())));
        Summary summary = clrnnAlone.summary();
        assertTrue(summary.targets().stream().allMatch(t -> t.met().isEmpty()), summary.toString());
        assertTrue(summary.markdown().contains("| speedup over ONNX Runtime, geometric mean | ≥ 1.50x | - | n/a |\n"));
        assertTrue(summary.markdown().endsWith("Targets met: 0 of 8 (missed 0, not measured 8).\n"));
        assertTrue(clrnnAlone.toJson().path("summary").path("targets").get(0).path("met").isNull());
        assertTrue(clrnnAlone.markdown().contains("| lab: T5 B4 I128 H64 | 0.500 | 0.98 | - | - | - | - | rows | - |"));

        // A goal reached exactly is met, from either side.
        assertEquals(Optional.of(true), new Summary.Target("x", "x", false, 1.5, Summary.Format.TIMES,
                OptionalDouble.of(1.5), null).met());
        assertEquals(Optional.of(true), new Summary.Target("x", "x", true, 0.65, Summary.Format.RATIO,
                OptionalDouble.of(0.65), null).met());
        assertEquals(Optional.of(false), new Summary.Target("x", "x", true, 0.65, Summary.Format.RATIO,
                OptionalDouble.of(0.66), null).met());

        Shape batch1 = Shape.rnn(200, 1, 128, 512, 1, false);
        Report allMet = new Report(Map.of(), 1, List.of(
                new Report.Row("full", THROUGHPUT, measurement("clrnn", THROUGHPUT, 1.0),
                        List.of(measurement("torch-cpu-1t", THROUGHPUT, 2.2)), List.of())
                        .withOrt(List.of(measurement("ort-cpu-1t", THROUGHPUT, 1.6)), null),
                new Report.Row("ragged", THROUGHPUT.withRagged(true), measurement("clrnn", THROUGHPUT, 0.6),
                        List.of(measurement("torch-cpu-1t", THROUGHPUT, 1.3)), List.of())
                        .withOrt(List.of(measurement("ort-cpu-1t", THROUGHPUT, 0.95)), null),
                new Report.Row("batch-1", batch1, measurement("clrnn", batch1, 1.0, Map.of("projection", 0.5)),
                        List.of(measurement("torch-cpu-1t", batch1, 2.2)),
                        List.of(new Report.GemmTime(new Shape.Gemm(200, 512, 128), 0.35, 1)))
                        .withOrt(List.of(measurement("ort-cpu-1t", batch1, 1.6)), null)
                        .withF16(measurement("clrnn", batch1, 0.6))))
                .withLoaded(List.of(new Report.Row("batch-1", batch1, measurement("clrnn", batch1, 1.5),
                        List.of(measurement("torch-cpu-1t", batch1, 3.0)), List.of())));
        Summary met = allMet.summary();
        assertEquals(8, met.count(Optional.of(true)), met.markdown());
        assertTrue(allMet.toJson().path("summary").path("targets").get(5).path("met").asBoolean());
    }

    @Test
    void busyCoreKeepsACoreBusyUntilClosed() throws InterruptedException {
        ProcessHandle spinner;
        try (BusyCore busy = BusyCore.start()) {
            spinner = ProcessHandle.current().children().filter(p -> p.info().command().orElse("").endsWith("sh"))
                    .findFirst().orElseThrow();
            assertTrue(spinner.isAlive());
            Thread.sleep(300);
            // Its own CPU time grows at about the wall clock's pace: it spins, it does not sleep.
            long cpuMs = spinner.info().totalCpuDuration().orElseThrow().toMillis();
            assertTrue(cpuMs >= 150, "the spinner used " + cpuMs + " ms of CPU in 500 ms");
        }
        assertFalse(spinner.isAlive(), "the spinner outlived its BusyCore");
    }

    @Test
    void chartIsAPngOfItsSizeWithABarSeriesPerPeer() throws IOException {
        Path json = dir.resolve("run.json");
        madeUp().write(json);
        Path png = SpeedupChart.pngFor(json);
        assertEquals(dir.resolve("run.png"), png);
        assertTrue(SpeedupChart.draw(json, png));
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "PNG does not decode: " + png);
        assertEquals(SpeedupChart.WIDTH, image.getWidth());
        assertEquals(SpeedupChart.HEIGHT, image.getHeight());
        int[] pixels = image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
        assertTrue(Arrays.stream(pixels).anyMatch(p -> (p & 0xFFFFFF) == 0xE8710A), "no PyTorch bars");
        assertTrue(Arrays.stream(pixels).anyMatch(p -> (p & 0xFFFFFF) == 0x1A73E8), "no ONNX Runtime bars");
        assertTrue(Arrays.stream(pixels).anyMatch(p -> (p & 0xFFFFFF) == 0xF6B26B), "no loaded-round bars");

        // No speedup in the file: nothing to draw, and no file.
        Path lonely = dir.resolve("lonely.json");
        new Report(Map.of(), 1, List.of(new Report.Row("lab", LAB, measurement("clrnn", LAB, 0.5), List.of(),
                List.of()))).write(lonely);
        assertFalse(SpeedupChart.draw(lonely, SpeedupChart.pngFor(lonely)));
        assertFalse(Files.exists(SpeedupChart.pngFor(lonely)));
    }

    @Test
    void eachImplementationKeepsItsBestRoundAndRecordsEveryRound() {
        // The kept round brings its own device time split along.
        Report.Measurement best = Report.Measurement.bestRound(List.of(
                measurement("clrnn", LAB, 1.2, Map.of("recurrence", 0.9)),
                measurement("clrnn", LAB, 0.8, Map.of("recurrence", 0.6)),
                measurement("clrnn", LAB, 1.0, Map.of("recurrence", 0.7))));
        assertEquals(0.8, best.medianMs());
        assertEquals(Map.of("recurrence", 0.6), best.deviceMs());
        assertEquals(List.of(1.2, 0.8, 1.0), best.roundMs());
        assertEquals(List.of(1.2, 0.8, 1.0), Report.Measurement.fromJson(best.toJson()).roundMs());
        // bench_torch.py's and OrtTimer's answers are one round.
        assertEquals(List.of(2.5), Report.Measurement.fromJson(measurement("torch-cpu-1t", LAB, 2.5)
                .toJson().without("round_median_ms")).roundMs());
        // Each thread count keeps its own best round, in the order they first ran.
        List<Report.Measurement> ort = Report.Measurement.bestRounds(List.of(measurement("ort-cpu-1t", LAB, 0.3),
                measurement("ort-cpu-2t", LAB, 0.4), measurement("ort-cpu-1t", LAB, 0.2),
                measurement("ort-cpu-2t", LAB, 0.5)));
        assertEquals(List.of("ort-cpu-1t", "ort-cpu-2t"), ort.stream().map(Report.Measurement::implementation).toList());
        assertEquals(List.of(0.2, 0.4), ort.stream().map(Report.Measurement::medianMs).toList());
        assertEquals("2t", ort.get(1).shortName());

        Shape.Gemm gemm = new Shape.Gemm(20, 64, 128);
        Report.GemmTime sgemm = Report.GemmTime.bestRound(List.of(new Report.GemmTime(gemm, 0.07, 2),
                new Report.GemmTime(gemm, 0.05, 2)));
        assertEquals(new Report.GemmTime(gemm, 0.05, 2, List.of(0.07, 0.05)), sgemm);
        JsonNode json = new Report(Map.of(), 2, List.of(new Report.Row("lab", LAB, best, List.of(),
                List.of(sgemm)))).toJson();
        assertEquals(2, json.path("rounds").asInt());
        assertEquals(3, json.path("cases").get(0).path("clrnn").path("round_median_ms").size());
        assertEquals(0.07, json.path("cases").get(0).path("projection").path("sgemm").get(0)
                .path("round_median_ms").get(0).asDouble());
    }

    @Test
    void generationTableSetsEachPeersTokensPerSecondBesideClrnns() throws IOException {
        String model = new GenerationBenchmark.Model(100, 64, 256, 2).label();
        // B1: ONNX Runtime did not run; B16: both peers did. A step is batch tokens: 0.5 ms at B1 is 2000 tokens/s.
        Report report = new Report(Map.of("torch_version", "1.13.0"), 3, List.of(), List.of(), List.of(
                new Report.GenerationRow(model, 1, 16, 0.5, 1.0, "1t", Double.NaN, null),
                new Report.GenerationRow(model, 16, 16, 1.0, 2.0, "2t", 1.6, "1t")));
        String markdown = report.markdown();
        // No grid ran: no shape tables, no summary.
        assertFalse(markdown.contains("| shape |"), markdown);
        assertFalse(markdown.contains("Targets met"), markdown);
        assertTrue(markdown.startsWith("\nGreedy generation (a 2-layer LSTM-256 language model (vocab 100, "
                + "embedding 64); every stream's 16-token prompt once, "), markdown);
        assertTrue(markdown.endsWith("""
                | peer | batch | tokens/s | clrnn / peer |
                |---|--:|--:|--:|
                | clrnn | 1 | 2000 | - |
                | PyTorch (1t) | 1 | 1000 | 2.00x |
                | ONNX Runtime | 1 | - | - |
                | clrnn | 16 | 16000 | - |
                | PyTorch (2t) | 16 | 8000 | 2.00x |
                | ONNX Runtime (1t) | 16 | 10000 | 1.60x |
                """), markdown);

        JsonNode json = report.toJson();
        JsonNode b1 = json.path("generation").get(0);
        assertEquals("generate B1", b1.path("name").asText());
        assertEquals(model, b1.path("model").asText());
        assertEquals(2000, b1.path("clrnn_tokens_per_s").asDouble(), 1e-9);
        assertEquals(1000, b1.path("torch_tokens_per_s").asDouble(), 1e-9);
        assertEquals("1t", b1.path("torch_best").asText());
        assertTrue(b1.path("ort_tokens_per_s").isNull(), b1.toString());
        assertTrue(b1.path("ort_step_ms").isNull(), b1.toString());
        assertTrue(b1.path("speedup_vs_ort").isNull(), b1.toString());
        JsonNode b16 = json.path("generation").get(1);
        assertEquals(16, b16.path("batch").asInt());
        assertEquals(1.6, b16.path("ort_step_ms").asDouble(), 1e-12);
        assertEquals(1.6, b16.path("speedup_vs_ort").asDouble(), 1e-12);
        assertEquals(2.0, b16.path("speedup_vs_torch").asDouble(), 1e-12);

        // The chart has a bar group per batch, from the JSON alone.
        Path file = dir.resolve("generation.json");
        report.write(file);
        assertTrue(SpeedupChart.draw(file, SpeedupChart.pngFor(file)));
        assertNotNull(ImageIO.read(SpeedupChart.pngFor(file).toFile()));
    }

    @Test
    void generationBatchesMustBePositiveIntegers() {
        for (String list : List.of("0", "1,x", "1,,16", "-1")) {
            StringWriter err = new StringWriter();
            assertEquals(2, Main.run(new String[] {"bench-suite", "--generation", list, "--python", "none",
                    "--out-dir", dir.toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err, true)));
            assertTrue(err.toString().contains("--generation takes none or batch sizes of 1 or more"),
                    err.toString());
        }
    }

    @Test
    void roundsMustBePositive() {
        StringWriter err = new StringWriter();
        assertEquals(2, Main.run(new String[] {"bench-suite", "--rounds", "0", "--python", "none",
                "--out-dir", dir.toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err, true)));
        assertTrue(err.toString().contains("--rounds must be at least 1"), err.toString());
    }

    @Test
    void gridParsesLabelsAndRejectsNonsense() {
        Grid grid = Grid.parse("T5 B4 I8 H8; t3 b2 i4 h4 l2 bi relu; GRU T5 B1 I8 H8 f16");
        assertEquals(Shape.rnn(5, 4, 8, 8, 1, false), grid.cases().get(0).shape());
        assertEquals(Shape.rnn(3, 2, 4, 4, 2, true).withMode(CellType.RNN_RELU), grid.cases().get(1).shape());
        assertEquals(new Grid.Case("GRU T5 B1 I8 H8", Shape.rnn(5, 1, 8, 8, 1, false).withMode(CellType.GRU), true),
                grid.cases().get(2));
        assertFalse(grid.cases().get(0).f16());
        assertThrows(InvalidInputException.class, () -> Grid.parse("T5 B4 I8"));
        assertThrows(InvalidInputException.class, () -> Grid.parse("T5 B4 I8 H8 X3"));
        List<Grid.Case> standard = Grid.standard().cases();
        for (CellType cells : List.of(CellType.LSTM, CellType.GRU)) {
            assertTrue(standard.stream().anyMatch(c -> c.shape().mode() == cells));
        }
        // f16 on both batch-1 shapes the targets name; the ragged throughput shape beside its full twin.
        assertEquals(List.of("batch-1 latency", "lstm batch-1"),
                standard.stream().filter(Grid.Case::f16).map(Grid.Case::name).toList());
        assertEquals(Shape.rnn(200, 1, 128, 512, 1, false), standard.stream().filter(Grid.Case::f16).findFirst()
                .orElseThrow().shape());
        Shape ragged = standard.stream().filter(c -> c.shape().ragged()).findFirst().orElseThrow().shape();
        assertTrue(standard.stream().anyMatch(c -> c.shape().equals(ragged.withRagged(false))));
    }

    /**
     * Six shapes: both peers at two thread counts; f16 weights; ONNX Runtime n/a with a reason on the projected
     * LSTM and not run on the GRU; a ragged shape beside its full twin.
     */
    private static Report madeUp() {
        Map<String, Double> split = new LinkedHashMap<>(); // in the order the device reports families
        split.put("projection", 0.1);
        split.put("recurrence", 0.25);
        Shape gru = LAB.withMode(CellType.GRU);
        Shape ragged = THROUGHPUT.withRagged(true);
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("device", "test device");
        machine.put("torch_version", "1.13.0");
        machine.put("onnxruntime_version", "1.23.2");
        machine.put("peer_threads", List.of(1, 2));
        return new Report(machine, 3, List.of(
                new Report.Row("lab", LAB, measurement("clrnn", LAB, 0.5, split),
                        List.of(measurement("torch-cpu-1t", LAB, 1.0), measurement("torch-cpu-2t", LAB, 1.5)),
                        List.of(new Report.GemmTime(new Shape.Gemm(20, 64, 128), 0.05, 1)))
                        .withOrt(List.of(measurement("ort-cpu-1t", LAB, 0.8), measurement("ort-cpu-2t", LAB, 0.6)),
                                null),
                new Report.Row("lstm batch-1", lstm(), measurement("clrnn", lstm(), 2.0),
                        List.of(measurement("torch-cpu-2t", lstm(), 5.0)), List.of())
                        .withOrt(List.of(measurement("ort-cpu-1t", lstm(), 2.4)), null)
                        .withF16(measurement("clrnn", lstm(), 1.0)),
                new Report.Row("lstm proj", lstmProj(), measurement("clrnn", lstmProj(), 4.0),
                        List.of(measurement("torch-cpu-1t", lstmProj(), 3.0)), List.of())
                        .withOrt(List.of(), "proj_size: no ONNX form"),
                new Report.Row("gru", gru, measurement("clrnn", gru, 1.0),
                        List.of(measurement("torch-cpu-1t", gru, 2.0)), List.of()),
                new Report.Row("throughput", THROUGHPUT, measurement("clrnn", THROUGHPUT, 50),
                        List.of(measurement("torch-cpu-1t", THROUGHPUT, 110)), List.of())
                        .withOrt(List.of(measurement("ort-cpu-2t", THROUGHPUT, 80)), null),
                new Report.Row("ragged throughput", ragged, measurement("clrnn", ragged, 30),
                        List.of(measurement("torch-cpu-1t", ragged, 90)), List.of())
                        .withOrt(List.of(measurement("ort-cpu-2t", ragged, 40)), null)))
                .withLoaded(List.of(
                        new Report.Row("lab", LAB, measurement("clrnn", LAB, 0.7), List.of(measurement("torch-cpu-1t",
                                LAB, 1.4)), List.of()).withOrt(List.of(measurement("ort-cpu-1t", LAB, 0.7)), null),
                        new Report.Row("gru", gru, measurement("clrnn", gru, 2.5),
                                List.of(measurement("torch-cpu-1t", gru, 2.0)), List.of())));
    }

    private static Shape lstm() {
        return Shape.rnn(200, 1, 128, 512, 1, false).withMode(CellType.LSTM);
    }

    private static Shape lstmProj() {
        return new Shape(CellType.LSTM, 50, 32, 512, 1024, 1, false, 256, false);
    }

    private static String gflops(Shape shape, double ms) {
        return String.format(Locale.ROOT, "%.2f", shape.flops() / (ms * 1e6));
    }

    private static Report.Measurement measurement(String implementation, Shape shape, double ms) {
        return measurement(implementation, shape, ms, Map.of());
    }

    private static Report.Measurement measurement(String implementation, Shape shape, double ms,
            Map<String, Double> split) {
        return new Report.Measurement(implementation, "test", ms, ms, ms, 3, shape.flops() / (ms * 1e6),
                implementation.equals("clrnn") ? "rows" : "", split);
    }

    private static List<String> implementations(JsonNode measurements) {
        return IntStream.range(0, measurements.size())
                .mapToObj(i -> measurements.get(i).path("implementation").asText()).toList();
    }

    private static Path single(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.filter(p -> p.toString().endsWith(suffix)).toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }
}
