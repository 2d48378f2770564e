package io.clrnn.bench;

import io.clrnn.InvalidInputException;
import io.clrnn.Nonlinearity;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The shapes {@code clrnn bench-suite} runs, each with a short name. */
public record Grid(List<Case> cases) {
    /** One named shape. */
    public record Case(String name, Shape shape) {}

    /** The fixed grid: from the lab's toy shape to ones where a device can pull ahead. */
    public static Grid standard() {
        return new Grid(List.of(
                new Case("lab", new Shape(5, 4, 128, 64, 1, false, Nonlinearity.TANH)),
                new Case("mid", new Shape(25, 16, 128, 128, 1, false, Nonlinearity.TANH)),
                new Case("relu", new Shape(50, 32, 128, 256, 1, false, Nonlinearity.RELU)),
                new Case("throughput", new Shape(100, 64, 256, 256, 2, true, Nonlinearity.TANH)),
                new Case("batch-1 latency", new Shape(200, 1, 128, 512, 1, false, Nonlinearity.TANH)),
                new Case("large hidden", new Shape(50, 32, 512, 1024, 1, false, Nonlinearity.TANH))));
    }

    /**
     * Parses shapes written as {@link Shape#label()} writes them, separated by {@code ;}, e.g.
     * {@code "T5 B4 I8 H8; T3 B2 I4 H4 L2 bi relu"}; each is named by its label.
     */
    public static Grid parse(String text) {
        List<Case> cases = new ArrayList<>();
        for (String part : text.split(";")) {
            if (!part.isBlank()) {
                Shape shape = parseShape(part.trim());
                cases.add(new Case(shape.label(), shape));
            }
        }
        if (cases.isEmpty()) {
            throw new InvalidInputException("no shapes in '" + text + "'");
        }
        return new Grid(List.copyOf(cases));
    }

    static Shape parseShape(String label) {
        int[] sizes = {0, 0, 0, 0, 1}; // T B I H L
        boolean bidirectional = false;
        Nonlinearity nonlinearity = Nonlinearity.TANH;
        for (String token : label.toLowerCase(Locale.ROOT).split("\\s+")) {
            int slot = "tbihl".indexOf(token.charAt(0));
            if (token.equals("bi")) {
                bidirectional = true;
            } else if (token.equals("tanh") || token.equals("relu")) {
                nonlinearity = Nonlinearity.parse(token);
            } else if (slot >= 0 && token.length() > 1 && token.length() < 10
                    && token.substring(1).chars().allMatch(Character::isDigit)) {
                sizes[slot] = Integer.parseInt(token.substring(1));
            } else {
                throw new InvalidInputException("bad token '" + token + "' in shape '" + label
                        + "' (expected e.g. 'T5 B4 I8 H8 L2 bi relu')");
            }
        }
        if (sizes[0] < 1 || sizes[1] < 1 || sizes[2] < 1 || sizes[3] < 1 || sizes[4] < 1) {
            throw new InvalidInputException("shape '" + label + "' needs positive T, B, I and H");
        }
        Shape shape = new Shape(sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], bidirectional, nonlinearity);
        shape.config(); // validates the sizes the way the module does
        return shape;
    }
}
