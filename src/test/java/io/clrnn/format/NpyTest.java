package io.clrnn.format;

import static io.clrnn.format.FormatFixtures.f32;
import static io.clrnn.format.FormatFixtures.f64;
import static io.clrnn.format.FormatFixtures.npy;
import static io.clrnn.format.FormatFixtures.npyDict;
import static io.clrnn.format.FormatFixtures.u16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.Tensor;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Npy against hand-built files with known values, and write/read round trips. */
class NpyTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private static final float[] ONE_TO_SIX = {1, 2, 3, 4, 5, 6};

    @TempDir
    Path dir;

    static Stream<int[]> shapes() {
        return Stream.of(new int[] {}, new int[] {1}, new int[] {5}, new int[] {0}, new int[] {2, 3},
                new int[] {3, 0, 2}, new int[] {2, 3, 4}, new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void roundTripThroughAFile(int[] shape) throws Exception {
        Tensor t = counting(shape);
        Path p = dir.resolve("t.npy");
        Npy.write(p, t);
        Tensor back = Npy.read(p);
        assertArrayEquals(shape, back.shape());
        assertArrayEquals(t.data(), back.data());
    }

    @Test
    void roundTripKeepsSpecialValuesBitForBit() {
        float[] v = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE};
        Tensor back = Npy.read(Npy.toBytes(Tensor.of(v, 6)), "x.npy");
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(back.data()[i]));
        }
    }

    @Test
    void writesWhatNumpySaveWrites() {
        // np.save(np.array([[1, 2, 3], [4, 5, 6]], dtype='<f4')): a 118-byte header with numpy's
        // growth room after the shape, the whole preamble 128 bytes.
        byte[] bytes = Npy.toBytes(Tensor.of(ONE_TO_SIX, 2, 3));
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " ".repeat(58) + "\n";
        assertEquals(128 + 24, bytes.length);
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0}, Arrays.copyOf(bytes, 10));
        assertEquals(header, new String(bytes, 10, 118, StandardCharsets.US_ASCII));
        assertArrayEquals(f32(LE, ONE_TO_SIX), Arrays.copyOfRange(bytes, 128, bytes.length));
    }

    @Test
    void scalarHeaderHasNoGrowthRoomAndOneDimensionalHasATrailingComma() {
        String scalar = new String(Npy.toBytes(Tensor.of(new float[] {2.5f})), StandardCharsets.US_ASCII);
        assertTrue(scalar.contains("'shape': (), }" + " ".repeat(62) + "\n"), scalar);
        String vector = new String(Npy.toBytes(Tensor.of(new float[5], 5)), StandardCharsets.US_ASCII);
        assertTrue(vector.contains("'shape': (5,), }"), vector);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void headerIsPaddedToSixtyFourBytes(int[] shape) {
        byte[] bytes = Npy.toBytes(Tensor.zeros(shape));
        int headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
        assertEquals(0, (10 + headerLength) % 64);
        assertEquals('\n', bytes[10 + headerLength - 1]);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void readsEveryVersion(int major) {
        Tensor t = Npy.read(npy(major, npyDict("<f4", false, "(2, 3)"), f32(LE, ONE_TO_SIX)), "v.npy");
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(ONE_TO_SIX, t.data());
    }

    @Test
    void versionThreeHeaderMayHoldUtf8() {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'n\u00e9': 1}";
        // The extra key is refused, but only after the UTF-8 header was decoded and parsed.
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(npy(3, dict, f32(LE, 1, 2)), "u.npy"));
        assertTrue(e.getMessage().contains("unexpected key 'n\u00e9'"), e.getMessage());
    }

    @Test
    void acceptsDoubleQuotesNativeOrderAndNoTrailingComma() {
        String dict = "{\"descr\": \"=f4\", \"shape\": (6,), \"fortran_order\": False}";
        Tensor t = Npy.read(npy(1, dict, f32(LE, ONE_TO_SIX)), "q.npy");
        assertArrayEquals(new int[] {6}, t.shape());
        assertArrayEquals(ONE_TO_SIX, t.data());
    }

    /** Empty arrays whose other dimensions are huge hold nothing, wherever the 0 sits, as numpy loads them. */
    @Test
    void anEmptyArrayIsReadWhereverItsZeroIs() {
        for (String shape : new String[] {"(0, 65536, 65536, 65536)", "(65536, 65536, 65536, 0)"}) {
            Tensor t = Npy.read(npy(1, npyDict("<f4", false, shape), new byte[0]), "empty.npy");
            assertEquals(0, t.numel(), shape);
            Npy.IntArray ints = Npy.readIntArray(npy(1, npyDict("<i8", false, shape), new byte[0]), "empty.npy");
            assertEquals(0, ints.data().length, shape);
        }
    }

    @Test
    void bigEndianFloat32IsByteSwapped() {
        Tensor t = Npy.read(npy(1, npyDict(">f4", false, "(2, 3)"), f32(BE, ONE_TO_SIX)), "be.npy");
        assertArrayEquals(ONE_TO_SIX, t.data());
    }

    @Test
    void float64IsNarrowed() {
        double[] v = {1.5, -2.25, 1e300, 1e-50, Math.PI, -0.0};
        float[] expected = {1.5f, -2.25f, Float.POSITIVE_INFINITY, 0f, (float) Math.PI, -0.0f};
        assertArrayEquals(expected, Npy.read(npy(1, npyDict("<f8", false, "(6,)"), f64(LE, v)), "d.npy").data());
        assertArrayEquals(expected, Npy.read(npy(1, npyDict(">f8", false, "(6,)"), f64(BE, v)), "d.npy").data());
    }

    @Test
    void float16IsWidened() {
        int[] bits = {0x3C00, 0xC000, 0x7C00, 0xFC00, 0x0001, 0x8000, 0x7BFF, 0x0400, 0x3555};
        float[] expected = {1f, -2f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0x1p-24f, -0.0f, 65504f,
                0x1p-14f, 0.333251953125f};
        assertArrayEquals(expected, Npy.read(npy(1, npyDict("<f2", false, "(9,)"), u16(LE, bits)), "h.npy").data());
        assertArrayEquals(expected, Npy.read(npy(1, npyDict(">f2", false, "(9,)"), u16(BE, bits)), "h.npy").data());
        assertTrue(Float.isNaN(Npy.read(npy(1, npyDict("<f2", false, "(1,)"), u16(LE, 0x7E00)), "h.npy").data()[0]));
        assertEquals(5.9604645e-8f, 0x1p-24f);
    }

    @Test
    void fortranOrderTwoDimensionalIsTransposedIntoCOrder() {
        // [[1, 2, 3], [4, 5, 6]] in column-major order is 1 4 2 5 3 6.
        Tensor t = Npy.read(npy(1, npyDict("<f4", true, "(2, 3)"), f32(LE, 1, 4, 2, 5, 3, 6)), "f.npy");
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(ONE_TO_SIX, t.data());
    }

    @Test
    void fortranOrderThreeDimensionalIsTransposedIntoCOrder() {
        int[] shape = {2, 3, 4};
        float[] fortran = new float[24];
        float[] c = new float[24];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    float v = 100 * i + 10 * j + k;
                    c[(i * 3 + j) * 4 + k] = v;
                    fortran[i + 2 * (j + 3 * k)] = v;
                }
            }
        }
        Tensor t = Npy.read(npy(1, npyDict("<f4", true, "(2, 3, 4)"), f32(LE, fortran)), "f.npy");
        assertArrayEquals(shape, t.shape());
        assertArrayEquals(c, t.data());
        // Big-endian doubles in Fortran order: both conversions at once.
        double[] fortranD = new double[24];
        for (int i = 0; i < 24; i++) {
            fortranD[i] = fortran[i];
        }
        assertArrayEquals(c, Npy.read(npy(2, npyDict(">f8", true, "(2, 3, 4)"), f64(BE, fortranD)), "f.npy").data());
    }

    @Test
    void fortranOrderOfVectorsScalarsAndEmptyArraysChangesNothing() {
        assertArrayEquals(ONE_TO_SIX, Npy.read(npy(1, npyDict("<f4", true, "(6,)"), f32(LE, ONE_TO_SIX)), "f.npy").data());
        assertArrayEquals(new float[] {7}, Npy.read(npy(1, npyDict("<f4", true, "()"), f32(LE, 7)), "f.npy").data());
        assertArrayEquals(new int[] {0, 3}, Npy.read(npy(1, npyDict("<f4", true, "(0, 3)"), new byte[0]), "f.npy").shape());
    }

    @Test
    void zeroDimensionalAndEmptyArraysRead() {
        Tensor scalar = Npy.read(npy(1, npyDict("<f4", false, "()"), f32(LE, 2.5f)), "s.npy");
        assertArrayEquals(new int[] {}, scalar.shape());
        assertArrayEquals(new float[] {2.5f}, scalar.data());
        Tensor empty = Npy.read(npy(1, npyDict("<f4", false, "(3, 0)"), new byte[0]), "e.npy");
        assertArrayEquals(new int[] {3, 0}, empty.shape());
        assertEquals(0, empty.numel());
    }

    @Test
    void aLyingShapeIsRefusedBeforeAnythingIsAllocated() {
        // 2^30 floats would be 4 GiB; the file has 24 bytes.
        FormatException e = assertThrows(FormatException.class,
                () -> Npy.read(npy(1, npyDict("<f4", false, "(536870911,)"), f32(LE, ONE_TO_SIX)), "big.npy"));
        assertTrue(e.getMessage().startsWith("big.npy: data is truncated"), e.getMessage());
    }

    @Test
    void messageWithoutANameHasNoPrefix() {
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(new byte[3], null));
        assertEquals("not a .npy file (bad magic)", e.getMessage());
    }

    @Test
    void controlCharactersFromTheFileDoNotBreakTheMessageIntoLines() {
        String dict = "{'descr': '<f4\n', 'fortran_order': False, 'shape': (1,)}";
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(npy(1, dict, new byte[4]), "n.npy"));
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        String dtype = "{'descr': '<f4\t', 'fortran_order': False, 'shape': (1,)}";
        e = assertThrows(FormatException.class, () -> Npy.read(npy(1, dtype, new byte[4]), "n.npy"));
        assertTrue(e.getMessage().contains("'<f4\\u0009'"), e.getMessage());
    }

    private static Tensor counting(int[] shape) {
        float[] data = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f - 3;
        }
        return Tensor.of(data, shape);
    }
}
