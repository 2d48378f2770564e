package io.clrnn.engine;

import io.clrnn.model.ForwardShape;

/**
 * Where the caller's arrays keep each row, in floats: row (t, b) of x starts at {@code t*xT + b*xB},
 * the output of direction d for (t, b) at {@code t*outT + b*outB + d*outD}, and state (s, b) of h_0,
 * h_n, c_0 and c_n at {@code (s*stateS + b*stateB) * width}. PyTorch's layouts and ONNX's alike.
 */
public record IoLayout(long xT, long xB, long outT, long outB, long outD, long stateS, long stateB) {

    /** torch.nn's: (seq, batch, ·), or (batch, seq, ·) with batch_first; states (layers*D, batch, ·). */
    public static IoLayout pytorch(ForwardShape shape) {
        long t = shape.seqLen();
        long b = shape.batch();
        long in = shape.config().inputSize();
        long out = shape.outputWidth();
        long width = shape.config().outputSize();
        return shape.batchFirst() ? new IoLayout(in, t * in, out, t * out, width, b, 1)
                : new IoLayout(b * in, in, b * out, out, width, b, 1);
    }
}
