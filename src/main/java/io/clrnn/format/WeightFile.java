package io.clrnn.format;

import io.clrnn.base.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** A weights file opened for reading: what it holds, and each floating-point tensor on demand. */
public interface WeightFile {
    /** What the file is, in words: "safetensors", "torch.save zip", "torch.save legacy". */
    String format();

    /** Every tensor, in file order (state_dict order for torch files), of every dtype. */
    List<Entry> entries();

    /**
     * A float32 copy of the tensor in C order; a one-line FormatException naming the file and the
     * key when there is no such tensor or it is not of a floating-point dtype.
     */
    Tensor tensor(String name);

    /** One tensor: its name, its dtype in torch's words (float32, int64, bool, ...) and its shape. */
    record Entry(String name, String dtype, int[] shape) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && name.equals(e.name) && dtype.equals(e.dtype) && Arrays.equals(shape, e.shape);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, dtype, Arrays.hashCode(shape));
        }

        @Override
        public String toString() {
            return name + " " + dtype + " " + Tensor.format(shape);
        }
    }

    /** What a file's first bytes say it is. Only the first three are weights files {@link #open} reads. */
    enum Kind {
        SAFETENSORS, TORCH_ZIP, TORCH_LEGACY,
        /** A pickle that is not a torch.save file. */
        PICKLE,
        /**
         * Probably an ONNX model (a protobuf whose first field is ir_version, tag byte 0x08). It is
         * not a weights file: the ONNX reader is the place for it, and callers should ask
         * {@link #detect} before {@link #open} when they take ONNX too.
         */
        ONNX,
        NPY, UNKNOWN;

        // zip local file header; an empty zip holds only the end record.
        private static final byte[] ZIP = {'P', 'K', 3, 4};
        private static final byte[] EMPTY_ZIP = {'P', 'K', 5, 6};
        // What every legacy torch.save file starts with: a pickle of torch's magic number
        // 0x1950a86a20f9469cfc6c as LONG1, little-endian, after PROTO (and a FRAME from protocol 4 on).
        private static final byte[] LEGACY = {(byte) 0x8a, 10,
            0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};
        private static final int FRAME = 0x95;
        private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

        /** The first bytes to pass to {@link #of}. */
        public static final int HEAD = 24;

        /** The kind of a file from its first bytes: {@code head} holds at least HEAD of them, or the whole file. */
        public static Kind of(byte[] head) {
            if (startsWith(head, ZIP) || startsWith(head, EMPTY_ZIP)) {
                return TORCH_ZIP;
            }
            // First: a header length whose low byte is 0x80 looks like a pickle's PROTO opcode.
            // A header length below 2^32 (the format caps it far lower) and the JSON object's brace.
            // The length is not checked against the size here, so a truncated file gets the
            // safetensors reader's precise message rather than "not a weights file".
            if (head.length >= 9 && head[8] == '{'
                    && ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(4) == 0) {
                return SAFETENSORS;
            }
            if (head.length >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
                int at = head.length > 2 && (head[2] & 0xFF) == FRAME ? 11 : 2;
                return startsWith(head, at, LEGACY) ? TORCH_LEGACY : PICKLE;
            }
            if (startsWith(head, NPY_MAGIC)) {
                return NPY;
            }
            // ONNX hook: a ModelProto opens with field 1 (ir_version, a varint), tag 0x08, and a
            // small version number. Weak on its own, so it is tried last.
            if (head.length >= 2 && head[0] == 0x08 && head[1] > 0 && head[1] < 0x40) {
                return ONNX;
            }
            return UNKNOWN;
        }

        private static boolean startsWith(byte[] head, byte[] prefix) {
            return startsWith(head, 0, prefix);
        }

        private static boolean startsWith(byte[] head, int at, byte[] prefix) {
            return head.length >= at + prefix.length && Arrays.equals(head, at, at + prefix.length, prefix, 0, prefix.length);
        }
    }

    /** The kind of file at {@code path}, from its first bytes. */
    static Kind detect(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return Kind.of(in.readNBytes(Kind.HEAD));
        }
    }

    /**
     * Opens a safetensors or torch.save file, telling them apart by content, not by extension.
     * Anything else is refused with one line that says what clrnn reads.
     */
    static WeightFile open(Path path) throws IOException {
        return open(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    /** {@link #open(Path)} for bytes in memory; {@code name} starts every error message. */
    static WeightFile open(byte[] bytes, String name) {
        Kind kind = Kind.of(bytes);
        return switch (kind) {
            case SAFETENSORS -> Safetensors.open(bytes, name);
            case TORCH_ZIP, TORCH_LEGACY -> TorchFile.open(bytes, name);
            case PICKLE -> throw FormatException.of(name, "a pickle that is not a torch.save file; clrnn reads "
                    + "torch.save files (the zip format of PyTorch 1.6 and later, or the legacy one) and safetensors");
            case ONNX -> throw FormatException.of(name, "looks like an ONNX model, not a weights file; "
                    + "clrnn reads weights from torch.save files (.pt, .pth) and safetensors");
            case NPY -> throw FormatException.of(name, "a .npy array, not a weights file; "
                    + "clrnn reads weights from torch.save files (.pt, .pth) and safetensors");
            case UNKNOWN -> throw FormatException.of(name, "not a weights file clrnn reads: "
                    + "expected a torch.save file (.pt, .pth) or safetensors");
        };
    }
}
