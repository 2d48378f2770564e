package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.clrnn.base.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * jqwik properties: whatever bytes come in, a reader either succeeds or throws FormatException
 * with a one-line message; no other exception ever escapes. (jqwik only; the Jupiter tests live
 * in other classes.)
 */
class FormatFuzzTest {
    private static final List<String> NPY_DESCRS = List.of("<f4", ">f4", "=f4", "<f8", ">f8", "<f2", ">f2");
    private static final List<String> ST_DTYPES = List.of("F32", "F16", "BF16", "F64");

    /** One edit to a valid file; positions and lengths are reduced modulo the file length. */
    record Mutation(int kind, int position, int value) {
        /** One to four random mutations: the provider behind each fuzz class's "mutations". */
        static Arbitrary<List<Mutation>> lists() {
            Arbitrary<Mutation> one = Combinators.combine(
                    Arbitraries.integers().between(0, 4),
                    Arbitraries.integers().between(0, 1_000_000),
                    Arbitraries.integers().between(Integer.MIN_VALUE, Integer.MAX_VALUE)).as(Mutation::new);
            return one.list().ofMinSize(1).ofMaxSize(4);
        }

        byte[] apply(byte[] in, int lengthFieldOffset, int lengthFieldSize) {
            int n = in.length;
            switch (kind) {
                case 0: // flip one byte
                    if (n > 0) {
                        byte[] out = in.clone();
                        out[position % n] ^= (byte) (value | 1);
                        return out;
                    }
                    return in;
                case 1: // truncate
                    return Arrays.copyOf(in, position % (n + 1));
                case 2: // append bytes
                    byte[] out = Arrays.copyOf(in, n + 1 + position % 16);
                    Arrays.fill(out, n, out.length, (byte) value);
                    return out;
                case 3: // delete one byte
                    if (n == 0) {
                        return in;
                    }
                    int at = position % n;
                    byte[] shorter = new byte[n - 1];
                    System.arraycopy(in, 0, shorter, 0, at);
                    System.arraycopy(in, at + 1, shorter, at, n - at - 1);
                    return shorter;
                default: // change the header length field: a small nudge or an arbitrary value
                    if (n < lengthFieldOffset + lengthFieldSize) {
                        return in;
                    }
                    byte[] changed = in.clone();
                    ByteBuffer b = ByteBuffer.wrap(changed).order(ByteOrder.LITTLE_ENDIAN);
                    long delta = position % 2 == 0 ? value % 9 - 4 : value;
                    switch (lengthFieldSize) {
                        case 2 -> b.putShort(lengthFieldOffset, (short) (b.getShort(lengthFieldOffset) + delta));
                        case 4 -> b.putInt(lengthFieldOffset, (int) (b.getInt(lengthFieldOffset) + delta));
                        default -> b.putLong(lengthFieldOffset, position % 4 == 1 ? (long) value << 32 | value
                                : b.getLong(lengthFieldOffset) + delta);
                    }
                    return changed;
            }
        }
    }

    @Property(tries = 2000)
    void npyRandomBytes(@ForAll @Size(max = 300) byte[] bytes) {
        readNpy(bytes);
    }

    @Property(tries = 2000)
    void npyRandomBytesAfterAValidPreamble(@ForAll @Size(max = 300) byte[] rest, @ForAll("versions") int major) {
        readNpy(FormatFixtures.concat(FormatFixtures.NPY_MAGIC, new byte[] {(byte) major, 0}, rest));
    }

    @Property(tries = 2000)
    void npyRandomHeaderText(@ForAll("npyHeaderText") String dict, @ForAll @Size(max = 64) byte[] data) {
        readNpy(FormatFixtures.npy(1, dict, data));
    }

    @Property(tries = 2000)
    void npyMutated(@ForAll("validNpy") byte[] file, @ForAll("mutations") List<Mutation> mutations) {
        int major = file[6];
        byte[] bytes = file;
        for (Mutation m : mutations) {
            bytes = m.apply(bytes, 8, major == 1 ? 2 : 4);
        }
        readNpy(bytes);
    }

    @Property(tries = 2000)
    void safetensorsRandomBytes(@ForAll @Size(max = 300) byte[] bytes) {
        readSafetensors(bytes);
    }

    @Property(tries = 2000)
    void safetensorsRandomBytesBehindAPlausibleLength(@ForAll @Size(max = 300) byte[] rest) {
        long n = rest.length == 0 ? 0 : (rest[0] & 0xFF) % (rest.length + 1);
        readSafetensors(FormatFixtures.safetensors(n, rest, new byte[0]));
    }

    @Property(tries = 2000)
    void safetensorsMutated(@ForAll("validSafetensors") byte[] file, @ForAll("mutations") List<Mutation> mutations) {
        byte[] bytes = file;
        for (Mutation m : mutations) {
            bytes = m.apply(bytes, 0, 8);
        }
        readSafetensors(bytes);
    }

    @Property(tries = 300)
    void writtenFilesReadBack(@ForAll("tensors") Tensor t) {
        Tensor npy = Npy.read(Npy.toBytes(t), "t.npy");
        assertArrayEquals(t.shape(), npy.shape());
        assertArrayEquals(t.data(), npy.data());
        Tensor st = Safetensors.read(Safetensors.toBytes(Map.of("t", t), Map.of("k", "v")), "t.safetensors").get("t");
        assertArrayEquals(t.shape(), st.shape());
        assertArrayEquals(t.data(), st.data());
    }

    @Property(tries = 1000)
    void validGeneratedFilesRead(@ForAll("validNpy") byte[] npy, @ForAll("validSafetensors") byte[] st) {
        Npy.read(npy, "ok.npy");
        Safetensors.read(st, "ok.safetensors");
    }

    private static void readNpy(byte[] bytes) {
        expectOnlyFormatException(b -> Npy.read(b, "fuzz.npy"), bytes);
    }

    private static void readSafetensors(byte[] bytes) {
        expectOnlyFormatException(b -> Safetensors.read(b, "fuzz.safetensors"), bytes);
    }

    /** Success, or a FormatException with a non-empty one-line message; anything else fails the property. */
    private static void expectOnlyFormatException(Function<byte[], ?> reader, byte[] bytes) {
        try {
            reader.apply(bytes);
        } catch (FormatException e) {
            String m = e.getMessage();
            assertFalse(m == null || m.isBlank() || m.contains("\n") || m.contains("\r"), "bad message: " + m);
        }
    }

    @Provide
    Arbitrary<Integer> versions() {
        return Arbitraries.of(1, 2, 3);
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.lists();
    }

    /** Header-like text built from the tokens a header is made of, so the parser sees near misses. */
    @Provide
    Arbitrary<String> npyHeaderText() {
        Arbitrary<String> token = Arbitraries.of("{", "}", "(", ")", "[", "]", ",", ":", " ", "'descr'", "'shape'",
                "'fortran_order'", "'<f4'", "\"<f8\"", "True", "False", "None", "0", "3", "-1", "007",
                "99999999999999999999", "'", "\"", "\\", "1.5", "x", "\n", "\u00e9");
        return token.list().ofMaxSize(40).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Arbitraries.integers().between(0, 4).array(int[].class).ofMaxSize(4);
    }

    @Provide
    Arbitrary<Tensor> tensors() {
        return shapes().flatMap(shape -> Arbitraries.floats().array(float[].class)
                .ofSize((int) Tensor.numel(shape)).map(data -> Tensor.of(data, shape)));
    }

    @Provide
    Arbitrary<byte[]> validNpy() {
        return Combinators.combine(Arbitraries.of(1, 2, 3), Arbitraries.of(NPY_DESCRS), Arbitraries.of(true, false), shapes())
                .flatAs((major, descr, fortran, shape) -> {
                    int size = descr.charAt(2) - '0';
                    int bytes = (int) Tensor.numel(shape) * size;
                    return Arbitraries.bytes().array(byte[].class).ofSize(bytes).map(data ->
                            FormatFixtures.npy(major, FormatFixtures.npyDict(descr, fortran, pyShape(shape)), data));
                });
    }

    @Provide
    Arbitrary<byte[]> validSafetensors() {
        Arbitrary<String> dtype = Arbitraries.of(ST_DTYPES);
        Arbitrary<Map.Entry<String, int[]>> tensor = Combinators.combine(dtype, shapes()).as(Map::entry);
        return Combinators.combine(tensor.list().ofMaxSize(3), Arbitraries.of(true, false))
                .flatAs((tensors, withMetadata) -> {
                    StringBuilder json = new StringBuilder("{");
                    if (withMetadata) {
                        json.append("\"__metadata__\":{\"format\":\"pt\"}");
                    }
                    long offset = 0;
                    Map<String, String> seen = new LinkedHashMap<>();
                    for (Map.Entry<String, int[]> t : tensors) {
                        String name = "t" + seen.size();
                        seen.put(name, t.getKey());
                        int size = Map.of("F32", 4, "F16", 2, "BF16", 2, "F64", 8).get(t.getKey());
                        long end = offset + Tensor.numel(t.getValue()) * size;
                        json.append(json.length() > 1 ? "," : "").append('"').append(name).append("\":{\"dtype\":\"")
                                .append(t.getKey()).append("\",\"shape\":").append(Arrays.toString(t.getValue()))
                                .append(",\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
                        offset = end;
                    }
                    String header = json.append('}').toString();
                    return Arbitraries.bytes().array(byte[].class).ofSize((int) offset)
                            .map(data -> FormatFixtures.safetensors(header, data));
                });
    }

    private static String pyShape(int[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? ", " : "").append(shape[i]);
        }
        return b.append(')').toString();
    }
}
