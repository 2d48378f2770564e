package io.clrnn.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Hand-built .npy and safetensors bytes for tests, written without the code under test. */
final class FormatFixtures {
    static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private FormatFixtures() {}

    /** {@code {'descr': ..., 'fortran_order': ..., 'shape': ..., }} as numpy writes it. */
    static String npyDict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False")
                + ", 'shape': " + shape + ", }";
    }

    /** A .npy file of the given version with {@code dict} padded numpy-style (spaces, '\n', 64-aligned). */
    static byte[] npy(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        byte[] text = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int pad = 64 - ((prefix + text.length + 1) % 64);
        byte[] header = new byte[text.length + pad + 1];
        System.arraycopy(text, 0, header, 0, text.length);
        java.util.Arrays.fill(header, text.length, header.length - 1, (byte) ' ');
        header[header.length - 1] = '\n';
        return npyRaw(major, 0, header.length, header, data);
    }

    /** A .npy file with every part given as is: version, claimed header length, header bytes, data. */
    static byte[] npyRaw(int major, int minor, long claimedHeaderLength, byte[] header, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + lengthBytes + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NPY_MAGIC).put((byte) major).put((byte) minor);
        if (lengthBytes == 2) {
            b.putShort((short) claimedHeaderLength);
        } else {
            b.putInt((int) claimedHeaderLength);
        }
        return b.put(header).put(data).array();
    }

    /** A safetensors file: claimed header length, the JSON text as UTF-8, then the data buffer. */
    static byte[] safetensors(long claimedHeaderLength, byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(claimedHeaderLength).put(header).put(data).array();
    }

    static byte[] safetensors(String json, byte[] data) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return safetensors(header.length, header, data);
    }

    static byte[] f32(ByteOrder order, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(order);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] f64(ByteOrder order, double... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(order);
        for (double v : values) {
            b.putDouble(v);
        }
        return b.array();
    }

    /** 16-bit patterns (f16 or bf16 bits), in the given byte order. */
    static byte[] u16(ByteOrder order, int... bits) {
        ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(order);
        for (int v : bits) {
            b.putShort((short) v);
        }
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
