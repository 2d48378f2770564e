package io.clrnn.onnx;

import io.clrnn.InvalidInputException;
import io.clrnn.Tensor;
import io.clrnn.device.Device;
import io.clrnn.engine.RnnEngine;
import io.clrnn.format.FormatException;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.OnnxModel.Port;
import io.clrnn.onnx.OnnxModel.Role;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link OnnxModel} on one OpenCL device: one engine per recurrent node, made when the session opens
 * (or, for a node whose weights are graph inputs, at the first run and again only when they change), kept
 * for every run. Safe to share between threads: runs go one at a time. Closing it frees its device memory;
 * the device stays open.
 */
public final class OnnxSession implements AutoCloseable {
    private final OnnxModel model;
    private final Device device;
    private final Map<Recurrent, Slot> engines = new HashMap<>();
    private boolean closed;

    /** An engine and, for weights given at run time, the W, R, B and P it was made from. */
    private record Slot(RnnEngine engine, Value[] source) {}

    OnnxSession(OnnxModel model, Device device) {
        this.model = model;
        this.device = device;
        try {
            model.fixedWeights.forEach((r, w) -> engines.put(r, new Slot(new RnnEngine(device, w), null)));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public OnnxModel model() {
        return model;
    }

    public Device device() {
        return device;
    }

    /** Runs the graph on float inputs by name; returns every graph output by name, in the model's order. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        return run(inputs, Map.of());
    }

    /**
     * Runs the graph on float inputs and integer inputs (a recurrent node's sequence_lens, say) by name. Every
     * graph input must be given, in the element kind and the shape the model declares (symbolic dims take any
     * size). Returns every graph output by name, in the model's order; an integer output comes back as floats.
     */
    public synchronized Map<String, Tensor> run(Map<String, Tensor> inputs, Map<String, IntTensor> intInputs) {
        if (closed) {
            throw new IllegalStateException("this ONNX session is closed");
        }
        Map<String, Value> values = new HashMap<>(model.constants);
        feed(values, inputs, intInputs);
        for (Node n : model.program) {
            Value[] in = new Value[n.inputs.size()];
            for (int i = 0; i < in.length; i++) {
                in[i] = n.inputs.get(i).isEmpty() ? null : values.get(n.inputs.get(i));
            }
            Recurrent r = model.recurrent.get(n);
            if (r != null) {
                Value[] out = r.forward(engine(r, in), in[0], arg(in, 4), arg(in, 5), arg(in, 6));
                for (int i = 0; i < n.outputs.size(); i++) {
                    if (!n.outputs.get(i).isEmpty()) {
                        values.put(n.outputs.get(i), out[i]);
                    }
                }
            } else {
                values.put(n.output(0), Glue.run(n, in, model.opset, model.dir, model.file));
            }
        }
        Map<String, Tensor> result = new LinkedHashMap<>();
        for (Port p : model.outputs()) {
            result.put(p.name(), Value.toFloats(values.get(p.name())));
        }
        return result;
    }

    private static Value arg(Value[] in, int i) {
        return i < in.length ? in[i] : null;
    }

    private void feed(Map<String, Value> values, Map<String, Tensor> floats, Map<String, IntTensor> ints) {
        Map<String, Value> given = new LinkedHashMap<>();
        floats.forEach((name, t) -> given.put(name, t == null ? null : Value.of(t)));
        ints.forEach((name, t) -> {
            if (given.put(name, t == null ? null : Value.of(t)) != null) {
                throw new InvalidInputException("input " + FormatException.quote(name) + " is given twice, as floats and as ints");
            }
        });
        List<String> names = model.inputs().stream().map(Port::name).toList();
        for (Map.Entry<String, Value> e : given.entrySet()) {
            String name = e.getKey();
            if (!model.inputTypes.containsKey(name)) {
                throw new InvalidInputException(model.file + " has no input " + FormatException.quote(name)
                        + (model.constants.containsKey(name) ? " (it is an initializer, part of the model)" : "")
                        + "; its inputs are " + names.stream().map(FormatException::quote).toList());
            }
            if (e.getValue() == null) {
                throw new InvalidInputException("input " + FormatException.quote(name) + " is null");
            }
            check(name, e.getValue());
            values.put(name, e.getValue());
        }
        for (Port p : model.inputs()) {
            if (!given.containsKey(p.name())) {
                throw new InvalidInputException(model.file + " needs input " + FormatException.quote(p.name()) + " (" + p.type()
                        + " " + p.shape() + (p.roles().isEmpty() ? "" : ", " + p.roles().stream()
                        .map(Role::onnxName).toList()) + ")");
            }
        }
    }

    private void check(String name, Value v) {
        ElemType type = ElemType.of(model.inputTypes.get(name).getElemType());
        if (type.isFloat() != (v instanceof Value.Floats)) {
            throw new InvalidInputException("input " + FormatException.quote(name) + " is " + type.label + " in the model; give "
                    + (type.isFloat() ? "a float Tensor" : "an IntTensor") + ", not " + (type.isFloat() ? "integers"
                    : "floats"));
        }
        int[] want = model.declaredDims(name);
        if (want == null) {
            return;
        }
        int[] got = v.shape();
        boolean fits = want.length == got.length;
        for (int i = 0; fits && i < got.length; i++) {
            fits = want[i] < 0 || want[i] == got[i];
        }
        if (!fits) {
            throw new InvalidInputException("input " + FormatException.quote(name) + " has shape " + Tensor.format(got)
                    + "; the model takes " + OnnxModel.format(want) + (Arrays.stream(want).allMatch(d -> d >= 0)
                    ? " (exported with fixed sizes: torch.onnx.export's dynamic_axes lets them vary)" : ""));
        }
    }

    /** The node's engine: made at open for constant weights, else made now and kept while the weights stay the same. */
    private RnnEngine engine(Recurrent r, Value[] in) {
        Slot slot = engines.get(r);
        if (slot != null && slot.source == null) {
            return slot.engine;
        }
        Value[] source = {in[1], in[2], arg(in, 3), arg(in, 7)};
        if (slot != null && sameValues(slot.source, source)) {
            return slot.engine;
        }
        RnnWeights w = r.weights(source[0], source[1], source[2], source[3]);
        if (slot != null) {
            engines.remove(r);
            slot.engine.close();
        }
        RnnEngine engine = new RnnEngine(device, w);
        engines.put(r, new Slot(engine, copies(source)));
        return engine;
    }

    private static Value[] copies(Value[] values) {
        Value[] out = new Value[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] instanceof Value.Floats f) {
                out[i] = Value.of(Tensor.of(f.tensor().data().clone(), f.shape()));
            } else if (values[i] instanceof Value.Ints t) {
                out[i] = Value.of(IntTensor.of(t.tensor().data().clone(), t.shape()));
            }
        }
        return out;
    }

    private static boolean sameValues(Value[] a, Value[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == null || b[i] == null) {
                if (a[i] != b[i]) {
                    return false;
                }
                continue;
            }
            if (!Arrays.equals(a[i].shape(), b[i].shape()) || !a[i].kind().equals(b[i].kind())) {
                return false;
            }
            boolean same = a[i] instanceof Value.Floats fa
                    ? Arrays.equals(fa.tensor().data(), ((Value.Floats) b[i]).tensor().data())
                    : Arrays.equals(((Value.Ints) a[i]).tensor().data(), ((Value.Ints) b[i]).tensor().data());
            if (!same) {
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void close() {
        closed = true;
        RuntimeException first = null;
        for (Slot s : engines.values()) {
            try {
                s.engine.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        engines.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "OnnxSession(" + model + " on " + device + ")";
    }
}
