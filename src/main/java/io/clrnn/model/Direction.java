package io.clrnn.model;

/** Which way a layer walks time: PyTorch's two (one way, or both); ONNX also runs backwards alone. */
public enum Direction {
    FORWARD, REVERSE, BIDIRECTIONAL;

    public int count() {
        return this == BIDIRECTIONAL ? 2 : 1;
    }

    /** Whether direction {@code d} (0 or 1) walks from the last step to the first. */
    public boolean reverse(int d) {
        return this == REVERSE || d == 1;
    }
}
