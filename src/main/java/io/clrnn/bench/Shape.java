package io.clrnn.bench;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.model.RnnConfig;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/** One benchmark case: the module and the input it runs on (time-major). */
public record Shape(int seqLen, int batch, int inputSize, int hiddenSize, int layers, boolean bidirectional,
        Nonlinearity nonlinearity) {

    public RnnConfig config() {
        return new RnnConfig(inputSize, hiddenSize, layers, true, bidirectional,
                RnnOptions.defaults().nonlinearity(nonlinearity));
    }

    public double flops() {
        return config().flops(seqLen, batch);
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
     * The input projections clrnn runs, one per layer: all T*B rows at once, both directions side by
     * side in N, so M = T*B, N = D*H and K = the layer's input width.
     */
    public List<Gemm> projectionGemms() {
        RnnConfig c = config();
        return IntStream.range(0, layers)
                .mapToObj(l -> new Gemm(seqLen * batch, c.numDirections() * hiddenSize, c.layerInputSize(l)))
                .toList();
    }

    /** Short label, e.g. {@code T100 B64 I256 H256 L2 bi}. */
    public String label() {
        return String.format(Locale.ROOT, "T%d B%d I%d H%d%s%s%s", seqLen, batch, inputSize, hiddenSize,
                layers > 1 ? " L" + layers : "", bidirectional ? " bi" : "",
                nonlinearity == Nonlinearity.RELU ? " relu" : "");
    }
}
