package io.clrnn.onnx;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.device.Profile;
import io.clrnn.engine.RnnEngine;
import io.clrnn.engine.StateBuffers;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A whole network fed a chunk of steps at a time ({@link OnnxSession#stream}): every recurrent node's final h and c
 * are kept on the device and are where its next chunk starts, whether or not the graph has state inputs and
 * outputs. Feeding a sequence in chunks gives the outputs that feeding it whole gives, chunk by chunk. A graph input
 * feeding a node's initial_h or initial_c is read on the first chunk only (after {@link #reset()}, again), as the
 * state the streams start from. Runs go one at a time with the session's other runs.
 */
public final class OnnxStream implements AutoCloseable {
    private final OnnxSession session;
    private final int batch;
    /** Each recurrent node's state, made at its first chunk. */
    private final Map<Node, StateBuffers> states = new LinkedHashMap<>();
    private boolean closed;

    OnnxStream(OnnxSession session, int batch) {
        this.session = session;
        this.batch = batch;
    }

    /** The number of streams: the batch every chunk has. */
    public int batch() {
        return batch;
    }

    /** The next chunk, float inputs by name; returns every graph output by name, as {@link OnnxSession#run} does. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        return run(inputs, Map.of(), null);
    }

    /**
     * The next chunk, with integer inputs (token ids, a recurrent node's sequence_lens) too. A sequence_lens of 0
     * for a stream means it has no steps this time: its state carries over as it was.
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Map<String, IntTensor> intInputs) {
        return run(inputs, intInputs, null);
    }

    /** {@link #run(Map, Map)}, recording device and host time in {@code profile} (null for none). */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Map<String, IntTensor> intInputs, Profile profile) {
        synchronized (session) {
            open();
            return session.run(inputs, intInputs, profile, this);
        }
    }

    /** Every stream starts again: the next chunk is a first one. */
    public void reset() {
        synchronized (session) {
            open();
            states.values().forEach(StateBuffers::close);
            states.clear();
        }
    }

    /** Stream {@code row} starts again from zeros; the others carry on. */
    public void reset(int row) {
        synchronized (session) {
            open();
            if (row < 0 || row >= batch) {
                throw new InvalidInputException("row " + row + " is not a stream here: it holds "
                        + batch + " (rows 0.." + (batch - 1) + ")");
            }
            states.values().forEach(s -> s.reset(row));
        }
    }

    /**
     * The h of the recurrent node named {@code node} (its ONNX name, or its first output's when it has none),
     * (D, batch, H); null before its first chunk.
     */
    public Tensor hidden(String node) {
        synchronized (session) {
            StateBuffers s = stateOf(node);
            return s == null ? null : s.hidden();
        }
    }

    /** An LSTM node's c, (D, batch, H); null before its first chunk or for another cell. */
    public Tensor cell(String node) {
        synchronized (session) {
            StateBuffers s = stateOf(node);
            return s == null ? null : s.cell();
        }
    }

    private StateBuffers stateOf(String node) {
        open();
        for (Node n : session.model().recurrent.keySet()) {
            if (!node.isEmpty() && (n.name.equals(node) || n.output(0).equals(node))) {
                return states.get(n);
            }
        }
        throw new InvalidInputException("the graph has no recurrent node " + io.clrnn.format.FormatException.quote(node));
    }

    /** Whether the recurrent nodes' states are carried from an earlier chunk (this is not a first one). */
    boolean carries() {
        return !states.isEmpty();
    }

    /**
     * The state node {@code n} starts this chunk from, made at its first: from initial_h and initial_c when the
     * graph gives them, else zeros.
     */
    StateBuffers state(Node n, RnnEngine engine, Value x, Value h0, Value c0) {
        int[] shape = x.shape();
        if (shape.length == 3 && shape[1] != batch) {
            throw n.fail("X has batch " + shape[1] + ", but the stream holds " + batch
                    + (batch == 1 ? " sequence" : " sequences"));
        }
        StateBuffers s = states.get(n);
        if (s != null && !s.config().equals(engine.config())) {
            s.close(); // weights given at run time changed the module's shape: the old state means nothing now
            states.remove(n);
            s = null;
        }
        if (s == null) {
            int h = engine.config().hiddenSize();
            boolean lstm = engine.config().mode().hasCellState();
            Tensor zeros = Tensor.zeros(1, batch, h);
            Tensor h0t = h0 == null ? zeros : start(n, h0, "initial_h", h);
            Tensor c0t = !lstm ? null : c0 == null ? zeros : start(n, c0, "initial_c", h);
            s = StateBuffers.of(session.device(), engine.config(), batch, h0t, c0t);
            states.put(n, s);
        }
        return s;
    }

    private Tensor start(Node n, Value v, String what, int h) {
        Tensor t = Value.toFloats(v);
        if (!java.util.Arrays.equals(t.shape(), new int[] {1, batch, h})) {
            throw n.fail(what + " should have shape [1, " + batch + ", " + h + "], got " + Tensor.format(t.shape()));
        }
        return t;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("this stream is closed");
        }
    }

    /** Frees the states' device memory; the session stays open. */
    @Override
    public void close() {
        synchronized (session) {
            if (!closed) {
                states.values().forEach(StateBuffers::close);
                states.clear();
                closed = true;
            }
        }
    }
}
