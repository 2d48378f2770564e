package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import io.clrnn.format.ElementType;
import io.clrnn.format.FormatException;
import io.clrnn.onnx.proto.StringStringEntryProto;
import io.clrnn.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Decodes an ONNX TensorProto (an initializer, a Constant's value, a test's .pb file) into a {@link Value}:
 * from raw_data, from the typed fields, or from external data beside the model. Sizes are checked against
 * the dims before anything is allocated; external paths must stay inside the model's folder.
 */
final class TensorData {
    /** Java arrays stop a little short of 2^31 elements. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private TensorData() {}

    /**
     * The tensor's value. {@code dir} is the model's folder, where external data lives; null when the model
     * came from memory, which refuses external data. {@code file} and {@code what} start every message.
     */
    static Value decode(TensorProto t, Path dir, String file, String what) {
        String where = file + ": " + what;
        ElementType type = ElementType.ofOnnx(t.getDataType());
        if (type == null) {
            throw new FormatException(where + " is " + ElementType.onnxName(t.getDataType()) + "; clrnn reads float32, "
                    + "float16, bfloat16, float64, integer and bool tensors");
        }
        if (t.hasSegment()) {
            throw new FormatException(where + " is a segment of a larger tensor, which clrnn does not read");
        }
        int[] shape = shape(t, where);
        int n = (int) Tensor.numel(shape);
        boolean external = t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
        int typedCount = typedCount(t);
        int sources = (t.getRawData().isEmpty() ? 0 : 1) + (typedCount == 0 ? 0 : 1) + (external ? 1 : 0);
        if (sources > 1) {
            throw new FormatException(where + " has its data in more than one place (raw_data, a typed field, "
                    + "external data)");
        }
        long bytes = (long) n * type.size();
        if (external) {
            return fromBytes(readExternal(t, dir, where, bytes), type, shape);
        }
        if (typedCount == 0) {
            if (t.getRawData().size() != bytes) {
                throw new FormatException(where + " has shape " + Tensor.format(shape) + " of " + type.dtype() + ", "
                        + bytes + " bytes, but its raw_data holds " + t.getRawData().size());
            }
            return fromBytes(t.getRawData().asReadOnlyByteBuffer(), type, shape);
        }
        if (typedCount != n) {
            throw new FormatException(where + " has shape " + Tensor.format(shape) + " (" + n + " elements) but "
                    + typedCount + " values in its " + typedField(type) + " field");
        }
        return fromTyped(t, type, shape, where);
    }

    /** The dims, each checked to be an int and their product to fit a Java array. */
    static int[] shape(TensorProto t, String where) {
        int[] shape = new int[t.getDimsCount()];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = t.getDims(i);
            if (d < 0 || d > MAX_ELEMENTS) {
                throw new FormatException(where + " has dimension " + d + " in its dims, not a size clrnn can hold");
            }
            shape[i] = (int) d;
            n = d == 0 ? 0 : n <= MAX_ELEMENTS / d ? n * d : MAX_ELEMENTS + 1;
        }
        if (n > MAX_ELEMENTS) {
            throw new FormatException(where + " has dims " + t.getDimsList()
                    + ", more elements than a Java array holds");
        }
        return shape;
    }

    private static int typedCount(TensorProto t) {
        return t.getFloatDataCount() + t.getInt32DataCount() + t.getInt64DataCount() + t.getDoubleDataCount()
                + t.getUint64DataCount() + t.getStringDataCount();
    }

    private static String typedField(ElementType type) {
        return switch (type) {
            case F32 -> "float_data";
            case F64 -> "double_data";
            case I64 -> "int64_data";
            case U32, U64 -> "uint64_data";
            default -> "int32_data";
        };
    }

    private static Value fromTyped(TensorProto t, ElementType type, int[] shape, String where) {
        int n = (int) Tensor.numel(shape);
        String expected = typedField(type);
        boolean ok = switch (type) {
            case F32 -> t.getFloatDataCount() == n;
            case F64 -> t.getDoubleDataCount() == n;
            case I64 -> t.getInt64DataCount() == n;
            case U32, U64 -> t.getUint64DataCount() == n;
            default -> t.getInt32DataCount() == n;
        };
        if (!ok) {
            throw new FormatException(where + " is " + type.dtype() + " but its values are not in " + expected);
        }
        if (type.isFloat()) {
            float[] data = new float[n];
            for (int i = 0; i < n; i++) {
                data[i] = switch (type) {
                    case F32 -> t.getFloatData(i);
                    case F64 -> (float) t.getDoubleData(i);
                    default -> type.widen((short) t.getInt32Data(i)); // float16 and bfloat16 keep their bits there
                };
            }
            return Value.of(Tensor.of(data, shape));
        }
        long[] data = new long[n];
        for (int i = 0; i < n; i++) {
            data[i] = switch (type) {
                case I64 -> t.getInt64Data(i);
                case U32, U64 -> t.getUint64Data(i);
                default -> type.wrap(t.getInt32Data(i));
            };
        }
        return Value.of(IntTensor.of(data, shape));
    }

    /** Little-endian elements of {@code type}; the caller has checked the byte count. */
    static Value fromBytes(ByteBuffer raw, ElementType type, int[] shape) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) Tensor.numel(shape);
        if (type.isFloat()) {
            return Value.of(Tensor.of(type.decode(b, n), shape));
        }
        long[] data = new long[n];
        for (int i = 0; i < n; i++) {
            data[i] = switch (type) {
                case U8, BOOL -> type.wrap(b.get());
                case I8 -> b.get();
                case U16 -> b.getShort() & 0xFFFF;
                case I16 -> b.getShort();
                case I32 -> b.getInt();
                case U32 -> b.getInt() & 0xFFFF_FFFFL;
                default -> b.getLong();
            };
        }
        return Value.of(IntTensor.of(data, shape));
    }

    /**
     * Reads external data: {@code location} relative to the model's folder and inside it (no absolute path,
     * no way out through '..' or a symbolic link), {@code offset} and {@code length} within the file, the
     * length that of the tensor.
     */
    private static ByteBuffer readExternal(TensorProto t, Path dir, String where, long bytes) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = number(e.getValue(), "offset", where);
                case "length" -> length = number(e.getValue(), "length", where);
                default -> { } // checksum and others: not needed to read the data
            }
        }
        if (location == null || location.isEmpty()) {
            throw new FormatException(where + " is external data without a location");
        }
        if (dir == null) {
            throw new FormatException(where + " is external data (" + FormatException.quote(location) + "), which clrnn reads "
                    + "only beside a model loaded from its file");
        }
        if (bytes > MAX_ELEMENTS) {
            throw new FormatException(where + " has " + bytes + " bytes of external data; clrnn reads tensors of "
                    + "at most 2 GiB");
        }
        Path file = externalPath(dir, location, where);
        try {
            long size = Files.size(file);
            if (length < 0) {
                length = size - Math.min(offset, size);
            }
            if (length != bytes) {
                throw new FormatException(where + " needs " + bytes + " bytes but its external data says length "
                        + length + " (" + FormatException.quote(location) + ")");
            }
            if (offset > size || size - offset < length) {
                throw new FormatException(where + ": external file " + FormatException.quote(location) + " has " + size
                        + " bytes, fewer than offset " + offset + " + length " + length);
            }
            ByteBuffer data = ByteBuffer.allocate((int) length);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                while (data.hasRemaining()) {
                    if (ch.read(data, offset + data.position()) < 0) {
                        throw new FormatException(where + ": external file " + FormatException.quote(location)
                                + " ended early");
                    }
                }
            }
            return data.flip();
        } catch (IOException e) {
            throw new FormatException(where + ": cannot read external data " + FormatException.quote(location) + ": " + e, e);
        }
    }

    /** The external file, checked to lie inside {@code dir} by name and after following links. */
    static Path externalPath(Path dir, String location, String where) {
        Path rel;
        try {
            rel = Path.of(location);
        } catch (InvalidPathException e) {
            throw new FormatException(where + ": external data location " + FormatException.quote(location) + " is not a path");
        }
        if (rel.isAbsolute() || rel.getRoot() != null || location.startsWith("/") || location.startsWith("\\")
                || location.matches("^[A-Za-z]:.*")) {
            throw new FormatException(where + ": external data location " + FormatException.quote(location)
                    + " is absolute; ONNX external data lives beside the model, named relative to it");
        }
        Path base = dir.toAbsolutePath().normalize();
        Path file = base.resolve(rel).normalize();
        if (!file.startsWith(base) || file.equals(base)) {
            throw new FormatException(where + ": external data location " + FormatException.quote(location)
                    + " leads outside the model's folder");
        }
        try {
            if (!Files.isRegularFile(file)) {
                throw new FormatException(where + ": external data file " + FormatException.quote(location)
                        + " is missing beside the model (or not a file)");
            }
            if (!file.toRealPath().startsWith(base.toRealPath())) {
                throw new FormatException(where + ": external data location " + FormatException.quote(location)
                        + " is a link that leads outside the model's folder");
            }
            if (!Files.isReadable(file) || Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new FormatException(where + ": cannot read external data file " + FormatException.quote(location));
            }
        } catch (IOException e) {
            throw new FormatException(where + ": cannot read external data " + FormatException.quote(location) + ": " + e, e);
        }
        return file;
    }

    private static long number(String s, String key, String where) {
        try {
            long v = Long.parseLong(s.trim());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new FormatException(where + ": external data " + key + " " + FormatException.quote(s) + " is not a byte count");
    }
}
