package io.clrnn.format;

import io.clrnn.base.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads and writes NumPy {@code .npy} files holding one floating-point array. Reading checks every
 * size against the file length before allocating, so a lying header costs an exception, not memory.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    // numpy itself refuses longer headers (since 1.24) as a denial-of-service guard.
    private static final int MAX_HEADER_LENGTH = 10_000;
    private static final int ALIGN = 64;
    // numpy leaves room after the shape so a writer can grow the first axis in place.
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    private static final Set<String> KEYS = Set.of("descr", "fortran_order", "shape");

    private Npy() {}

    /** Reads a .npy file; messages start with the file name. */
    public static Tensor read(Path path) throws IOException {
        return read(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    /** Reads .npy bytes; {@code name} starts every error message (null for none). */
    public static Tensor read(byte[] bytes, String name) {
        Header h = header(bytes, name);
        Dtype dtype = dtype(h.descr, name);
        long byteCount = checkData(h, dtype.type.size(), name);
        float[] data = dtype.type.decode(bytes, h.dataStart, (int) (byteCount / dtype.type.size()), dtype.order);
        if (h.fortranOrder) {
            data = fortranToC(data, h.shape);
        }
        return Tensor.of(data, h.shape);
    }

    /**
     * Reads a 1-D integer .npy file (any of numpy's signed or unsigned integer dtypes, either byte order):
     * sequence lengths, as {@code np.save(f, lengths)} or {@code tensor.numpy()} write them.
     */
    public static int[] readInts(Path path) throws IOException {
        return readInts(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    public static int[] readInts(byte[] bytes, String name) {
        IntArray a = readIntArray(bytes, name);
        if (a.shape().length != 1) {
            throw FormatException.of(name, "must be a 1-D array, got shape " + pyShape(a.shape()));
        }
        int[] values = new int[a.data().length];
        for (int i = 0; i < values.length; i++) {
            long v = a.data()[i];
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw FormatException.of(name, "element " + i + " (" + v + ") is out of range");
            }
            values[i] = (int) v;
        }
        return values;
    }

    /** An integer array of any rank, in C order: token ids, masks. */
    public record IntArray(long[] data, int[] shape) {}

    /** Reads an integer .npy file of any rank (numpy's signed or unsigned dtypes, either byte order, C or Fortran order). */
    public static IntArray readIntArray(Path path) throws IOException {
        return readIntArray(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    public static IntArray readIntArray(byte[] bytes, String name) {
        Header h = header(bytes, name);
        if (!(h.descr instanceof String s) || s.length() < 3 || "iub".indexOf(s.charAt(1)) < 0
                || "<>=|".indexOf(s.charAt(0)) < 0 || !s.substring(2).matches("[1248]")
                || (s.charAt(1) == 'b' && s.charAt(2) != '1')) {
            throw FormatException.of(name, "holds " + (h.descr instanceof String s ? FormatException.quote(s)
                    : "a structured dtype") + ", not integers");
        }
        int size = s.charAt(2) - '0';
        boolean signed = s.charAt(1) == 'i';
        long count = checkData(h, size, name) / size;
        ByteBuffer data = ByteBuffer.wrap(bytes, h.dataStart, (int) (count * size)).slice()
                .order(s.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        long[] values = new long[(int) count];
        for (int i = 0; i < values.length; i++) {
            long v = switch (size) {
                case 1 -> signed ? data.get(i) : data.get(i) & 0xFFL;
                case 2 -> signed ? data.getShort(i * 2) : data.getShort(i * 2) & 0xFFFFL;
                case 4 -> signed ? data.getInt(i * 4) : data.getInt(i * 4) & 0xFFFF_FFFFL;
                default -> data.getLong(i * 8);
            };
            if (size == 8 && !signed && v < 0) {
                throw FormatException.of(name, "element " + i + " (" + Long.toUnsignedString(v) + ") is out of range");
            }
            values[i] = v;
        }
        if (h.fortranOrder && h.shape.length >= 2) {
            // the same permutation as a float array's, through the floats' helper on indices
            int[] at = fortranIndex(h.shape);
            long[] c = new long[values.length];
            for (int i = 0; i < c.length; i++) {
                c[i] = values[at[i]];
            }
            values = c;
        }
        return new IntArray(values, h.shape);
    }

    /** For each C-order position of {@code shape}, the position of the same element in Fortran order. */
    private static int[] fortranIndex(int[] shape) {
        int rank = shape.length;
        int n = (int) Tensor.numel(shape);
        int[] at = new int[n];
        int[] c = new int[rank];
        for (int i = 0; i < n; i++) {
            int f = 0;
            int stride = 1;
            for (int d = 0; d < rank; d++) {
                f += c[d] * stride;
                stride *= shape[d];
            }
            at[i] = f;
            for (int d = rank - 1; d >= 0; d--) {
                if (++c[d] < shape[d]) {
                    break;
                }
                c[d] = 0;
            }
        }
        return at;
    }

    /** A checked header: what the dict says and where the data starts. */
    private record Header(Object descr, boolean fortranOrder, int[] shape, int dataStart, int fileLength) {}

    private static Header header(byte[] bytes, String name) {
        if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw FormatException.of(name, "not a .npy file (bad magic)");
        }
        if (bytes.length < MAGIC.length + 2) {
            throw FormatException.of(name, "file is " + bytes.length + " bytes, too short for a .npy preamble");
        }
        int major = bytes[6] & 0xFF;
        int minor = bytes[7] & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw FormatException.of(name, "unsupported .npy format version " + major + "." + minor
                    + " (clrnn reads 1.0, 2.0, 3.0)");
        }
        // Version 1.0 stores the header length in 2 bytes, later versions in 4.
        int lengthBytes = major == 1 ? 2 : 4;
        int headerStart = 8 + lengthBytes;
        if (bytes.length < headerStart) {
            throw FormatException.of(name, "file is " + bytes.length + " bytes, too short for a .npy preamble");
        }
        ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = major == 1 ? le.getShort(8) & 0xFFFFL : le.getInt(8) & 0xFFFF_FFFFL;
        if (headerLength > MAX_HEADER_LENGTH) {
            throw FormatException.of(name, "header length " + headerLength + " exceeds the limit of "
                    + MAX_HEADER_LENGTH + " bytes");
        }
        if (headerStart + headerLength > bytes.length) {
            throw FormatException.of(name, "header length " + headerLength + " runs past the end of the file ("
                    + bytes.length + " bytes)");
        }
        // Version 3.0 exists only to allow UTF-8 in the header; earlier ones are Latin-1.
        Charset charset = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
        String text = StrictText.decode(bytes, headerStart, (int) headerLength, charset,
                () -> FormatException.of(name, "header is not valid " + charset.name()));
        Map<String, Object> header = NpyHeader.parseDict(text, name);

        for (String key : KEYS) {
            if (!header.containsKey(key)) {
                throw FormatException.of(name, "header is missing key '" + key + "'");
            }
        }
        for (String key : header.keySet()) {
            if (!KEYS.contains(key)) {
                throw FormatException.of(name, "header has unexpected key " + FormatException.quote(key));
            }
        }
        if (!(header.get("fortran_order") instanceof Boolean fortranOrder)) {
            throw FormatException.of(name, "header 'fortran_order' is not True or False");
        }
        int[] shape = shape(header.get("shape"), name);
        return new Header(header.get("descr"), fortranOrder, shape, headerStart + (int) headerLength, bytes.length);
    }

    /** Checks the data's size against the shape; returns its byte count. */
    private static long checkData(Header h, int elementSize, String name) {
        long count = Arrays.stream(h.shape).anyMatch(d -> d == 0) ? 0 : 1; // a 0 anywhere holds nothing
        for (int d : count == 0 ? new int[0] : h.shape) {
            count *= d; // each d < 2^31 and count stays below 2^31 after the check, so no long overflow
            if (count > Integer.MAX_VALUE) {
                throw FormatException.of(name, "shape " + pyShape(h.shape) + " holds more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        long byteCount = count * elementSize;
        if (byteCount > Integer.MAX_VALUE) {
            throw FormatException.of(name, "shape " + pyShape(h.shape) + " of " + h.descr + " needs "
                    + byteCount + " bytes, more than clrnn reads in one piece");
        }
        long available = h.fileLength - h.dataStart;
        if (available < byteCount) {
            throw FormatException.of(name, "data is truncated: shape " + pyShape(h.shape) + " of " + h.descr
                    + " needs " + byteCount + " bytes, the file has " + available);
        }
        if (available > byteCount) {
            throw FormatException.of(name, (available - byteCount) + " trailing bytes after the data");
        }
        return byteCount;
    }

    /** Writes {@code t} as a version 1.0, '<f4', C-order .npy file, atomically. */
    public static void write(Path path, Tensor t) throws IOException {
        AtomicFiles.write(path, toBytes(t));
    }

    /** The bytes numpy's {@code np.save} writes for a C-contiguous little-endian float32 array. */
    public static byte[] toBytes(Tensor t) {
        int[] shape = t.shape();
        StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': ")
                .append(pyShape(shape)).append(", }");
        if (shape.length > 0) {
            dict.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length()));
        }
        // Same arithmetic as numpy's _wrap_header: spaces then '\n', total a multiple of 64
        // (a full 64 bytes of padding when already aligned, as numpy does).
        int withNewline = dict.length() + 1;
        int pad = ALIGN - ((MAGIC.length + 2 + 2 + withNewline) % ALIGN);
        dict.append(" ".repeat(pad)).append('\n');
        byte[] header = dict.toString().getBytes(StandardCharsets.US_ASCII);
        if (header.length > 0xFFFF) {
            throw new IllegalArgumentException("shape " + Tensor.format(shape) + " makes a .npy header too long");
        }
        long total = MAGIC.length + 4L + header.length + 4L * t.numel();
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor " + Tensor.format(shape) + " is too large for one .npy byte array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).put(header);
        out.asFloatBuffer().put(t.data());
        return out.array();
    }

    /** A supported descr: the element type and its byte order. */
    private record Dtype(String descr, ElementType type, ByteOrder order) {}

    private static Dtype dtype(Object descr, String name) {
        if (descr instanceof List<?>) {
            throw FormatException.of(name, "unsupported structured dtype (clrnn reads <f4, <f8, <f2 and their big-endian forms)");
        }
        if (!(descr instanceof String s)) {
            throw FormatException.of(name, "header 'descr' is not a string");
        }
        ElementType type = s.length() != 3 ? null : switch (s.substring(1)) {
            case "f4" -> ElementType.F32;
            case "f8" -> ElementType.F64;
            case "f2" -> ElementType.F16;
            default -> null;
        };
        // Multi-byte types need an explicit order; '=' is native, and numpy only ever writes it
        // on little-endian machines as '<', so '=' is read as little-endian.
        char order = s.isEmpty() ? 0 : s.charAt(0);
        if (type == null || (order != '<' && order != '>' && order != '=')) {
            throw FormatException.of(name, "unsupported dtype " + FormatException.quote(s)
                    + " (clrnn reads <f4, <f8, <f2 and their big-endian forms)");
        }
        return new Dtype(s, type, order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    }

    private static int[] shape(Object value, String name) {
        if (!(value instanceof NpyHeader.Tuple tuple)) {
            throw FormatException.of(name, "header 'shape' is not a tuple");
        }
        int[] shape = new int[tuple.items().size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(tuple.items().get(i) instanceof Long d)) {
                throw FormatException.of(name, "header 'shape' is not a tuple of ints");
            }
            if (d < 0) {
                throw FormatException.of(name, "header 'shape' has negative dimension " + d);
            }
            if (d > Integer.MAX_VALUE) {
                throw FormatException.of(name, "header 'shape' has dimension " + d + ", more than " + Integer.MAX_VALUE);
            }
            shape[i] = (int) (long) d;
        }
        return shape;
    }

    /**
     * Reorders column-major data into row-major. Walks the C-order index as an odometer (last axis
     * fastest) and tracks the matching Fortran offset, whose strides grow from the first axis.
     */
    static float[] fortranToC(float[] f, int[] shape) {
        int rank = shape.length;
        if (rank < 2 || f.length == 0) {
            return f;
        }
        int[] stride = new int[rank];
        stride[0] = 1;
        for (int k = 1; k < rank; k++) {
            stride[k] = stride[k - 1] * shape[k - 1];
        }
        int[] index = new int[rank];
        float[] c = new float[f.length];
        int offset = 0;
        for (int i = 0; i < c.length; i++) {
            c[i] = f[offset];
            for (int k = rank - 1; k >= 0; k--) {
                offset += stride[k];
                if (++index[k] < shape[k]) {
                    break;
                }
                offset -= stride[k] * shape[k];
                index[k] = 0;
            }
        }
        return c;
    }

    /** Python's repr of a shape tuple: {@code ()}, {@code (5,)}, {@code (2, 3)}. */
    private static String pyShape(int[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", ")"));
    }
}
