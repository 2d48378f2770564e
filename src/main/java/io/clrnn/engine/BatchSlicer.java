package io.clrnn.engine;

import io.clrnn.model.ForwardShape;
import io.clrnn.model.RnnConfig;

/**
 * Copies a slice of the batch out of, and back into, whole-batch arrays in either row order, for
 * forwards too large to run as one batch on the device.
 */
final class BatchSlicer {
    private final ForwardShape whole;
    private final int states;
    private final int hidden;

    BatchSlicer(ForwardShape whole, RnnConfig config) {
        this.whole = whole;
        this.states = config.numLayers() * config.numDirections();
        this.hidden = config.hiddenSize();
    }

    /** Rows (t, b0..b0+n) of a (rows, width) array, in the same row order for n sequences. */
    float[] rows(float[] all, int width, int b0, int n) {
        ForwardShape part = new ForwardShape(whole.config(), whole.seqLen(), n, false);
        float[] slice = new float[whole.seqLen() * n * width];
        for (int t = 0; t < whole.seqLen(); t++) {
            for (int b = 0; b < n; b++) {
                System.arraycopy(all, whole.row(t, b0 + b) * width, slice, part.row(t, b) * width, width);
            }
        }
        return slice;
    }

    void putRows(float[] slice, float[] all, int width, int b0, int n) {
        ForwardShape part = new ForwardShape(whole.config(), whole.seqLen(), n, false);
        for (int t = 0; t < whole.seqLen(); t++) {
            for (int b = 0; b < n; b++) {
                System.arraycopy(slice, part.row(t, b) * width, all, whole.row(t, b0 + b) * width, width);
            }
        }
    }

    /** h_0 or h_n entries (state, b0..b0+n, hidden). */
    float[] states(float[] all, int b0, int n) {
        float[] slice = new float[states * n * hidden];
        for (int s = 0; s < states; s++) {
            System.arraycopy(all, (s * whole.batch() + b0) * hidden, slice, s * n * hidden, n * hidden);
        }
        return slice;
    }

    void putStates(float[] slice, float[] all, int b0, int n) {
        for (int s = 0; s < states; s++) {
            System.arraycopy(slice, s * n * hidden, all, (s * whole.batch() + b0) * hidden, n * hidden);
        }
    }
}
