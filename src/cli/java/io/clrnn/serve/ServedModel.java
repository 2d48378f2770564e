package io.clrnn.serve;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** A model the server answers for: its metadata, and requests queued to its batcher. */
interface ServedModel extends AutoCloseable {
    String name();

    /** What runs it, for the model's metadata: "clrnn_onnx" or "clrnn_state_dict". */
    String platform();

    /** Inputs and outputs: name, datatype and shape, -1 for a dynamic axis. */
    List<Spec> inputs();

    List<Spec> outputs();

    /**
     * Queues a request, checked now (a {@link BadRequest} for a mistake); completes with its outputs by name, in the
     * model's order, or exceptionally (a BadRequest for a mistake found in the run).
     */
    CompletableFuture<Map<String, Output>> infer(Request request);

    @Override
    void close();

    record Spec(String name, String datatype, long[] shape) {}

    record Output(int[] shape, float[] data) {}

    /** One request's inputs by name, and its sequence when it continues one (else null). */
    record Request(Map<String, Tensors.Input> inputs, Sequence sequence) {}

    /** Triton's sequence batcher's parameters: which sequence, and whether this request starts or ends it. */
    record Sequence(String id, boolean start, boolean end) {}
}
