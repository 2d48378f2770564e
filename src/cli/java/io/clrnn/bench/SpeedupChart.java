package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.clrnn.format.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

/**
 * Draws a bench-suite JSON file (and only that: the plot is a separate step) as grouped bars with XChart: per shape,
 * network and generation batch, clrnn's speedup over PyTorch's best and over ONNX Runtime's best (for generation:
 * its tokens/s over theirs), and over PyTorch's in the loaded round, with a line at 1.0x. When neither peer ran, the
 * speedup over the Java reference, if that ran; else there is nothing to draw.
 */
public final class SpeedupChart {
    public static final int WIDTH = 1400;
    public static final int HEIGHT = 700;
    private static final Color TORCH = new Color(0xE8710A);
    private static final Color ORT = new Color(0x1A73E8);
    /** The loaded round against PyTorch: PyTorch's colour, lighter. */
    private static final Color TORCH_LOADED = new Color(0xF6B26B);
    private static final Color REFERENCE = new Color(0x757575);

    private SpeedupChart() {}

    /** Where the chart of {@code json} goes: next to it, same base name, {@code .png}. */
    public static Path pngFor(Path json) {
        String name = json.getFileName().toString();
        return json.resolveSibling((name.endsWith(".json") ? name.substring(0, name.length() - 5) : name) + ".png");
    }

    /** Draws the chart of {@code json} into {@code png}; false (and no file) when no case has a speedup to show. */
    public static boolean draw(Path json, Path png) throws IOException {
        // A benchmark host has no display; without this AWT may look for one.
        System.setProperty("java.awt.headless", "true");
        JsonNode root = Report.JSON.readTree(json.toFile());
        JsonNode machine = root.path("machine");
        List<String> shapes = new ArrayList<>();
        root.path("cases").forEach(c -> shapes.add(c.path("name").asText()));
        root.path("networks").forEach(c -> shapes.add("net " + c.path("name").asText()));
        root.path("generation").forEach(c -> shapes.add(c.path("name").asText()));
        String threads = threads(machine.path("peer_threads"));
        List<Series> series = new ArrayList<>();
        series.add(Series.of(root, "speedup_vs_torch", "vs PyTorch " + machine.path("torch_version").asText("")
                + threads, TORCH));
        series.add(Series.of(root, "speedup_vs_ort", "vs ONNX Runtime " + machine.path("onnxruntime_version").asText("")
                + threads, ORT));
        series.add(Series.of(root, "loaded_speedup_vs_torch", "vs PyTorch, one core busy (loaded round)",
                TORCH_LOADED));
        series.removeIf(Series::empty);
        if (series.isEmpty()) {
            series.add(Series.of(root, "speedup_vs_reference", "vs the Java reference (no peer ran)", REFERENCE));
            series.removeIf(Series::empty);
        }
        if (series.isEmpty()) {
            return false;
        }

        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("clrnn on " + machine.path("device").asText("?") + ": speedup per shape (higher is faster)")
                .yAxisTitle("speedup: peer's best time / clrnn's time").build();
        CategoryStyler style = chart.getStyler();
        style.setChartBackgroundColor(Color.WHITE);
        style.setLegendPosition(Styler.LegendPosition.InsideNE);
        style.setXAxisLabelRotation(35);
        style.setYAxisMin(0.0);
        style.setYAxisDecimalPattern("0.0#x");
        style.setAvailableSpaceFill(0.8);
        style.setLabelsVisible(true);
        style.setLabelsRotation(90);
        style.setPlotGridVerticalLinesVisible(false);
        style.setSeriesColors(series.stream().map(Series::color).toArray(Color[]::new));
        // 1.0x: as fast as the peer. Above the line clrnn is faster.
        style.setAnnotationLineColor(Color.BLACK);
        style.setAnnotationLineStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
                new float[] {6, 4}, 0));
        chart.addAnnotation(new AnnotationLine(1.0, false, false));
        for (Series s : series) {
            chart.addSeries(s.name(), shapes, s.values());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(chart, bytes, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(png, bytes.toByteArray());
        return true;
    }

    /** One bar per shape: a speedup, or null (no bar) where that peer did not run. */
    private record Series(String name, List<Double> values, Color color) {
        static Series of(JsonNode root, String key, String name, Color color) {
            List<Double> values = new ArrayList<>();
            root.path("cases").forEach(c -> values.add(c.path(key).isNumber() ? c.path(key).asDouble() : null));
            root.path("networks").forEach(c -> values.add(c.path(key).isNumber() ? c.path(key).asDouble() : null));
            root.path("generation").forEach(c -> values.add(c.path(key).isNumber() ? c.path(key).asDouble() : null));
            return new Series(name, values, color);
        }

        boolean empty() {
            return values.stream().allMatch(v -> v == null);
        }
    }

    /** " (best of 1t/2t)" out of [1, 2]; nothing when the file does not say. */
    private static String threads(JsonNode counts) {
        List<String> t = new ArrayList<>();
        counts.forEach(n -> t.add(n.asInt() + "t"));
        return t.isEmpty() ? "" : " (best of " + String.join("/", t) + ")";
    }
}
