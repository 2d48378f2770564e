package io.clrnn.bench;

import io.clrnn.base.InvalidInputException;
import io.clrnn.model.CellType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The shapes {@code clrnn bench-suite} runs, each with a short name. */
public record Grid(List<Case> cases) {
    /** One named shape; {@code f16}: time clrnn with f16 weights too, beside f32. */
    public record Case(String name, Shape shape, boolean f16) {
        public Case(String name, Shape shape) {
            this(name, shape, false);
        }
    }

    /**
     * The fixed grid: from the lab's toy shape to ones where a device can pull ahead, for each cell type (issue 25's
     * twelve shapes, plus relu, proj_size, the GRU throughput shape and a ragged batch); the
     * batch-1 shapes, which read every weight at every step, also with f16 weights; the throughput shape also
     * with ragged lengths.
     */
    public static Grid standard() {
        return new Grid(List.of(
                new Case("lab", Shape.rnn(5, 4, 128, 64, 1, false)),
                new Case("mid", Shape.rnn(25, 16, 128, 128, 1, false)),
                new Case("relu", Shape.rnn(50, 32, 128, 256, 1, false).withMode(CellType.RNN_RELU)),
                new Case("throughput", Shape.rnn(100, 64, 256, 256, 2, true)),
                new Case("batch-1 latency", Shape.rnn(200, 1, 128, 512, 1, false), true),
                new Case("large hidden", Shape.rnn(50, 32, 512, 1024, 1, false)),
                new Case("lstm lab", Shape.rnn(5, 4, 128, 64, 1, false).withMode(CellType.LSTM)),
                new Case("lstm mid", Shape.rnn(30, 8, 64, 128, 1, false).withMode(CellType.LSTM)),
                new Case("lstm throughput", Shape.rnn(100, 64, 256, 256, 2, true).withMode(CellType.LSTM)),
                new Case("lstm batch-1", Shape.rnn(200, 1, 128, 512, 1, false).withMode(CellType.LSTM), true),
                new Case("lstm proj", new Shape(CellType.LSTM, 50, 32, 512, 1024, 1, false, 256, false)),
                new Case("gru lab", Shape.rnn(5, 4, 128, 64, 1, false).withMode(CellType.GRU)),
                new Case("gru throughput", Shape.rnn(100, 64, 256, 256, 2, true).withMode(CellType.GRU)),
                new Case("gru batch-1", Shape.rnn(200, 1, 128, 512, 1, false).withMode(CellType.GRU)),
                new Case("gru wide", Shape.rnn(50, 32, 512, 512, 1, true).withMode(CellType.GRU)),
                new Case("ragged throughput", Shape.rnn(100, 64, 256, 256, 2, true).withRagged(true))));
    }

    /**
     * Parses shapes written as {@link Shape#label()} writes them, separated by {@code ;}, e.g.
     * {@code "T5 B4 I8 H8; T3 B2 I4 H4 L2 bi relu"}; each is named by its label. A word {@code f16} in a shape
     * times it with f16 weights too.
     */
    public static Grid parse(String text) {
        List<Case> cases = new ArrayList<>();
        for (String part : text.split(";")) {
            if (!part.isBlank()) {
                List<String> words = new ArrayList<>(List.of(part.trim().split("\\s+")));
                boolean f16 = words.removeIf(w -> w.equalsIgnoreCase("f16"));
                Shape shape = parseShape(String.join(" ", words));
                cases.add(new Case(shape.label(), shape, f16));
            }
        }
        if (cases.isEmpty()) {
            throw new InvalidInputException("no shapes in '" + text + "'");
        }
        return new Grid(List.copyOf(cases));
    }

    static Shape parseShape(String label) {
        int[] sizes = {0, 0, 0, 0, 1, 0}; // T B I H L P
        boolean bidirectional = false;
        boolean ragged = false;
        CellType mode = CellType.RNN_TANH;
        for (String token : label.toLowerCase(Locale.ROOT).split("\\s+")) {
            int slot = "tbihlp".indexOf(token.charAt(0));
            switch (token) {
                case "bi" -> bidirectional = true;
                case "ragged" -> ragged = true;
                case "tanh", "rnn" -> mode = CellType.RNN_TANH;
                case "relu" -> mode = CellType.RNN_RELU;
                case "lstm" -> mode = CellType.LSTM;
                case "gru" -> mode = CellType.GRU;
                default -> {
                    if (slot >= 0 && token.length() > 1 && token.length() < 10
                            && token.substring(1).chars().allMatch(Character::isDigit)) {
                        sizes[slot] = Integer.parseInt(token.substring(1));
                    } else {
                        throw new InvalidInputException("bad token '" + token + "' in shape '" + label
                                + "' (expected e.g. 'LSTM T5 B4 I8 H8 L2 bi P4 ragged' or 'T5 B4 I8 H8 relu')");
                    }
                }
            }
        }
        if (sizes[0] < 1 || sizes[1] < 1 || sizes[2] < 1 || sizes[3] < 1 || sizes[4] < 1) {
            throw new InvalidInputException("shape '" + label + "' needs positive T, B, I and H");
        }
        Shape shape = new Shape(mode, sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], bidirectional, sizes[5], ragged);
        shape.config(); // validates the sizes the way the module does
        return shape;
    }
}
