package io.clrnn.bench;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.model.RnnConfig;
import java.util.Locale;

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

    /** Short label, e.g. {@code T100 B64 I256 H256 L2 bi}. */
    public String label() {
        return String.format(Locale.ROOT, "T%d B%d I%d H%d%s%s%s", seqLen, batch, inputSize, hiddenSize,
                layers > 1 ? " L" + layers : "", bidirectional ? " bi" : "",
                nonlinearity == Nonlinearity.RELU ? " relu" : "");
    }
}
