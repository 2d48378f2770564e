package io.clrnn;

import io.clrnn.base.Tensor;

/** Cutting a sequence into chunks along its time axis and putting chunks' outputs back, for streaming tests. */
public final class TimeSlices {
    private TimeSlices() {}

    /** Steps [from, to) of x, (seq, batch, ·) or, with batchFirst, (batch, seq, ·). */
    public static Tensor steps(Tensor x, boolean batchFirst, int from, int to) {
        int seq = x.size(batchFirst ? 1 : 0);
        int batch = x.size(batchFirst ? 0 : 1);
        int width = x.size(2);
        int len = to - from;
        float[] out = new float[len * batch * width];
        for (int t = 0; t < len; t++) {
            for (int b = 0; b < batch; b++) {
                int src = batchFirst ? (b * seq + from + t) * width : ((from + t) * batch + b) * width;
                int dst = batchFirst ? (b * len + t) * width : (t * batch + b) * width;
                System.arraycopy(x.data(), src, out, dst, width);
            }
        }
        return batchFirst ? Tensor.of(out, batch, len, width) : Tensor.of(out, len, batch, width);
    }

    /** A chunk's output {@code y} into {@code out} from step {@code from} on. */
    public static void put(Tensor y, Tensor out, boolean batchFirst, int from) {
        int len = y.size(batchFirst ? 1 : 0);
        int seq = out.size(batchFirst ? 1 : 0);
        int batch = out.size(batchFirst ? 0 : 1);
        int width = out.size(2);
        for (int t = 0; t < len; t++) {
            for (int b = 0; b < batch; b++) {
                int src = batchFirst ? (b * len + t) * width : (t * batch + b) * width;
                int dst = batchFirst ? (b * seq + from + t) * width : ((from + t) * batch + b) * width;
                System.arraycopy(y.data(), src, out.data(), dst, width);
            }
        }
    }
}
