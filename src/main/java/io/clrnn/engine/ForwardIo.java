package io.clrnn.engine;

/**
 * Where a {@link io.clrnn.model.Forward}'s results go: into the caller's arrays ({@link HostIo}), or into device
 * buffers, X read from one too ({@link DeviceIo}); and, for a stream's next steps, the states the device keeps.
 */
public sealed interface ForwardIo permits HostIo, DeviceIo {
    /**
     * A stream's states: the initial ones come from it (the forward's h_0 and c_0 are not read) and the final ones go
     * back into it; null for a plain forward.
     */
    StateBuffers state();
}
