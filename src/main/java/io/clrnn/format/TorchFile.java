package io.clrnn.format;

import io.clrnn.base.Tensor;
import io.clrnn.format.TorchGlobals.Storage;
import io.clrnn.format.TorchGlobals.TensorRef;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads torch.save files: the zip format PyTorch has written since 1.6 and the legacy format
 * before it. The pickle inside goes through {@link Unpickler}, which builds data and calls
 * nothing; the tensors found in it, through nested dicts, are listed under dotted names the way
 * a nested state_dict() names them, and each is read when asked for.
 *
 * <p>The pickle may hold a state_dict, or a checkpoint dict that holds state_dicts under any key
 * beside numbers, strings, lists and optimizer state. String keys are used as they are, int keys
 * (optimizer state uses them) as their decimal value; other keys (float, bool, None, tuple) and
 * whatever lists and tuples hold are skipped.
 */
public final class TorchFile implements WeightFile {
    // A state_dict pickle costs some 150 bytes per tensor: room for 400,000 tensors.
    private static final long MAX_PICKLE_BYTES = 64L << 20;
    private static final int MAX_STORAGES = 1 << 20;
    // Dicts inside dicts: a checkpoint nests two or three deep.
    private static final int MAX_DEPTH = 64;
    // Work and memory spent naming tensors: dict entries visited, characters of names built.
    private static final long MAX_VISITS = 4_000_000;
    private static final long MAX_NAME_CHARS = 64L << 20;
    // torch.save's magic number, the first pickle of a legacy file, and the protocol version after it.
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;

    private final String file;
    private final String format;
    private final ByteOrder order;
    private final Map<String, TensorRef> tensors;
    private final List<Entry> entries;
    private final Function<Storage, ZipArchive.Bytes> storages;

    private TorchFile(String file, String format, ByteOrder order, Map<String, TensorRef> tensors,
            Function<Storage, ZipArchive.Bytes> storages) {
        this.file = file;
        this.format = format;
        this.order = order;
        this.tensors = tensors;
        this.storages = storages;
        List<Entry> list = new ArrayList<>();
        tensors.forEach((name, t) -> list.add(new Entry(name, t.storage.type.dtype(), t.shape)));
        this.entries = Collections.unmodifiableList(list);
    }

    /** Opens a torch.save file of either format; errors are one line that starts with the file name. */
    public static TorchFile open(Path path) throws IOException {
        return open(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    /** {@link #open(Path)} for bytes in memory; {@code name} starts every error message. */
    public static TorchFile open(byte[] bytes, String name) {
        return switch (Kind.of(bytes)) {
            case TORCH_ZIP -> openZip(bytes, name);
            case TORCH_LEGACY -> openLegacy(bytes, name);
            default -> throw FormatException.of(name, "not a torch.save file (neither its zip format nor the legacy one)");
        };
    }

    @Override
    public String format() {
        return format;
    }

    @Override
    public List<Entry> entries() {
        return entries;
    }

    @Override
    public Tensor tensor(String name) {
        TensorRef t = tensors.get(name);
        if (t == null) {
            throw FormatException.of(file, "no tensor named " + FormatException.quote(name));
        }
        ElementType type = t.storage.type;
        type.requireFloat(file, name);
        if (t.numel == 0) {
            return Tensor.of(new float[0], t.shape);
        }
        ZipArchive.Bytes bytes = storages.apply(t.storage);
        // Offsets and strides were checked at open to keep every element inside the storage.
        if (isContiguous(t)) {
            return Tensor.of(type.decode(bytes.array(), bytes.offset() + (int) (t.offset * type.size()), t.numel, order), t.shape);
        }
        ByteBuffer storage = ByteBuffer.wrap(bytes.array(), bytes.offset(), bytes.length()).slice().order(order);
        return Tensor.of(gather(storage, type, t), t.shape);
    }

    // ---- the zip format ----

    private static TorchFile openZip(byte[] bytes, String name) {
        ZipArchive zip = ZipArchive.read(bytes, name);
        Map<String, ZipArchive.Entry> entries = zip.entries();
        String folder = archiveFolder(entries.keySet(), name);
        if (entries.containsKey(folder + "constants.pkl")) {
            throw FormatException.of(name, "a TorchScript archive (torch.jit.save), not a torch.save file; "
                    + "save the model's state_dict() with torch.save instead");
        }
        ByteOrder order = byteOrder(zip, entries.get(folder + "byteorder"), name);

        ZipArchive.Bytes pickle = zip.read(entries.get(folder + "data.pkl"), MAX_PICKLE_BYTES);
        TorchGlobals globals = new TorchGlobals(MAX_STORAGES);
        Object root = new Unpickler(pickle.array(), pickle.offset(), pickle.offset() + pickle.length(), name,
                "data.pkl", globals, Unpickler.Limits.DEFAULT).load();

        // Each storage is the entry data/<key>, exactly as long as its dtype and size say.
        Map<Storage, ZipArchive.Entry> where = new IdentityHashMap<>();
        for (Storage s : globals.storages()) {
            String entryName = folder + "data/" + s.key;
            ZipArchive.Entry e = entries.get(entryName);
            if (e == null) {
                throw FormatException.of(name, "storage " + FormatException.quote(s.key) + " has no zip entry "
                        + FormatException.quote(entryName));
            }
            if (e.size() != s.bytes()) {
                throw FormatException.of(name, "zip entry " + FormatException.quote(entryName) + " holds " + e.size()
                        + " bytes, but its storage of " + s.numel + " " + s.type.dtype() + " needs " + s.bytes());
            }
            where.put(s, e);
        }
        return new TorchFile(name, "torch.save zip", order, flatten(root, name), s -> zip.read(where.get(s), s.bytes()));
    }

    /** The folder all of a torch.save zip's records sit in: the file's stem when saved, or "archive". */
    private static String archiveFolder(Set<String> names, String file) {
        List<String> pickles = new ArrayList<>();
        for (String n : names) {
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                pickles.add(n);
            }
        }
        if (pickles.isEmpty()) {
            throw FormatException.of(file, "a zip archive without a data.pkl record, not a torch.save file");
        }
        if (pickles.size() > 1) {
            throw FormatException.of(file, "a zip archive with " + pickles.size() + " data.pkl records ("
                    + FormatException.quote(pickles.get(0)) + ", " + FormatException.quote(pickles.get(1))
                    + "), not a torch.save file");
        }
        return pickles.get(0).substring(0, pickles.get(0).length() - "data.pkl".length());
    }

    /** The byteorder record PyTorch 2.1 and later write; files without it are little-endian. */
    private static ByteOrder byteOrder(ZipArchive zip, ZipArchive.Entry entry, String file) {
        if (entry == null) {
            return ByteOrder.LITTLE_ENDIAN;
        }
        ZipArchive.Bytes b = zip.read(entry, 16);
        String text = new String(b.array(), b.offset(), b.length(), StandardCharsets.ISO_8859_1);
        return switch (text) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw FormatException.of(file, "byteorder record says " + FormatException.quote(text)
                    + ", neither 'little' nor 'big'");
        };
    }

    // ---- the legacy format ----

    /**
     * The format torch.save wrote before PyTorch 1.6, and still writes with
     * _use_new_zipfile_serialization=False: five pickles (magic number, protocol version,
     * sys_info, the object, the storage keys), then each storage as an int64 element count and
     * its little-endian bytes, in the order of the keys.
     */
    private static TorchFile openLegacy(byte[] bytes, String name) {
        TorchGlobals globals = new TorchGlobals(MAX_STORAGES);
        int[] at = {0};
        Function<String, Object> next = part -> {
            Unpickler u = new Unpickler(bytes, at[0], bytes.length, name, "legacy " + part + " pickle", globals,
                    Unpickler.Limits.DEFAULT);
            Object o = u.load();
            at[0] = u.position();
            return o;
        };
        if (!LEGACY_MAGIC.equals(next.apply("magic number"))) {
            throw FormatException.of(name, "legacy torch.save file without torch's magic number");
        }
        Object protocol = next.apply("protocol version");
        if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
            throw FormatException.of(name, "legacy torch.save protocol " + (protocol instanceof Long l ? l : "?")
                    + " (clrnn reads " + LEGACY_PROTOCOL + ")");
        }
        if (!(next.apply("sys_info") instanceof Map<?, ?> sysInfo)) {
            throw FormatException.of(name, "legacy torch.save sys_info is not a dict");
        }
        if (Boolean.FALSE.equals(sysInfo.get("little_endian"))) {
            throw FormatException.of(name, "a legacy torch.save file from a big-endian machine, which clrnn does not read; "
                    + "re-save it with a current PyTorch there: torch.save(torch.load(f), f2)");
        }
        Object root = next.apply("object");
        if (!(next.apply("storage keys") instanceof List<?> keys)) {
            throw FormatException.of(name, "legacy torch.save storage keys are not a list");
        }

        Map<Storage, Integer> where = new IdentityHashMap<>();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int p = at[0];
        for (Object key : keys) {
            Storage s = key instanceof String k ? globals.storage(k) : null;
            if (s == null || where.containsKey(s)) {
                throw FormatException.of(name, "legacy storage key " + (key instanceof String k ? FormatException.quote(k)
                        : "of type " + Unpickler.typeName(key)) + (s == null ? " names no storage of the object" : " is listed twice"));
            }
            if (bytes.length - p < 8) {
                throw FormatException.of(name, "legacy storage " + FormatException.quote(s.key) + " is missing (truncated file?)");
            }
            long count = b.getLong(p);
            if (count != s.numel) {
                throw FormatException.of(name, "legacy storage " + FormatException.quote(s.key) + " holds " + count
                        + " elements where the object declares " + s.numel);
            }
            if (s.bytes() > bytes.length - p - 8) {
                throw FormatException.of(name, "legacy storage " + FormatException.quote(s.key) + " of " + s.bytes()
                        + " bytes runs past the end of the file");
            }
            where.put(s, p + 8);
            p += 8 + (int) s.bytes();
        }
        if (where.size() != globals.storages().size()) {
            throw FormatException.of(name, "legacy torch.save file lists " + where.size() + " storages, the object uses "
                    + globals.storages().size());
        }
        if (p != bytes.length) {
            throw FormatException.of(name, (bytes.length - p) + " trailing bytes after the last legacy storage");
        }
        return new TorchFile(name, "torch.save legacy", ByteOrder.LITTLE_ENDIAN, flatten(root, name),
                s -> new ZipArchive.Bytes(bytes, where.get(s), (int) s.bytes()));
    }

    // ---- naming the tensors ----

    /** The tensors of the pickled object under dotted names, in the order the dicts hold them. */
    private static Map<String, TensorRef> flatten(Object root, String file) {
        if (root instanceof TensorRef) {
            throw FormatException.of(file, "holds a single tensor, not a state_dict (a dict of named tensors)");
        }
        if (!(root instanceof Map<?, ?> dict)) {
            throw FormatException.of(file, "holds a " + Unpickler.typeName(root)
                    + ", not a state_dict or a checkpoint dict that holds one");
        }
        Map<String, TensorRef> out = new LinkedHashMap<>();
        new Namer(file, out).walk(dict, null, 0);
        return Collections.unmodifiableMap(out);
    }

    /** One walk through nested dicts, bounded in depth and work, refusing cycles and duplicate names. */
    private static final class Namer {
        private final String file;
        private final Map<String, TensorRef> out;
        private final Set<Object> path = Collections.newSetFromMap(new IdentityHashMap<>());
        private long visits;
        private long nameChars;

        Namer(String file, Map<String, TensorRef> out) {
            this.file = file;
            this.out = out;
        }

        void walk(Map<?, ?> dict, String prefix, int depth) {
            String where = prefix == null ? "the top-level dict" : FormatException.quote(prefix);
            if (depth > MAX_DEPTH) {
                throw FormatException.of(file, "dicts nested more than " + MAX_DEPTH + " deep, at " + where);
            }
            if (!path.add(dict)) {
                throw FormatException.of(file, "a dict holds itself, at " + where);
            }
            for (Map.Entry<?, ?> e : dict.entrySet()) {
                if (++visits > MAX_VISITS) {
                    throw FormatException.of(file, "more than " + MAX_VISITS + " dict entries to search for tensors");
                }
                String key = keyName(e.getKey());
                Object value = e.getValue();
                if (key == null || !(value instanceof TensorRef || value instanceof Map)) {
                    continue;
                }
                String name = prefix == null ? key : prefix + "." + key;
                nameChars += name.length();
                if (nameChars > MAX_NAME_CHARS) {
                    throw FormatException.of(file, "tensor names longer than " + MAX_NAME_CHARS + " characters in all");
                }
                if (value instanceof TensorRef t) {
                    if (out.putIfAbsent(name, t) != null) {
                        throw FormatException.of(file, "two tensors are named " + FormatException.quote(name));
                    }
                } else {
                    walk((Map<?, ?>) value, name, depth + 1);
                }
            }
            path.remove(dict);
        }

        /** A str key as it is, an int key (optimizer state) as its decimal value; null skips the entry. */
        private static String keyName(Object key) {
            if (key instanceof String s) {
                return s;
            }
            if (key instanceof Long || key instanceof BigInteger) {
                return key.toString();
            }
            return null;
        }
    }

    // ---- strided views ----

    /** Whether the view's elements lie in C order from its offset: its strides are C order's (size-1 dims aside). */
    private static boolean isContiguous(TensorRef t) {
        long expected = 1;
        for (int i = t.shape.length - 1; i >= 0; i--) {
            if (t.shape[i] != 1 && t.stride[i] != expected) {
                return false;
            }
            expected *= t.shape[i];
        }
        return true;
    }

    /**
     * The view's elements in C order, one by one from the storage: a small view of a large storage
     * costs only its own elements.
     */
    private static float[] gather(ByteBuffer storage, ElementType type, TensorRef t) {
        float[] out = new float[t.numel];
        int rank = t.shape.length;
        int[] index = new int[rank];
        long at = t.offset;
        for (int k = 0; k < out.length; k++) {
            out[k] = type.at(storage, (int) at);
            // Advance the last index, carrying into earlier ones like an odometer.
            for (int d = rank - 1; d >= 0; d--) {
                if (++index[d] < t.shape[d]) {
                    at += t.stride[d];
                    break;
                }
                at -= (t.shape[d] - 1L) * t.stride[d];
                index[d] = 0;
            }
        }
        return out;
    }
}
