package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.engine.StateBuffers;

/**
 * The recurrent state of a batch of streams, kept on the device between forwards ({@link Rnn#newState}): each
 * {@link Rnn#forward(Tensor, RnnState)} continues every stream from it and leaves the final states in it,
 * without a round trip through the host. Feeding a sequence chunk by chunk gives what feeding it whole gives.
 * Read it ({@link #hidden}, {@link #cell}) only when needed: each read waits for the forwards before it.
 * Safe to share between threads as its module is: calls on either run one at a time.
 */
public final class RnnState implements AutoCloseable {
    private final Rnn owner;
    private StateBuffers buffers;

    RnnState(Rnn owner, StateBuffers buffers) {
        this.owner = owner;
        this.buffers = buffers;
    }

    /** The number of streams (batch rows). */
    public int batch() {
        synchronized (owner) {
            return open().batch();
        }
    }

    /** h of every stream, (num_layers*D, batch, proj_size or hidden_size): what h_n would be. */
    public Tensor hidden() {
        synchronized (owner) {
            return open().hidden();
        }
    }

    /** An LSTM's c, (num_layers*D, batch, hidden_size); null for an RNN or GRU. */
    public Tensor cell() {
        synchronized (owner) {
            return open().cell();
        }
    }

    /** An independent state holding these values now: a branch of every stream (beam search, say). */
    public RnnState copy() {
        synchronized (owner) {
            return new RnnState(owner, open().copy());
        }
    }

    /** Every stream back to zeros, as a new state. */
    public void reset() {
        synchronized (owner) {
            open().reset();
        }
    }

    /** Stream {@code row} back to zeros (a new sequence starts there); the others carry on. */
    public void reset(int row) {
        synchronized (owner) {
            StateBuffers b = open();
            if (row < 0 || row >= b.batch()) {
                throw new InvalidInputException("row " + row + " is not a stream of this state: it holds "
                        + b.batch() + " (rows 0.." + (b.batch() - 1) + ")");
            }
            b.reset(row);
        }
    }

    /** The device buffers, for its module; refused once closed. */
    StateBuffers buffers(Rnn module) {
        if (module != owner) {
            throw new InvalidInputException("this state belongs to another module (" + owner + "); make one with "
                    + "this module's newState");
        }
        return open();
    }

    private StateBuffers open() {
        if (buffers == null) {
            throw new IllegalStateException("this state is closed");
        }
        return buffers;
    }

    /** Frees its device memory; closing twice does nothing. */
    @Override
    public void close() {
        synchronized (owner) {
            if (buffers != null) {
                buffers.close();
                buffers = null;
            }
        }
    }
}
