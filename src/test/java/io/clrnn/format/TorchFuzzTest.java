package io.clrnn.format;

import io.clrnn.base.Half;
import io.clrnn.base.Tensor;
import io.clrnn.format.FormatFuzzTest.Mutation;
import io.clrnn.format.TorchFixtures.Pickle;
import io.clrnn.format.TorchFixtures.Zip;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jqwik properties for the unpickler, TorchFile and WeightFile.open: whatever bytes come in, the
 * answer is a file (whose tensors then read) or a one-line FormatException, within seconds;
 * no other exception or error ever escapes. Valid random views also read exactly as their index
 * arithmetic says. (jqwik only; the Jupiter tests live in other classes.)
 */
class TorchFuzzTest {
    private static final List<String> FIXTURES = List.of("lstm.pt", "checkpoint.pt", "views.pt", "prefixed.pt",
            "deflated.pt", "bigendian.pt", "legacy.pt", "legacy_lstm.pt", "module.pt", "evil_system.pt");
    private static final List<String> ZIP_FIXTURES = List.of("lstm.pt", "checkpoint.pt", "views.pt", "prefixed.pt");
    private static final Duration QUICKLY = Duration.ofSeconds(5);
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    @Property(tries = 2000)
    void unpicklerRandomBytes(@ForAll @Size(max = 300) byte[] bytes) {
        byte[] pkl = FormatFixtures.concat(new byte[] {(byte) 0x80, 2}, bytes);
        expectOnlyFormatException(() -> new Unpickler(pkl, 0, pkl.length, "fuzz.pkl", "pickle", new TorchGlobals(100),
                Unpickler.Limits.DEFAULT).load());
    }

    @Property(tries = 3000)
    void opcodeSoupThroughTheWholeReader(@ForAll("opcodeSoup") byte[] pkl, @ForAll boolean bigEndian) {
        // Storages under the keys the soup names, so that some tensors do get built and read.
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("0", new byte[16]);
        storages.put("1", new byte[64]);
        Zip zip = new Zip().stored("archive/data.pkl", pkl);
        storages.forEach((k, v) -> zip.stored("archive/data/" + k, v));
        if (bigEndian) {
            zip.stored("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        }
        readAll(zip.build());
    }

    @Property(tries = 2000)
    void mutatedTorchFiles(@ForAll("fixtures") String file, @ForAll("mutations") List<Mutation> mutations) {
        byte[] bytes = fixture(file);
        for (Mutation m : mutations) {
            // Kind 4 nudges a length field: for zips, the central directory offset in the end record.
            bytes = m.apply(bytes, Math.max(0, bytes.length - 6), 4);
        }
        readAll(bytes);
    }

    @Property(tries = 2000)
    void mutatedPicklesInSoundZips(@ForAll("zipFixtures") String file, @ForAll("mutations") List<Mutation> mutations) {
        Map<String, byte[]> entries = TorchFixtures.unzip(fixture(file));
        String folder = file.substring(0, file.length() - 3) + "/";
        byte[] pkl = entries.get(folder + "data.pkl");
        for (Mutation m : mutations) {
            // Kind 4 nudges the length of the first string, the first key of the dict.
            pkl = m.apply(pkl, Math.min(pkl.length, 35), 4);
        }
        Zip zip = new Zip().stored("archive/data.pkl", pkl);
        entries.forEach((name, data) -> {
            if (name.startsWith(folder + "data/")) {
                zip.stored("archive/" + name.substring(folder.length()), data);
            }
        });
        readAll(zip.build());
    }

    @Property(tries = 2000)
    void randomBytesBehindEachMagic(@ForAll("magics") byte[] magic, @ForAll @Size(max = 300) byte[] rest) {
        readAll(FormatFixtures.concat(magic, rest));
    }

    @Property(tries = 1000)
    void stridedViewsReadAsTheirIndexArithmeticSays(
            @ForAll @Size(max = 3) List<@IntRange(max = 4) Integer> shape,
            @ForAll @Size(max = 3) List<@IntRange(max = 6) Integer> strides,
            @ForAll @IntRange(max = 12) int offset, @ForAll @IntRange(max = 64) int numel,
            @ForAll("storageTypes") String type, @ForAll boolean bigEndian) {
        int rank = Math.min(shape.size(), strides.size());
        long[] size = new long[rank];
        long[] stride = new long[rank];
        for (int i = 0; i < rank; i++) {
            size[i] = shape.get(i);
            stride[i] = strides.get(i);
        }
        byte[] pkl = new Pickle().proto(2).op('}').str("v").tensor(type, "0", numel, offset, size, stride).op('s').stop();
        ByteOrder order = bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        Zip zip = new Zip().stored("archive/data.pkl", pkl).stored("archive/data/0", storage(type, numel, order));
        if (bigEndian) {
            zip.stored("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        }
        byte[] file = zip.build();

        // The oracle: element (i, j, k) is storage[offset + i*stride0 + j*stride1 + k*stride2], and
        // the storage holds its own indices, which every float type holds exactly.
        int count = 1;
        long last = offset;
        for (int i = 0; i < rank; i++) {
            count *= size[i];
            last += (size[i] - 1) * stride[i];
        }
        boolean fits = count == 0 || last < numel;
        float[] expected = new float[count];
        int[] index = new int[rank];
        for (int k = 0; k < count; k++) {
            long at = offset;
            for (int i = 0; i < rank; i++) {
                at += index[i] * stride[i];
            }
            expected[k] = at;
            for (int d = rank - 1; d >= 0 && ++index[d] == size[d]; d--) {
                index[d] = 0;
            }
        }
        try {
            Tensor t = WeightFile.open(file, "view.pt").tensor("v");
            assertTrue(fits, "read a view that does not fit its storage");
            assertArrayEquals(expected, t.data());
        } catch (FormatException e) {
            assertFalse(fits, e.getMessage());
            assertTrue(e.getMessage().contains("reaches element"), e.getMessage());
        }
    }

    /** Opens, then reads every floating-point tensor; a FormatException is fine, anything else fails. */
    private static void readAll(byte[] bytes) {
        expectOnlyFormatException(() -> TorchFixtures.readAll(bytes, "fuzz.pt"));
    }

    private static void expectOnlyFormatException(java.util.concurrent.Callable<?> reader) {
        assertTimeoutPreemptively(QUICKLY, () -> {
            try {
                reader.call();
            } catch (FormatException e) {
                String m = e.getMessage();
                assertFalse(m == null || m.isBlank() || m.contains("\n") || m.contains("\r"), "bad message: " + m);
                assertTrue(m.startsWith("fuzz."), "message does not name the file: " + m);
            }
        });
    }

    private static byte[] fixture(String name) {
        return CACHE.computeIfAbsent(name, TorchFixtures::bytes).clone();
    }

    /** A storage of {@code numel} elements of the type, each holding its own index. */
    private static byte[] storage(String type, int numel, ByteOrder order) {
        int size = switch (type) {
            case "DoubleStorage" -> 8;
            case "HalfStorage", "BFloat16Storage" -> 2;
            default -> 4;
        };
        ByteBuffer b = ByteBuffer.allocate(numel * size).order(order);
        for (int i = 0; i < numel; i++) {
            switch (type) {
                case "DoubleStorage" -> b.putDouble(i);
                case "HalfStorage" -> b.putShort(Half.fromFloat(i)); // exact: i < numel <= 64
                case "BFloat16Storage" -> b.putShort((short) (Float.floatToIntBits(i) >>> 16));
                default -> b.putFloat(i);
            }
        }
        return b.array();
    }

    @Provide
    Arbitrary<String> fixtures() {
        return Arbitraries.of(FIXTURES);
    }

    @Provide
    Arbitrary<String> zipFixtures() {
        return Arbitraries.of(ZIP_FIXTURES);
    }

    @Provide
    Arbitrary<String> storageTypes() {
        return Arbitraries.of("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage");
    }

    @Provide
    Arbitrary<byte[]> magics() {
        return Arbitraries.of(new byte[] {'P', 'K', 3, 4}, new byte[] {'P', 'K', 5, 6},
                new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
                    0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e},
                new byte[] {(byte) 0x80, 2}, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{'}, new byte[] {0x08, 0x07}, new byte[0]);
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.lists();
    }

    /**
     * Pickles made of the fragments torch files are made of: every opcode clrnn reads, with small
     * arguments, the allowed globals and a refused one, and a STOP at the end, so that the
     * machine gets deep into its paths rather than failing on the first byte.
     */
    @Provide
    Arbitrary<byte[]> opcodeSoup() {
        List<byte[]> fragments = new ArrayList<>();
        for (String s : List.of("}", "]", ")", "(", "t", "N", "s", "u", "a", "e", "b", "R", "Q", ".")) {
            fragments.add(s.getBytes(StandardCharsets.ISO_8859_1));
        }
        for (int op : new int[] {0x85, 0x86, 0x87, 0x88, 0x89, 0x93, 0x94}) {
            fragments.add(new byte[] {(byte) op});
        }
        for (int i = 0; i < 4; i++) {
            fragments.add(new byte[] {'K', (byte) i});
            fragments.add(new byte[] {'q', (byte) i});
            fragments.add(new byte[] {'h', (byte) i});
        }
        fragments.add(new byte[] {'J', -1, -1, -1, -1});
        fragments.add(new byte[] {'M', 0, 1});
        fragments.add(new byte[] {(byte) 0x8a, 1, 5});
        fragments.add(new byte[] {'G', 63, -16, 0, 0, 0, 0, 0, 0});
        fragments.add(new byte[] {'r', 1, 0, 0, 0});
        fragments.add(new byte[] {'j', 1, 0, 0, 0});
        fragments.add(new byte[] {(byte) 0x95, 4, 0, 0, 0, 0, 0, 0, 0});
        for (String s : List.of("storage", "cpu", "0", "1", "weight", "a.b")) {
            fragments.add(new Pickle().str(s).bytes());
            fragments.add(new Pickle().op(0x8c, s.length()).op(s.chars().toArray()).bytes());
        }
        for (String[] g : List.of(new String[] {"collections", "OrderedDict"},
                new String[] {"torch._utils", "_rebuild_tensor_v2"}, new String[] {"torch._utils", "_rebuild_parameter"},
                new String[] {"torch", "FloatStorage"}, new String[] {"torch", "LongStorage"}, new String[] {"torch", "Size"},
                new String[] {"torch", "device"}, new String[] {"_codecs", "encode"}, new String[] {"os", "system"})) {
            fragments.add(new Pickle().global(g[0], g[1]).bytes());
        }
        // Whole tensors and storage records now and then, so that the rebuild paths get exercised.
        fragments.add(new Pickle().storage("FloatStorage", "0", 4).bytes());
        fragments.add(new Pickle().tensor("FloatStorage", "1", 16, 2, new long[] {2, 3}, new long[] {1, 2}).bytes());
        fragments.add(new Pickle().tensor("LongStorage", "1", 8, 0, new long[] {8}, new long[] {1}).bytes());
        Arbitrary<byte[]> fragment = Arbitraries.of(fragments);
        return fragment.list().ofMaxSize(60).map(list -> {
            Pickle p = new Pickle().proto(2);
            list.forEach(f -> p.op(toInts(f)));
            return p.stop();
        });
    }

    private static int[] toInts(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xFF;
        }
        return out;
    }
}
