package io.clrnn.bench;

import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * One benchmark case: the module and the input it runs on (time-major).
 *
 * @param projSize LSTM's proj_size, 0 for none
 * @param ragged   sequence lengths drawn uniformly from 1..seqLen (seeded) instead of all seqLen
 */
public record Shape(CellType mode, int seqLen, int batch, int inputSize, int hiddenSize, int layers,
        boolean bidirectional, int projSize, boolean ragged) {

    /** An Elman RNN (tanh) of these sizes, every sequence full length. */
    public static Shape rnn(int seqLen, int batch, int inputSize, int hiddenSize, int layers, boolean bidirectional) {
        return new Shape(CellType.RNN_TANH, seqLen, batch, inputSize, hiddenSize, layers, bidirectional, 0, false);
    }

    public Shape withMode(CellType value) {
        return new Shape(value, seqLen, batch, inputSize, hiddenSize, layers, bidirectional, projSize, ragged);
    }

    public Shape withRagged(boolean value) {
        return new Shape(mode, seqLen, batch, inputSize, hiddenSize, layers, bidirectional, projSize, value);
    }

    public RnnConfig config() {
        return RnnConfig.of(mode, inputSize, hiddenSize).withLayers(layers).withBidirectional(bidirectional)
                .withProjSize(projSize);
    }

    /** The sequence lengths of this case (null when every sequence is full), seeded. */
    public int[] lengths(long seed) {
        if (!ragged) {
            return null;
        }
        SplittableRandom random = new SplittableRandom(seed);
        return IntStream.range(0, batch).map(b -> 1 + random.nextInt(seqLen)).toArray();
    }

    /** FLOPs of one forward: the lengths' steps only when ragged. */
    public double flops(int[] lengths) {
        if (lengths == null) {
            return config().flops(seqLen, batch);
        }
        long steps = IntStream.of(lengths).asLongStream().sum();
        return config().flops(1, 1) * steps;
    }

    public double flops() {
        return flops(lengths(Benchmark.LENGTHS_SEED));
    }

    /** One float32 matrix product (M,K)x(K,N). */
    public record Gemm(int m, int n, int k) {
        public double flops() {
            return 2.0 * m * n * k;
        }

        @Override
        public String toString() {
            return m + "x" + n + "x" + k;
        }
    }

    /**
     * The input projections clrnn runs, one per layer: all T*B rows at once (the packed rows, the sum of
     * the lengths, when ragged), every gate of both directions side by side in N, so M = T*B, N = D*G*H and
     * K = the layer's input width.
     */
    public List<Gemm> projectionGemms() {
        RnnConfig c = config();
        int[] lengths = lengths(Benchmark.LENGTHS_SEED);
        int m = lengths == null ? seqLen * batch : IntStream.of(lengths).sum();
        return IntStream.range(0, layers)
                .mapToObj(l -> new Gemm(m, c.numDirections() * c.gates() * hiddenSize, c.layerInputSize(l)))
                .toList();
    }

    /** Short label, e.g. {@code LSTM T100 B64 I256 H256 L2 bi P128 ragged}; a tanh RNN has no mode word. */
    public String label() {
        List<String> parts = new ArrayList<>();
        if (mode != CellType.RNN_TANH && mode != CellType.RNN_RELU) {
            parts.add(mode.moduleName());
        }
        parts.add(String.format(Locale.ROOT, "T%d B%d I%d H%d", seqLen, batch, inputSize, hiddenSize));
        if (layers > 1) {
            parts.add("L" + layers);
        }
        if (bidirectional) {
            parts.add("bi");
        }
        if (projSize > 0) {
            parts.add("P" + projSize);
        }
        if (mode == CellType.RNN_RELU) {
            parts.add("relu");
        }
        if (ragged) {
            parts.add("ragged");
        }
        return String.join(" ", parts);
    }
}
