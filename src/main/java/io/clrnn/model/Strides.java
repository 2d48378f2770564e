package io.clrnn.model;

/**
 * Where the caller's arrays keep each row, in floats: row (t, b) of x starts at {@code t*xT + b*xB},
 * the output of direction d for (t, b) at {@code t*outT + b*outB + d*outD}, and state (s, b) of h_0,
 * h_n, c_0 and c_n at {@code (s*stateS + b*stateB) * width}. PyTorch's layouts and ONNX's alike.
 */
public record Strides(long xT, long xB, long outT, long outB, long outD, long stateS, long stateB) {

    /**
     * torch.nn's: (seq, batch, ·), or (batch, seq, ·) when {@code batchFirst}; states (layers*D, batch, ·); a row
     * of out holds every direction's H_out side by side.
     */
    static Strides pytorch(RnnConfig config, int seqLen, int batch, boolean batchFirst) {
        long t = seqLen;
        long b = batch;
        long in = config.inputSize();
        long width = config.outputSize();
        long out = config.numDirections() * width;
        return batchFirst ? new Strides(in, t * in, out, t * out, width, b, 1)
                : new Strides(b * in, in, b * out, out, width, b, 1);
    }

    /**
     * ONNX's, as an RNN, GRU or LSTM node has them: time-major, X (seq, batch, ·), Y (seq, D, batch, H_out) and
     * states (layers*D, batch, ·); or batch-major (layout 1), X (batch, seq, ·), Y (batch, seq, D, H_out) and states
     * (batch, layers*D, ·).
     */
    static Strides onnx(RnnConfig config, int seqLen, int batch, boolean batchMajor) {
        long t = seqLen;
        long b = batch;
        long d = config.numDirections();
        long slots = config.numLayers() * d;
        long in = config.inputSize();
        long h = config.outputSize();
        return batchMajor ? new Strides(in, t * in, d * h, t * d * h, h, 1, slots)
                : new Strides(b * in, in, d * b * h, h, b * h, b, 1);
    }
}
