package io.clrnn.engine;

import io.clrnn.base.Tensor;

/**
 * A forward's results into the caller's arrays, laid out as its {@link io.clrnn.model.Strides} say: {@code out}
 * must be zero wherever a sequence is padded; {@code hn} and {@code cn} may be null (not read back: a stream's
 * final states stay on the device); {@code cn} is null for a cell without one.
 */
public record HostIo(Tensor out, Tensor hn, Tensor cn, StateBuffers state) implements ForwardIo {}
