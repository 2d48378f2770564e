package io.clrnn.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * For torch tests: the files scripts/make-torch-fixtures.py wrote, and builders for pickles and
 * zips written without the code under test, byte by byte, so that hostile ones can lie freely.
 */
final class TorchFixtures {
    private TorchFixtures() {}

    /** A file under src/test/resources/torch. */
    static Path resource(String name) {
        return io.clrnn.TestResources.path("torch/" + name);
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(resource(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode manifest() {
        try {
            return new ObjectMapper().readTree(resource("manifest.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A zip's entries, read with the JDK's ZipFile, in order. (Its ZipInputStream refuses torch's
     * STORED entries, which carry the data-descriptor flag.)
     */
    static Map<String, byte[]> unzip(byte[] zip) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try {
            Path tmp = Files.createTempFile("clrnn-unzip", ".zip");
            try (ZipFile z = new ZipFile(Files.write(tmp, zip).toFile())) {
                for (ZipEntry e : java.util.Collections.list(z.entries())) {
                    try (InputStream in = z.getInputStream(e)) {
                        out.put(e.getName(), in.readAllBytes());
                    }
                }
            } finally {
                Files.delete(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** A torch.save-style zip: archive/data.pkl, archive/data/<key> for each storage, archive/version. */
    static byte[] torchZip(byte[] dataPkl, Map<String, byte[]> storages) {
        Zip z = new Zip().stored("archive/data.pkl", dataPkl);
        storages.forEach((key, data) -> z.stored("archive/data/" + key, data));
        return z.stored("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII)).build();
    }

    private static final Set<String> FLOATS = Set.of("float32", "float16", "bfloat16", "float64");

    /** Opens {@code bytes} as the file {@code name} and reads every floating-point tensor, as a model loader would. */
    static WeightFile readAll(byte[] bytes, String name) {
        WeightFile w = WeightFile.open(bytes, name);
        for (WeightFile.Entry e : w.entries()) {
            if (FLOATS.contains(e.dtype())) {
                w.tensor(e.name());
            }
        }
        return w;
    }

    /** A zip written field by field, every size and checksum as the caller says. */
    static final class Zip {
        private record Item(String name, int method, byte[] payload, long size, long compressedSize, int crc, int flags) {}

        private final List<Item> items = new ArrayList<>();

        Zip stored(String name, byte[] data) {
            return raw(name, 0, data, data.length, data.length, crc(data), 0);
        }

        Zip deflated(String name, byte[] data) {
            byte[] packed = deflate(data);
            return raw(name, 8, packed, data.length, packed.length, crc(data), 0);
        }

        /** An entry whose headers say what they are told, whatever the payload holds. */
        Zip raw(String name, int method, byte[] payload, long size, long compressedSize, int crc, int flags) {
            items.add(new Item(name, method, payload, size, compressedSize, crc, flags));
            return this;
        }

        byte[] build() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            List<Integer> offsets = new ArrayList<>();
            for (Item i : items) {
                offsets.add(out.size());
                byte[] name = i.name.getBytes(StandardCharsets.UTF_8);
                ByteBuffer h = le(30 + name.length);
                h.putInt(0x04034b50).putShort((short) 20).putShort((short) i.flags).putShort((short) i.method)
                        .putInt(0).putInt(i.crc).putInt((int) i.compressedSize).putInt((int) i.size)
                        .putShort((short) name.length).putShort((short) 0).put(name);
                out.writeBytes(h.array());
                out.writeBytes(i.payload);
            }
            int cdStart = out.size();
            for (int k = 0; k < items.size(); k++) {
                Item i = items.get(k);
                byte[] name = i.name.getBytes(StandardCharsets.UTF_8);
                ByteBuffer h = le(46 + name.length);
                h.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) i.flags)
                        .putShort((short) i.method).putInt(0).putInt(i.crc).putInt((int) i.compressedSize)
                        .putInt((int) i.size).putShort((short) name.length).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt(0).putInt(offsets.get(k)).put(name);
                out.writeBytes(h.array());
            }
            int cdSize = out.size() - cdStart;
            ByteBuffer end = le(22);
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) items.size())
                    .putShort((short) items.size()).putInt(cdSize).putInt(cdStart).putShort((short) 0);
            out.writeBytes(end.array());
            return out.toByteArray();
        }

        static int crc(byte[] data) {
            CRC32 c = new CRC32();
            c.update(data);
            return (int) c.getValue();
        }

        static byte[] deflate(byte[] data) {
            Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
            d.setInput(data);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            while (!d.finished()) {
                out.write(buf, 0, d.deflate(buf));
            }
            d.end();
            return out.toByteArray();
        }

        private static ByteBuffer le(int n) {
            return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** A pickle written opcode by opcode. */
    static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        Pickle proto(int version) {
            return op(0x80, version);
        }

        Pickle global(String module, String name) {
            out.write('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.write('X');
            out.writeBytes(le32(b.length));
            out.writeBytes(b);
            return this;
        }

        /** BINUNICODE with a claimed length and no text behind it. */
        Pickle strClaiming(long length) {
            out.write('X');
            out.writeBytes(le32((int) length));
            return this;
        }

        Pickle integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K', (int) v);
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                out.write('J');
                out.writeBytes(le32((int) v));
                return this;
            }
            out.write(0x8a);
            out.write(8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        /** A tuple of ints, as torch writes sizes and strides. */
        Pickle ints(long... values) {
            mark();
            for (long v : values) {
                integer(v);
            }
            return op('t');
        }

        Pickle mark() {
            return op('(');
        }

        Pickle put(int memo) {
            return op('q', memo);
        }

        Pickle get(int memo) {
            return op('h', memo);
        }

        /** torch's persistent id of a storage: ('storage', torch.<type>, key, 'cpu', numel), then BINPERSID. */
        Pickle storage(String type, String key, long numel) {
            mark().str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t');
            return op('Q');
        }

        /** _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()), as torch.save writes a tensor. */
        Pickle tensor(String type, String key, long numel, long offset, long[] size, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").mark();
            storage(type, key, numel).integer(offset).ints(size).ints(stride).op(0x89);
            return global("collections", "OrderedDict").op(')', 'R', 't', 'R');
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        /** The pickle so far, with STOP. */
        byte[] stop() {
            return op('.').bytes();
        }

        private static byte[] le32(int v) {
            return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
        }
    }

    /** Little-endian float32 bytes. */
    static byte[] f32(float... values) {
        return FormatFixtures.f32(ByteOrder.LITTLE_ENDIAN, values);
    }
}
