package io.clrnn.serve;

import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.RnnOptions;
import io.clrnn.base.RnnOutput;
import io.clrnn.RnnState;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.model.RnnConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A recurrent module from a state_dict, served batch-first: input {@code input} (batch, seq, input_size) and
 * optionally {@code lengths} (batch); outputs {@code output} (batch, seq, D*H_out), {@code h_n} (layers*D, batch,
 * H_out) and an LSTM's {@code c_n}. Concurrent requests of any lengths run as one forward with each sequence's length
 * (the engine packs them: no work on padding). A request continuing a sequence (one sequence, batch 1) runs from
 * that sequence's state, kept on the device in one row of a state shared by all open sequences, so that concurrent
 * sequences' steps run as one forward too (the rows with nothing to do sit it out).
 */
final class RecurrentModel implements ServedModel {
    private final String name;
    private final Rnn rnn;
    private final RnnConfig config;
    private final Batcher<Request, Map<String, Output>> batcher;
    private final Metrics metrics;
    private final Sequences sequences;
    /** The open sequences' states, one row each; made at the first sequence request. */
    private RnnState slab;

    RecurrentModel(String name, Device device, Path file, RnnOptions options, ServerOptions server, Metrics metrics)
            throws IOException {
        this.name = name;
        this.rnn = Rnn.load(device, file, options.batchFirst(true));
        this.config = rnn.config();
        this.metrics = metrics;
        this.sequences = new Sequences(name, server.maxSequences(), server.sequenceIdleNanos(), metrics, id -> { });
        this.batcher = new Batcher<>(name, server.maxBatchSize(), server.maxQueueDelayNanos(), server.maxQueue(),
                this::run, metrics);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String platform() {
        return "clrnn_state_dict";
    }

    @Override
    public List<Spec> inputs() {
        return List.of(new Spec("input", "FP32", new long[] {-1, -1, config.inputSize()}),
                new Spec("lengths", "INT64", new long[] {-1}));
    }

    @Override
    public List<Spec> outputs() {
        long states = (long) config.numLayers() * config.numDirections();
        List<Spec> out = new ArrayList<>(List.of(
                new Spec("output", "FP32", new long[] {-1, -1, (long) config.numDirections() * config.outputSize()}),
                new Spec("h_n", "FP32", new long[] {states, -1, config.outputSize()})));
        if (config.mode().hasCellState()) {
            out.add(new Spec("c_n", "FP32", new long[] {states, -1, config.hiddenSize()}));
        }
        return out;
    }

    @Override
    public CompletableFuture<Map<String, Output>> infer(Request request) {
        Set<String> known = Set.of("input", "lengths");
        for (String in : request.inputs().keySet()) {
            if (!known.contains(in)) {
                throw new BadRequest("model '" + name + "' has no input '" + in + "'; its inputs are input and lengths");
            }
        }
        Tensors.Input x = request.inputs().get("input");
        if (x == null) {
            throw new BadRequest("model '" + name + "' needs input 'input' (batch, seq, " + config.inputSize() + ")");
        }
        if (x.floats() == null || x.shape().length != 3 || x.shape()[2] != config.inputSize()) {
            throw new BadRequest("input 'input' of model '" + name + "' is " + x.datatype() + " "
                    + java.util.Arrays.toString(x.shape()) + "; it takes FP32 (batch, seq, " + config.inputSize() + ")");
        }
        int batch = x.shape()[0];
        int seq = x.shape()[1];
        if (batch == 0 || seq == 0) {
            throw new BadRequest("input 'input' of model '" + name + "' is empty: " + java.util.Arrays.toString(x.shape()));
        }
        Tensors.Input lengths = request.inputs().get("lengths");
        if (lengths != null) {
            if (lengths.ints() == null || lengths.shape().length != 1 || lengths.shape()[0] != batch) {
                throw new BadRequest("input 'lengths' of model '" + name + "' is " + lengths.datatype() + " "
                        + java.util.Arrays.toString(lengths.shape()) + "; it takes INT64 [" + batch + "]");
            }
            for (long len : lengths.ints()) {
                if (len < 1 || len > seq) {
                    throw new BadRequest("input 'lengths' holds " + len + "; each length is 1.." + seq);
                }
            }
        }
        if (request.sequence() != null) {
            if (batch != 1) {
                throw new BadRequest("a request of sequence " + request.sequence().id() + " holds one sequence: "
                        + "input shape [1, seq, " + config.inputSize() + "], not " + java.util.Arrays.toString(x.shape()));
            }
            sequences.admit(request.sequence());
        }
        return batcher.submit(request, batch);
    }

    /** One batch: the plain requests as one forward, then the sequences' steps, as few forwards as they allow. */
    private void run(List<Batcher.Pending<Request, Map<String, Output>>> batch) {
        List<Batcher.Pending<Request, Map<String, Output>>> plain = new ArrayList<>();
        ArrayDeque<Batcher.Pending<Request, Map<String, Output>>> steps = new ArrayDeque<>();
        for (var p : batch) {
            (p.request.sequence() == null ? plain : steps).add(p);
        }
        if (!plain.isEmpty()) {
            runPlain(plain);
        }
        while (!steps.isEmpty()) {
            // one step per sequence per forward: a sequence's next request waits for the one before it
            List<Batcher.Pending<Request, Map<String, Output>>> now = new ArrayList<>();
            List<Batcher.Pending<Request, Map<String, Output>>> later = new ArrayList<>();
            Set<String> taken = new HashSet<>();
            for (var p : steps) {
                (taken.add(p.request.sequence().id()) ? now : later).add(p);
            }
            steps.clear();
            steps.addAll(later);
            runSteps(now);
        }
    }

    private void runPlain(List<Batcher.Pending<Request, Map<String, Output>>> plain) {
        int rows = 0;
        int seq = 0;
        for (var p : plain) {
            rows += p.rows;
            seq = Math.max(seq, p.request.inputs().get("input").shape()[1]);
        }
        int in = config.inputSize();
        float[] x = new float[rows * seq * in];
        int[] lengths = new int[rows];
        int row = 0;
        for (var p : plain) {
            Tensors.Input t = p.request.inputs().get("input");
            int len = t.shape()[1];
            Tensors.Input l = p.request.inputs().get("lengths");
            for (int b = 0; b < p.rows; b++, row++) {
                System.arraycopy(t.floats(), b * len * in, x, row * seq * in, len * in);
                lengths[row] = l == null ? len : (int) l.ints()[b];
            }
        }
        long start = System.nanoTime();
        RnnOutput y;
        try {
            y = rnn.forward(RnnInput.of(Tensor.of(x, rows, seq, in)).lengths(lengths));
        } catch (RuntimeException e) {
            plain.forEach(p -> p.answer.completeExceptionally(e));
            return;
        }
        metrics.ran(name, (System.nanoTime() - start) / 1e9);
        row = 0;
        for (var p : plain) {
            int len = p.request.inputs().get("input").shape()[1];
            p.answer.complete(slice(y, row, p.rows, seq, len));
            row += p.rows;
        }
    }

    /** Rows {@code [from, from + count)} of a batched result, cut to {@code len} steps. */
    private Map<String, Output> slice(RnnOutput y, int from, int count, int seq, int len) {
        int width = y.output().size(2);
        float[] out = new float[count * len * width];
        for (int b = 0; b < count; b++) {
            System.arraycopy(y.output().data(), ((from + b) * seq) * width, out, b * len * width, len * width);
        }
        Map<String, Output> result = new LinkedHashMap<>();
        result.put("output", new Output(new int[] {count, len, width}, out));
        result.put("h_n", states(y.hidden(), from, count));
        if (y.cell() != null) {
            result.put("c_n", states(y.cell(), from, count));
        }
        return result;
    }

    /** Batch rows {@code [from, from + count)} of states (S, B, W). */
    private static Output states(Tensor t, int from, int count) {
        int slots = t.size(0);
        int batch = t.size(1);
        int width = t.size(2);
        float[] out = new float[slots * count * width];
        for (int s = 0; s < slots; s++) {
            System.arraycopy(t.data(), (s * batch + from) * width, out, s * count * width, count * width);
        }
        return new Output(new int[] {slots, count, width}, out);
    }

    /** One forward of the given sequences' next steps, each in its own row of the shared state. */
    private void runSteps(List<Batcher.Pending<Request, Map<String, Output>>> steps) {
        int capacity = sequences.capacity();
        int in = config.inputSize();
        int seq = 0;
        Map<Batcher.Pending<Request, Map<String, Output>>, Integer> rows = new HashMap<>();
        List<Batcher.Pending<Request, Map<String, Output>>> running = new ArrayList<>();
        for (var p : steps) {
            try {
                rows.put(p, sequences.rowFor(p.request.sequence(), this::resetRow));
                running.add(p);
                seq = Math.max(seq, p.request.inputs().get("input").shape()[1]);
            } catch (BadRequest e) {
                p.answer.completeExceptionally(e);
            }
        }
        if (running.isEmpty()) {
            return;
        }
        float[] x = new float[capacity * seq * in];
        int[] lengths = new int[capacity];
        for (var p : running) {
            Tensors.Input t = p.request.inputs().get("input");
            int row = rows.get(p);
            int len = t.shape()[1];
            System.arraycopy(t.floats(), 0, x, row * seq * in, len * in);
            Tensors.Input l = p.request.inputs().get("lengths");
            lengths[row] = l == null ? len : (int) l.ints()[0];
        }
        long start = System.nanoTime();
        Tensor out;
        Tensor h;
        Tensor c;
        try {
            out = rnn.forward(RnnInput.of(Tensor.of(x, capacity, seq, in)).lengths(lengths), slab());
            h = slab().hidden();
            c = slab().cell();
        } catch (RuntimeException e) {
            running.forEach(p -> p.answer.completeExceptionally(e));
            return;
        }
        metrics.ran(name, (System.nanoTime() - start) / 1e9);
        RnnOutput y = new RnnOutput(out, h, c);
        for (var p : running) {
            int len = p.request.inputs().get("input").shape()[1];
            p.answer.complete(slice(y, rows.get(p), 1, seq, len));
            if (p.request.sequence().end()) {
                sequences.end(p.request.sequence().id());
            }
        }
    }

    private RnnState slab() {
        if (slab == null) {
            slab = rnn.newState(sequences.capacity());
        }
        return slab;
    }

    private void resetRow(int row) {
        slab().reset(row);
    }

    @Override
    public void close() {
        batcher.close();
        sequences.close();
        if (slab != null) {
            slab.close();
        }
        rnn.close();
    }
}
