package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws a bench-suite JSON file as a bar chart: clrnn's speedup per shape over the fastest torch
 * run (or over the Java reference when torch did not run), with a line at 1.0x.
 */
public final class SpeedupChart {
    private static final int HEIGHT = 520;
    private static final int LEFT = 80;
    private static final int RIGHT = 60;
    private static final int TOP = 100;
    private static final int BOTTOM = 90;
    private static final int SLOT = 150;
    private static final Color FASTER = new Color(0x2e7d32);
    private static final Color SLOWER = new Color(0xc62828);

    private SpeedupChart() {}

    /** Where the chart of {@code json} goes: next to it, same base name, {@code .png}. */
    public static Path pngFor(Path json) {
        String name = json.getFileName().toString();
        return json.resolveSibling((name.endsWith(".json") ? name.substring(0, name.length() - 5) : name) + ".png");
    }

    public static void draw(Path json, Path png) throws IOException {
        // A benchmark host has no display; without this AWT may look for one.
        System.setProperty("java.awt.headless", "true");
        JsonNode root = Report.JSON.readTree(json.toFile());
        List<Bar> bars = new ArrayList<>();
        boolean vsTorch = false;
        for (JsonNode c : root.path("cases")) {
            vsTorch |= c.path("speedup_vs_torch").isNumber();
        }
        String key = vsTorch ? "speedup_vs_torch" : "speedup_vs_reference";
        for (JsonNode c : root.path("cases")) {
            JsonNode value = c.path(key);
            String against = vsTorch ? c.path("torch_best").asText("").replaceFirst("^torch-(cpu-)?", "vs torch ") : "";
            bars.add(new Bar(c.path("name").asText(), c.path("shape").asText(), against,
                    value.isNumber() ? value.asDouble() : Double.NaN));
        }
        JsonNode machine = root.path("machine");
        String title = vsTorch ? "clrnn speedup over PyTorch " + machine.path("torch_version").asText("")
                : "clrnn speedup over the Java reference (torch not run)";
        String subtitle = "on " + machine.path("device").asText("?") + ", " + machine.path("created").asText("");
        String note = (vsTorch ? "torch median / clrnn median, against the fastest torch run of each shape"
                : "Java reference median / clrnn median") + "; above the dashed line clrnn is faster";
        BufferedImage image = render(bars, title, subtitle, note);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(image, "png", bytes);
        io.clrnn.format.AtomicFiles.write(png, bytes.toByteArray());
    }

    /** {@code value} is NaN when the shape has no speedup (torch failed on it, say). */
    private record Bar(String name, String shape, String against, double value) {}

    private static BufferedImage render(List<Bar> bars, String title, String subtitle, String note) {
        Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 17);
        Font subtitleFont = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        int slotWidth = SLOT;
        for (Bar b : bars) {
            slotWidth = Math.max(slotWidth, textWidth(labelFont, b.shape) + 24);
        }
        int width = Math.max(720, Math.max(LEFT + RIGHT + bars.size() * slotWidth,
                40 + Math.max(textWidth(titleFont, title),
                        Math.max(textWidth(subtitleFont, subtitle), textWidth(subtitleFont, note)))));
        int slot = (width - LEFT - RIGHT) / Math.max(1, bars.size());
        BufferedImage image = new BufferedImage(width, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, HEIGHT);

        g.setColor(Color.BLACK);
        g.setFont(titleFont);
        centered(g, title, width / 2, 30);
        g.setFont(subtitleFont);
        g.setColor(Color.DARK_GRAY);
        centered(g, subtitle, width / 2, 52);
        centered(g, note, width / 2, 70);

        double max = 1.2;
        for (Bar b : bars) {
            max = Double.isNaN(b.value) ? max : Math.max(max, b.value * 1.15);
        }
        double step = niceStep(max / 6);
        max = Math.ceil(max / step) * step;
        int plotTop = TOP;
        int plotBottom = HEIGHT - BOTTOM;
        int plotRight = width - RIGHT;

        // Horizontal grid with the axis labels.
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i * step <= max + step / 2; i++) {
            double v = i * step;
            int y = y(v, max, plotTop, plotBottom);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(LEFT, y, plotRight, y);
            g.setColor(Color.DARK_GRAY);
            String label = BigDecimal.valueOf(Math.round(v * 100) / 100.0).stripTrailingZeros().toPlainString() + "x";
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(LEFT, plotTop, LEFT, plotBottom);
        g.drawLine(LEFT, plotBottom, plotRight, plotBottom);

        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int center = LEFT + i * slot + slot / 2;
            int barWidth = Math.min(90, slot * 11 / 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            if (Double.isNaN(b.value)) {
                g.setColor(Color.GRAY);
                centered(g, "n/a", center, plotBottom - 8);
            } else {
                int top = y(b.value, max, plotTop, plotBottom);
                g.setColor(b.value >= 1 ? FASTER : SLOWER);
                g.fillRect(center - barWidth / 2, top, barWidth, plotBottom - top);
                g.setColor(Color.BLACK);
                centered(g, String.format(Locale.ROOT, "%.2fx", b.value), center, top - 6);
            }
            g.setColor(Color.BLACK);
            centered(g, b.name, center, plotBottom + 20);
            g.setFont(labelFont);
            g.setColor(Color.DARK_GRAY);
            int line = plotBottom + 38;
            if (!b.name.equals(b.shape)) {
                centered(g, b.shape, center, line);
                line += 18;
            }
            centered(g, b.against, center, line);
        }

        // Parity: above the line clrnn is faster.
        int one = y(1.0, max, plotTop, plotBottom);
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f));
        g.drawLine(LEFT, one, plotRight, one);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("parity", plotRight + 6, one + 4);
        g.dispose();
        return image;
    }

    private static int textWidth(Font font, String text) {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            return g.getFontMetrics(font).stringWidth(text);
        } finally {
            g.dispose();
        }
    }

    private static int y(double value, double max, int top, int bottom) {
        return (int) Math.round(bottom - value / max * (bottom - top));
    }

    /** 1, 2, 2.5 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * magnitude >= raw) {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static void centered(Graphics2D g, String text, int x, int baseline) {
        FontMetrics metrics = g.getFontMetrics();
        g.drawString(text, x - metrics.stringWidth(text) / 2, baseline);
    }
}
