package io.clrnn.bench;

import io.clrnn.TestDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.InvalidInputException;
import io.clrnn.model.CellType;
import io.clrnn.cli.Main;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench suite end to end on a tiny grid without torch, and its table and grid parsing alone. */
class BenchSuiteTest {
    @TempDir Path dir;

    @Test
    void quickSuiteWritesJsonAndChart() throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench-suite", "--quick", "--rounds", "2", "--python", "none",
                "--device", TestDevice.SPEC,
                "--shapes", "T5 B4 I8 H8; T3 B2 I4 H4 L2 bi relu", "--out-dir", dir.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().startsWith("| shape |"), out.toString());
        assertTrue(err.toString().contains("torch: not run"), err.toString());
        assertTrue(err.toString().contains("round 2: clrnn"), err.toString());
        assertTrue(out.toString().contains("\n2 rounds per shape"), out.toString());

        Path json;
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.filter(p -> p.toString().endsWith(".json")).toList();
            assertEquals(1, all.size(), all.toString());
            json = all.get(0);
        }
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, root.path("rounds").asInt());
        JsonNode cases = root.path("cases");
        assertEquals(2, cases.size());
        assertEquals("T5 B4 I8 H8", cases.get(0).path("shape").asText());
        assertEquals("T3 B2 I4 H4 L2 bi relu", cases.get(1).path("shape").asText());
        assertEquals("rnn_relu", cases.get(1).path("mode").asText());
        for (JsonNode c : cases) {
            assertTrue(c.path("clrnn").path("median_ms").asDouble() > 0, c.toString());
            assertTrue(c.path("reference").path("median_ms").asDouble() > 0, c.toString());
            // clrnn ran in both rounds and reports the better; the reference in the first only.
            JsonNode clrnnRounds = c.path("clrnn").path("round_median_ms");
            assertEquals(2, clrnnRounds.size(), c.toString());
            assertEquals(Math.min(clrnnRounds.get(0).asDouble(), clrnnRounds.get(1).asDouble()),
                    c.path("clrnn").path("median_ms").asDouble());
            assertEquals(1, c.path("reference").path("round_median_ms").size(), c.toString());
            assertTrue(c.path("speedup_vs_torch").isNull(), c.toString());
            assertEquals(0, c.path("torch").size());
            assertTrue(c.path("projection").path("vs_sgemm").isNull(), c.toString());
        }
        assertEquals(2, cases.get(1).path("projection").path("gemms").size());
        assertEquals(8, cases.get(1).path("projection").path("gemms").get(1).path("k").asInt());
        assertTrue(out.toString().contains("No OpenBLAS SGEMM to compare with."), out.toString());
        assertTrue(root.path("machine").path("command").asText().startsWith("clrnn bench-suite --quick"));

        Path png = SpeedupChart.pngFor(json);
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "PNG does not decode: " + png);
        assertTrue(image.getWidth() >= 400 && image.getHeight() >= 300);
        assertTrue(distinctColors(image) > 10, "chart looks blank");

        // Redrawing from the JSON alone gives the same picture size.
        Files.delete(png);
        assertEquals(0, Main.run(new String[] {"bench-suite", "--chart-only", json.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
        assertEquals(image.getWidth(), ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void markdownTableShowsEachImplementationAndTheSummary() {
        Shape lab = Shape.rnn(5, 4, 128, 64, 1, false);
        Shape tiny = Shape.rnn(3, 2, 4, 4, 3, true).withMode(CellType.RNN_RELU);
        Map<String, Double> split = new LinkedHashMap<>(); // in the order the device reports families
        split.put("projection", 0.1);
        split.put("recurrence", 0.25);
        Shape.Gemm tinyLayer0 = new Shape.Gemm(6, 8, 4);
        Shape.Gemm tinyLater = new Shape.Gemm(6, 8, 8); // layers 1 and 2: OpenBLAS's time counts twice
        Report report = new Report(Map.of(), 3, List.of(
                new Report.Row("lab", lab, measurement("clrnn", lab, 0.5, split),
                        measurement("java-reference", lab, 2.0, Map.of()),
                        List.of(measurement("torch-cpu-1t", lab, 1.0, Map.of()),
                                measurement("torch-cpu-2t", lab, 1.5, Map.of())),
                        List.of(new Report.GemmTime(new Shape.Gemm(20, 64, 128), 0.05, 1))),
                new Report.Row(tiny.label(), tiny, measurement("clrnn", tiny, 20.0, Map.of("projection", 0.01)),
                        null, List.of(measurement("torch-cpu-2t", tiny, 5.0, Map.of())),
                        List.of(new Report.GemmTime(tinyLayer0, 0.002, 2), new Report.GemmTime(tinyLater, 0.003, 1))),
                new Report.Row("no torch", lab, measurement("clrnn", lab, 0.5, Map.of()), null, List.of(),
                        List.of())));
        String[] lines = report.markdown().split("\n");
        assertEquals("| shape | clrnn ms | GFLOP/s | torch best ms | speedup vs torch | Java reference ms "
                + "| recurrence | device time split |", lines[0]);
        assertEquals("| lab: T5 B4 I128 H64 | 0.500 | 0.98 | 1.00 (1t) | 2.00x | 2.00 | rows "
                + "| proj 0.100, rec 0.250 ms |", lines[2]);
        assertEquals("| T3 B2 I4 H4 L3 bi relu | 20.0 | 0.00 | 5.00 (2t) | 0.25x | - | rows | proj 0.010 ms |",
                lines[3]);
        assertEquals("3 rounds per shape (clrnn, torch and SGEMM in turn; the Java reference in the first only): "
                + "each figure is the median of the best round.", lines[6]);
        assertEquals("| shape | GEMMs per layer | proj ms | proj GFLOP/s | OpenBLAS SGEMM ms "
                + "| OpenBLAS SGEMM GFLOP/s | proj / SGEMM |", lines[10]);
        // 2*20*64*128 FLOPs in 0.1 ms against 0.05 ms
        assertEquals("| lab: T5 B4 I128 H64 | 20x64x128 | 0.100 | 3.28 | 0.050 (1t) | 6.55 | 50% |", lines[12]);
        // 2*6*8*(4 + 8 + 8) = 1920 FLOPs in 0.01 ms against 0.002 + 2 * 0.003 ms
        assertEquals("| T3 B2 I4 H4 L3 bi relu | 6x8x4, 6x8x8, 6x8x8 | 0.010 | 0.19 | 0.008 (2t/1t) | 0.24 | 80% |",
                lines[13]);
        assertEquals("| no torch: T5 B4 I128 H64 | 20x64x128 | - | - | - | - | - |", lines[14]);
        // sqrt(2 * 0.25) = 0.707
        assertEquals("Speedup over torch (fastest of its runs per shape): geometric mean 0.71x, min 0.25x "
                + "(T3 B2 I4 H4 L3 bi relu). Projection GEMM vs OpenBLAS SGEMM: min 50% (lab).", lines[16]);

        JsonNode json = report.toJson();
        assertEquals(0.8, json.path("cases").get(1).path("projection").path("vs_sgemm").asDouble(), 1e-9);
        assertEquals(2, json.path("cases").get(1).path("projection").path("sgemm").size());
        assertEquals(0.5, json.path("summary").path("min_projection_vs_sgemm").asDouble(), 1e-9);
        assertEquals("lab", json.path("summary").path("min_projection_vs_sgemm_case").asText());
    }

    @Test
    void eachImplementationKeepsItsBestRoundAndRecordsEveryRound() {
        Shape lab = Shape.rnn(5, 4, 128, 64, 1, false);
        // The kept round brings its own device time split along.
        Report.Measurement best = Report.Measurement.bestRound(List.of(
                measurement("clrnn", lab, 1.2, Map.of("recurrence", 0.9)),
                measurement("clrnn", lab, 0.8, Map.of("recurrence", 0.6)),
                measurement("clrnn", lab, 1.0, Map.of("recurrence", 0.7))));
        assertEquals(0.8, best.medianMs());
        assertEquals(Map.of("recurrence", 0.6), best.deviceMs());
        assertEquals(List.of(1.2, 0.8, 1.0), best.roundMs());
        assertEquals(List.of(1.2, 0.8, 1.0), Report.Measurement.fromJson(best.toJson()).roundMs());
        // bench_torch.py's answer is one round.
        assertEquals(List.of(2.5), Report.Measurement.fromJson(measurement("torch-cpu-1t", lab, 2.5, Map.of())
                .toJson().without("round_median_ms")).roundMs());

        Shape.Gemm gemm = new Shape.Gemm(20, 64, 128);
        Report.GemmTime sgemm = Report.GemmTime.bestRound(List.of(new Report.GemmTime(gemm, 0.07, 2),
                new Report.GemmTime(gemm, 0.05, 2)));
        assertEquals(new Report.GemmTime(gemm, 0.05, 2, List.of(0.07, 0.05)), sgemm);
        JsonNode json = new Report(Map.of(), 2, List.of(new Report.Row("lab", lab, best, null, List.of(),
                List.of(sgemm)))).toJson();
        assertEquals(2, json.path("rounds").asInt());
        assertEquals(3, json.path("cases").get(0).path("clrnn").path("round_median_ms").size());
        assertEquals(0.07, json.path("cases").get(0).path("projection").path("sgemm").get(0)
                .path("round_median_ms").get(0).asDouble());
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
        Grid grid = Grid.parse("T5 B4 I8 H8; t3 b2 i4 h4 l2 bi relu");
        assertEquals(Shape.rnn(5, 4, 8, 8, 1, false), grid.cases().get(0).shape());
        assertEquals(Shape.rnn(3, 2, 4, 4, 2, true).withMode(CellType.RNN_RELU), grid.cases().get(1).shape());
        assertThrows(InvalidInputException.class, () -> Grid.parse("T5 B4 I8"));
        assertThrows(InvalidInputException.class, () -> Grid.parse("T5 B4 I8 H8 X3"));
        assertTrue(Grid.standard().cases().stream().anyMatch(c -> c.shape().mode() == CellType.LSTM));
        assertTrue(Grid.standard().cases().stream().anyMatch(c -> c.shape().mode() == CellType.GRU));
    }

    private static Report.Measurement measurement(String implementation, Shape shape, double ms,
            Map<String, Double> split) {
        return new Report.Measurement(implementation, "test", ms, ms, ms, 3, shape.flops() / (ms * 1e6),
                implementation.equals("clrnn") ? "rows" : "", split);
    }

    private static long distinctColors(BufferedImage image) {
        return java.util.stream.IntStream.range(0, image.getWidth() * image.getHeight())
                .map(i -> image.getRGB(i % image.getWidth(), i / image.getWidth())).distinct().count();
    }
}
