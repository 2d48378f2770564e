package io.clrnn.model;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOutput;
import io.clrnn.Tensor;

/**
 * The forward pass written plainly in Java with double accumulation: the second oracle that every
 * OpenCL kernel is tested against. Not a fallback; nothing picks it silently.
 */
public final class ReferenceRnn {
    private ReferenceRnn() {}

    public static RnnOutput forward(RnnWeights weights, Tensor x, Tensor h0) {
        RnnConfig config = weights.config();
        ForwardShape shape = ForwardShape.check(config, x, h0);
        int seqLen = shape.seqLen();
        int batch = shape.batch();
        int hidden = config.hiddenSize();
        int dirs = config.numDirections();
        int width = shape.outputWidth();
        boolean relu = config.nonlinearity() == Nonlinearity.RELU;

        Tensor hn = Tensor.zeros(shape.hiddenShape());
        float[] layerIn = x.data();
        int inWidth = config.inputSize();
        float[] layerOut = null;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            layerOut = new float[seqLen * batch * width];
            for (int d = 0; d < dirs; d++) {
                float[] wih = weights.weightIh(layer, d).data(); // (hidden, inWidth)
                float[] whh = weights.weightHh(layer, d).data(); // (hidden, hidden)
                Tensor bih = weights.bias("ih", layer, d);
                Tensor bhh = weights.bias("hh", layer, d);
                int state = layer * dirs + d;
                for (int b = 0; b < batch; b++) {
                    double[] h = new double[hidden];
                    for (int j = 0; j < hidden; j++) {
                        h[j] = h0 == null ? 0 : h0.data()[(state * batch + b) * hidden + j];
                    }
                    double[] next = new double[hidden];
                    for (int s = 0; s < seqLen; s++) {
                        int t = d == 0 ? s : seqLen - 1 - s;
                        int inRow = shape.row(t, b) * inWidth;
                        for (int j = 0; j < hidden; j++) {
                            double acc = 0;
                            if (bih != null) {
                                acc += bih.data()[j] + (double) bhh.data()[j];
                            }
                            for (int i = 0; i < inWidth; i++) {
                                acc += (double) wih[j * inWidth + i] * layerIn[inRow + i];
                            }
                            for (int k = 0; k < hidden; k++) {
                                acc += (double) whh[j * hidden + k] * h[k];
                            }
                            next[j] = relu ? Math.max(0, acc) : Math.tanh(acc);
                        }
                        double[] swap = h;
                        h = next;
                        next = swap;
                        int outRow = shape.row(t, b) * width + d * hidden;
                        for (int j = 0; j < hidden; j++) {
                            layerOut[outRow + j] = (float) h[j];
                        }
                    }
                    for (int j = 0; j < hidden; j++) {
                        hn.data()[(state * batch + b) * hidden + j] = (float) h[j];
                    }
                }
            }
            layerIn = layerOut;
            inWidth = width;
        }
        return new RnnOutput(Tensor.of(layerOut, shape.outputShape()), hn);
    }
}
