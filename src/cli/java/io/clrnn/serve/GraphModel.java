package io.clrnn.serve;

import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.onnx.IntTensor;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxModel.Port;
import io.clrnn.onnx.OnnxSession;
import io.clrnn.onnx.OnnxStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A whole ONNX network, its inputs and outputs as the graph declares them. Requests run one forward each, in
 * order, on the model's own thread; a request continuing a sequence runs through that sequence's
 * {@link OnnxStream}, every recurrent node's state kept on the device between its requests.
 */
final class GraphModel implements ServedModel {
    private final String name;
    private final OnnxModel model;
    private final OnnxSession session;
    private final Batcher<Request, Map<String, Output>> batcher;
    private final Metrics metrics;
    private final Sequences sequences;
    private final Map<String, OnnxStream> streams = new java.util.concurrent.ConcurrentHashMap<>();

    GraphModel(String name, Device device, Path file, ServerOptions server, Metrics metrics) throws IOException {
        this.name = name;
        this.model = OnnxModel.load(file);
        this.session = model.open(device);
        this.metrics = metrics;
        this.sequences = new Sequences(name, server.maxSequences(), server.sequenceIdleNanos(), metrics, this::drop);
        this.batcher = new Batcher<>(name, 1, 0, server.maxQueue(), this::run, metrics);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String platform() {
        return "clrnn_onnx";
    }

    @Override
    public List<Spec> inputs() {
        return specs(model.inputs());
    }

    @Override
    public List<Spec> outputs() {
        return specs(model.outputs());
    }

    private static List<Spec> specs(List<Port> ports) {
        List<Spec> out = new ArrayList<>();
        for (Port p : ports) {
            long[] shape = p.dims() == null ? new long[] {-1} : p.dims().stream().mapToLong(d -> {
                try {
                    return Long.parseLong(d);
                } catch (NumberFormatException e) {
                    return -1; // a symbolic dimension: dynamic
                }
            }).toArray();
            out.add(new Spec(p.name(), datatype(p), shape));
        }
        return out;
    }

    private static String datatype(Port p) {
        return switch (p.type()) {
            case "float32" -> "FP32";
            case "float16" -> "FP16";
            case "float64" -> "FP64";
            case "int32" -> "INT32";
            case "int64" -> "INT64";
            default -> p.type().toUpperCase(java.util.Locale.ROOT);
        };
    }

    @Override
    public CompletableFuture<Map<String, Output>> infer(Request request) {
        for (String in : request.inputs().keySet()) {
            if (model.inputs().stream().noneMatch(p -> p.name().equals(in))) {
                throw new BadRequest("model '" + name + "' has no input '" + in + "'; its inputs are "
                        + model.inputs().stream().map(Port::name).toList());
            }
        }
        for (Port p : model.inputs()) {
            Tensors.Input t = request.inputs().get(p.name());
            if (t == null) {
                throw new BadRequest("model '" + name + "' needs input '" + p.name() + "' " + p.shape());
            }
            if (p.isFloat() != (t.floats() != null)) {
                throw new BadRequest("input '" + p.name() + "' of model '" + name + "' is " + t.datatype() + "; the "
                        + "graph takes " + datatype(p));
            }
        }
        if (request.sequence() != null) {
            sequences.admit(request.sequence());
        }
        return batcher.submit(request, 1);
    }

    private void run(List<Batcher.Pending<Request, Map<String, Output>>> batch) {
        for (var p : batch) {
            try {
                p.answer.complete(run(p.request));
            } catch (RuntimeException e) {
                p.answer.completeExceptionally(e);
            }
        }
    }

    private Map<String, Output> run(Request request) {
        Map<String, Tensor> floats = new LinkedHashMap<>();
        Map<String, IntTensor> ints = new LinkedHashMap<>();
        request.inputs().forEach((k, t) -> {
            if (t.floats() != null) {
                floats.put(k, Tensor.of(t.floats(), t.shape()));
            } else {
                ints.put(k, IntTensor.of(t.ints(), t.shape()));
            }
        });
        long start = System.nanoTime();
        Map<String, Tensor> out;
        Sequence s = request.sequence();
        if (s == null) {
            out = session.run(floats, ints);
        } else {
            sequences.rowFor(s, row -> {
                OnnxStream old = streams.remove(s.id());
                if (old != null) {
                    old.close();
                }
            });
            OnnxStream stream = streams.get(s.id());
            if (stream == null) {
                stream = session.stream(batchOf(request));
                streams.put(s.id(), stream);
            }
            try {
                out = stream.run(floats, ints);
            } finally {
                if (s.end()) {
                    sequences.end(s.id());
                    streams.remove(s.id()).close();
                }
            }
        }
        metrics.ran(name, (System.nanoTime() - start) / 1e9);
        Map<String, Output> result = new LinkedHashMap<>();
        out.forEach((k, t) -> result.put(k, new Output(t.shape(), t.data())));
        return result;
    }

    /** A sequence dropped for being idle: its stream's device memory goes. */
    private void drop(String id) {
        OnnxStream stream = streams.remove(id);
        if (stream != null) {
            stream.close();
        }
    }

    /**
     * The batch of a sequence's first request: the size of the first input's dimension the graph names like a batch
     * ({@code batch}, as torch.onnx.export's dynamic_axes usually say), else of its first dimension.
     */
    private int batchOf(Request request) {
        Port port = model.inputs().get(0);
        Tensors.Input first = request.inputs().get(port.name());
        int axis = 0;
        if (port.dims() != null) {
            for (int i = 0; i < port.dims().size(); i++) {
                if (port.dims().get(i).toLowerCase(java.util.Locale.ROOT).contains("batch")) {
                    axis = i;
                    break;
                }
            }
        }
        return axis < first.shape().length ? Math.max(1, first.shape()[axis]) : 1;
    }

    @Override
    public void close() {
        batcher.close();
        sequences.close();
        streams.values().forEach(OnnxStream::close);
        session.close();
    }
}
