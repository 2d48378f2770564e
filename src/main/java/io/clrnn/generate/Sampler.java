package io.clrnn.generate;

import io.clrnn.base.InvalidInputException;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a step's logits: greedy ({@code topK} 1: the first largest logit, as torch.argmax), or
 * drawn from the softmax of logits / temperature, kept to the {@code topK} likeliest (0: all) and then to the
 * smallest set whose probability reaches {@code topP} (1: all). Draws come from one seeded generator, so a seed gives
 * the same text again. Not thread-safe.
 */
public final class Sampler {
    private final double temperature;
    private final int topK;
    private final double topP;
    private final SplittableRandom random;

    public Sampler(double temperature, int topK, double topP, long seed) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new InvalidInputException("temperature must be a positive number, not " + temperature
                    + " (--top-k 1 is greedy)");
        }
        if (topK < 0) {
            throw new InvalidInputException("top-k must be 0 (all tokens) or more, not " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidInputException("top-p must be in (0, 1], not " + topP);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /** Greedy decoding: always the likeliest token. */
    public static Sampler greedy() {
        return new Sampler(1, 1, 1, 0);
    }

    /** The token drawn from {@code logits[from .. from + width)}. */
    public int next(float[] logits, int from, int width) {
        if (topK == 1) {
            return argmax(logits, from, width);
        }
        Integer[] order = new Integer[width];
        for (int i = 0; i < width; i++) {
            order[i] = i;
        }
        // likeliest first; NaN last; ties by id, so the draw does not depend on the sort's stability
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(key(logits[from + b]), key(logits[from + a]));
            return c != 0 ? c : Integer.compare(a, b);
        });
        int keep = topK == 0 ? width : Math.min(topK, width);
        double max = logits[from + order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[from + order[i]] - max) / temperature);
            sum += p[i];
        }
        if (!(sum > 0) || Double.isNaN(max)) {
            return order[0]; // logits that are not numbers: nothing to draw from
        }
        if (topP < 1) {
            double reached = 0;
            int n = 0;
            while (n < keep && reached < topP * sum) {
                reached += p[n++];
            }
            keep = Math.max(1, n);
            sum = reached;
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    private static float key(float v) {
        return Float.isNaN(v) ? Float.NEGATIVE_INFINITY : v;
    }

    private static int argmax(float[] logits, int from, int width) {
        int best = 0;
        for (int i = 1; i < width; i++) {
            // NaN wins, as in torch.argmax
            if (logits[from + i] > logits[from + best] || Float.isNaN(logits[from + i]) && !Float.isNaN(logits[from + best])) {
                best = i;
            }
        }
        return best;
    }
}
