package io.clrnn.engine;

import io.clrnn.device.ClBuffer;

/**
 * Where a forward on device buffers ({@link RnnEngine#forwardOnDevice}) reads X and writes its results, offsets in
 * floats: X (seq, batch, input_size); Y as ONNX's (seq, D, batch, H_out), or (seq, batch, D, H_out) when
 * {@code yBatchBeforeDirection} (what a graph's Transpose of Y would make next); h_n and c_n as ONNX's Y_h and Y_c
 * (D·layers, batch, ·); {@code cn} null for a cell without one.
 */
public record DeviceIo(ClBuffer x, long xOffset, ClBuffer y, long yOffset, boolean yBatchBeforeDirection,
        ClBuffer hn, long hnOffset, ClBuffer cn, long cnOffset) {}
