package io.clrnn.format;

import io.clrnn.format.Unpickler.Refusal;
import io.clrnn.format.Unpickler.Tuple;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The globals a torch.save pickle may name, and what the callable ones build. The list is
 * torch.load(weights_only=True)'s, cut to what state_dicts and checkpoints hold: OrderedDict, the
 * tensor and parameter rebuild functions, the storage classes, torch.Size, and the inert values
 * torch.dtype, torch.device and bytes. Names map to constants here; none is ever resolved as a
 * Java or Python class.
 */
final class TorchGlobals {
    /** A storage of the file, by key, with the dtype and element count its persistent id declares. */
    static final class Storage {
        final String key;
        final ElementType type;
        final long numel;

        Storage(String key, ElementType type, long numel) {
            this.key = key;
            this.type = type;
            this.numel = numel;
        }

        /** The bytes the storage holds; numel is far below 2^59, so this cannot overflow. */
        long bytes() {
            return numel * type.size();
        }
    }

    /**
     * A tensor as _rebuild_tensor_v2 describes it: a view of a storage, with offset and strides in
     * elements. Built only with every element inside the storage.
     */
    static final class TensorRef {
        final Storage storage;
        final long offset;
        final int[] shape;
        final long[] stride;
        final int numel;

        private TensorRef(Storage storage, long offset, int[] shape, long[] stride, int numel) {
            this.storage = storage;
            this.offset = offset;
            this.shape = shape;
            this.stride = stride;
            this.numel = numel;
        }
    }

    /** A value clrnn holds only as a placeholder, such as a torch.dtype or a torch.device. */
    record Inert(String type) {}

    private enum Function {
        ORDERED_DICT, REBUILD_TENSOR, REBUILD_TENSOR_V2, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE,
        SIZE, DEVICE, ENCODE
    }

    // A storage holds at most this many elements: enough for any file, and numel * 16 stays exact.
    private static final long MAX_STORAGE_NUMEL = 1L << 58;
    private static final Map<String, Object> ALLOWED = allowed();

    private final Map<String, Storage> storages = new LinkedHashMap<>();
    private final int maxStorages;

    TorchGlobals(int maxStorages) {
        this.maxStorages = maxStorages;
    }

    /** Every storage the pickle named, by key, in the order first named. */
    Collection<Storage> storages() {
        return Collections.unmodifiableCollection(storages.values());
    }

    /** The storage the pickle named {@code key}, or null when it named none. */
    Storage storage(String key) {
        return storages.get(key);
    }

    /** The value of an allowed global, or null when it is not allowed. */
    Object global(String module, String name) {
        return ALLOWED.get(module + "." + name);
    }

    /** REDUCE: what calling {@code function} with {@code args} builds; refused unless it is an allowed function. */
    Object call(Object function, Tuple args) {
        if (!(function instanceof Function f)) {
            throw new Refusal("REDUCE calls a " + Unpickler.typeName(function) + ", which is not an allowed function");
        }
        switch (f) {
            case ORDERED_DICT -> {
                arity("collections.OrderedDict", args, 0, 0);
                return new LinkedHashMap<>();
            }
            case REBUILD_TENSOR -> {
                arity("torch._utils._rebuild_tensor", args, 4, 4);
                return tensor(args);
            }
            case REBUILD_TENSOR_V2 -> {
                // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
                arity("torch._utils._rebuild_tensor_v2", args, 6, 7);
                expect(args.get(4) instanceof Boolean, "_rebuild_tensor_v2's requires_grad is not a bool");
                return tensor(args);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                // (data, requires_grad, backward_hooks[, state]): the parameter is its data.
                int n = f == Function.REBUILD_PARAMETER ? 3 : 4;
                arity("torch._utils._rebuild_parameter", args, n, n);
                expect(args.get(0) instanceof TensorRef, () -> "_rebuild_parameter's data is a "
                        + Unpickler.typeName(args.get(0)) + ", not a tensor");
                return args.get(0);
            }
            case SIZE -> {
                arity("torch.Size", args, 1, 1);
                expect(args.get(0) instanceof Tuple t && t.items().stream().allMatch(d -> d instanceof Long),
                        "torch.Size takes a tuple of ints");
                return args.get(0);
            }
            case DEVICE -> {
                arity("torch.device", args, 1, 2);
                expect(args.items().stream().allMatch(a -> a instanceof String || a instanceof Long),
                        "torch.device takes a string and an index");
                return new Inert("torch.device");
            }
            case ENCODE -> {
                // How protocol 2 writes a bytes object: _codecs.encode(text, 'latin1').
                arity("_codecs.encode", args, 2, 2);
                expect(args.get(0) instanceof String && ("latin1".equals(args.get(1)) || "latin-1".equals(args.get(1))),
                        "_codecs.encode is allowed only as protocol 2 writes bytes: (str, 'latin1')");
                return ByteBuffer.wrap(((String) args.get(0)).getBytes(StandardCharsets.ISO_8859_1)).asReadOnlyBuffer();
            }
        }
        throw new IllegalStateException(f.name());
    }

    /**
     * BINPERSID: a storage record, ('storage', storage class, key, location, numel) in zip files
     * and the same with a trailing view_metadata (always None since PyTorch 0.4) in legacy ones.
     */
    Storage persistentLoad(Object pid) {
        if (!(pid instanceof Tuple t) || (t.size() != 5 && t.size() != 6) || !"storage".equals(t.get(0))) {
            throw new Refusal("a persistent id is not a ('storage', ...) record but a " + Unpickler.typeName(pid)
                    + (pid instanceof Tuple other ? " of " + other.size() : ""));
        }
        if (!(t.get(1) instanceof ElementType type)) {
            throw new Refusal("a storage record names a " + Unpickler.typeName(t.get(1)) + " where a storage class belongs");
        }
        expect(t.get(2) instanceof String, () -> "a storage key is a " + Unpickler.typeName(t.get(2)) + ", not a str");
        expect(t.get(3) instanceof String, () -> "a storage location is a " + Unpickler.typeName(t.get(3))
                + ", not a str");
        expect(t.size() == 5 || t.get(5) == null, "a legacy storage record is a view of another storage, "
                + "which PyTorch has not written since 0.4 and clrnn does not read");
        String key = (String) t.get(2);
        long numel = nonNegative(t.get(4), "storage " + FormatException.quote(key) + " size", MAX_STORAGE_NUMEL);
        Storage known = storages.get(key);
        if (known != null) {
            expect(known.type.equals(type) && known.numel == numel, () -> "storage " + FormatException.quote(key)
                    + " is declared twice, as " + known.numel + " " + known.type.dtype() + " and " + numel + " " + type.dtype());
            return known;
        }
        expect(storages.size() < maxStorages, () -> "names more than " + maxStorages + " storages");
        Storage s = new Storage(key, type, numel);
        storages.put(key, s);
        return s;
    }

    /** Python's name for the types this class adds to the pickle's values. */
    static String typeName(Object o) {
        if (o instanceof TensorRef) {
            return "tensor";
        } else if (o instanceof Storage) {
            return "storage";
        } else if (o instanceof ElementType) { // what a storage class such as torch.FloatStorage names
            return "storage class";
        } else if (o instanceof Function) {
            return "function";
        } else if (o instanceof Inert i) {
            return i.type;
        }
        return o.getClass().getSimpleName();
    }

    /** (storage, storage_offset, size, stride, ...) to a tensor, every element checked to lie in the storage. */
    private static TensorRef tensor(Tuple args) {
        if (!(args.get(0) instanceof Storage storage)) {
            throw new Refusal("a tensor is rebuilt from a " + Unpickler.typeName(args.get(0)) + ", not a storage");
        }
        long offset = nonNegative(args.get(1), "storage offset", Long.MAX_VALUE);
        expect(args.get(2) instanceof Tuple && args.get(3) instanceof Tuple, "a tensor's size and stride are not tuples");
        List<Object> size = ((Tuple) args.get(2)).items();
        List<Object> strides = ((Tuple) args.get(3)).items();
        expect(size.size() == strides.size(), () -> "a tensor has " + size.size() + " dimensions but "
                + strides.size() + " strides");
        int[] shape = new int[size.size()];
        long[] stride = new long[shape.length];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (int) nonNegative(size.get(i), "dimension", Integer.MAX_VALUE);
            stride[i] = nonNegative(strides.get(i), "stride", Long.MAX_VALUE);
            numel *= shape[i];
            // Checked at each step, so the product never overflows.
            expect(numel <= Integer.MAX_VALUE - 8, () -> "a tensor of shape " + shapeText(size)
                    + " holds more elements than one Java array");
        }
        if (numel > 0) {
            // The last element a view reaches: offset + sum (size - 1) * stride, checked for overflow.
            String last;
            try {
                long index = offset;
                for (int i = 0; i < shape.length; i++) {
                    index = Math.addExact(index, Math.multiplyExact(shape[i] - 1L, stride[i]));
                }
                last = index < storage.numel ? null : String.valueOf(index);
            } catch (ArithmeticException e) {
                last = "past 2^63";
            }
            if (last != null) {
                throw new Refusal("a tensor of shape " + shapeText(size) + " at offset " + offset + " reaches element "
                        + last + " of storage " + FormatException.quote(storage.key) + ", which holds " + storage.numel);
            }
        }
        return new TensorRef(storage, offset, shape, stride, (int) numel);
    }

    private static String shapeText(List<Object> size) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < size.size() && i < 8; i++) {
            b.append(i > 0 ? ", " : "").append(size.get(i) instanceof Long l ? l.toString() : "?");
        }
        return b.append(size.size() > 8 ? ", ...]" : "]").toString();
    }

    private static long nonNegative(Object o, String what, long max) {
        if (!(o instanceof Long v)) {
            throw new Refusal("a " + what + " is a " + Unpickler.typeName(o) + (o instanceof java.math.BigInteger
                    ? " too large for 64 bits" : ", not an int"));
        }
        if (v < 0 || v > max) {
            throw new Refusal("a " + what + " is " + v + ", outside [0, " + max + "]");
        }
        return v;
    }

    private static void arity(String function, Tuple args, int min, int max) {
        if (args.size() < min || args.size() > max) {
            throw new Refusal(function + " called with " + args.size() + " arguments");
        }
    }

    private static void expect(boolean ok, String refusal) {
        if (!ok) {
            throw new Refusal(refusal);
        }
    }

    /** As {@link #expect(boolean, String)}, the message built only when it is thrown. */
    private static void expect(boolean ok, Supplier<String> refusal) {
        if (!ok) {
            throw new Refusal(refusal.get());
        }
    }

    private static Map<String, Object> allowed() {
        Map<String, Object> m = new HashMap<>();
        m.put("collections.OrderedDict", Function.ORDERED_DICT);
        m.put("torch._utils._rebuild_tensor", Function.REBUILD_TENSOR);
        m.put("torch._utils._rebuild_tensor_v2", Function.REBUILD_TENSOR_V2);
        m.put("torch._utils._rebuild_parameter", Function.REBUILD_PARAMETER);
        m.put("torch._utils._rebuild_parameter_with_state", Function.REBUILD_PARAMETER_WITH_STATE);
        m.put("torch.Size", Function.SIZE);
        m.put("torch.device", Function.DEVICE);
        m.put("_codecs.encode", Function.ENCODE);
        for (ElementType type : ElementType.values()) {
            if (type.torchStorage() != null) {
                // Legacy files saved from a GPU name the CUDA classes; the bytes are the same.
                m.put("torch." + type.torchStorage(), type);
                m.put("torch.cuda." + type.torchStorage(), type);
                m.put("torch." + type.dtype(), new Inert("torch.dtype"));
            }
        }
        m.put("torch.complex32", new Inert("torch.dtype")); // a dtype without a storage class
        return Map.copyOf(m);
    }
}
