package io.clrnn.engine;

import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;

/**
 * A forward from and into device buffers, for a graph whose tensors stay on the device, offsets in floats: X
 * (seq, batch, input_size); Y as ONNX's (seq, D, batch, H_out), or (seq, batch, D, H_out) when
 * {@code yBatchBeforeDirection} (what a graph's Transpose of Y would make next); h_n and c_n as ONNX's Y_h and Y_c
 * (D·layers, batch, ·), each null when not wanted, {@code cn} always for a cell without one. Nothing is read back:
 * X must be ready for commands on {@code order}, the lane the caller's commands go to, and the results are ready
 * for its next ones there ({@link RnnEngine#laneFor} says which lane saves a wait).
 */
public record DeviceIo(ClBuffer x, long xOffset, ClBuffer y, long yOffset, boolean yBatchBeforeDirection,
        ClBuffer hn, long hnOffset, ClBuffer cn, long cnOffset, StateBuffers state, Device.Lane order)
        implements ForwardIo {}
