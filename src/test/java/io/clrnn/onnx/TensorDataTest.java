package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import io.clrnn.base.Half;
import io.clrnn.onnx.proto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tensors as ONNX stores them: float32, float16, bfloat16 and float64 from raw_data (little-endian) and from the
 * typed fields (half types as bit patterns in int32_data), the integer types and bool; and weights of each float
 * type feeding an LSTM through Constant nodes and Cast, against ONNX Runtime.
 */
class TensorDataTest {
    private static TensorProto.Builder proto(int type, int... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName("t").setDataType(type);
        for (int d : dims) {
            t.addDims(d);
        }
        return t;
    }

    private static float[] floats(TensorProto t) {
        return ((Value.Floats) TensorData.decode(t, null, "t.pb", "tensor")).tensor().data();
    }

    private static long[] ints(TensorProto t) {
        return ((Value.Ints) TensorData.decode(t, null, "t.pb", "tensor")).tensor().data();
    }

    private static ByteString le(int bytesPer, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * bytesPer).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytesPer) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return ByteString.copyFrom(b.array());
    }

    /** 1, -2, 65504 (the largest half), 2^-24 (the smallest subnormal), +inf, 0.333251953125 (0x3555). */
    private static final long[] HALF_BITS = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x3555};
    private static final float[] HALF_VALUES = {1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, 0.333251953125f};

    @Test
    void decodesFloat16FromRawDataAndInt32Data() {
        assertArrayEquals(HALF_VALUES, floats(proto(10, 6).setRawData(le(2, HALF_BITS)).build()));
        TensorProto.Builder typed = proto(10, 2, 3);
        for (long bits : HALF_BITS) {
            typed.addInt32Data((int) bits);
        }
        assertArrayEquals(HALF_VALUES, floats(typed.build()));
        assertTrue(Float.isNaN(floats(proto(10, 1).setRawData(le(2, 0x7E00)).build())[0]));
    }

    @Test
    void decodesBfloat16AndDouble() {
        // bfloat16 is the high half of a float32: 1.0 is 0x3F80, -3.140625 is 0xC049.
        assertArrayEquals(new float[] {1f, -3.140625f}, floats(proto(16, 2).setRawData(le(2, 0x3F80, 0xC049)).build()));
        assertArrayEquals(new float[] {1f, -3.140625f}, floats(proto(16, 2).addInt32Data(0x3F80).addInt32Data(0xC049)
                .build()));
        assertArrayEquals(new float[] {0.1f, -1e30f}, floats(proto(11, 2).setRawData(le(8,
                Double.doubleToLongBits(0.1), Double.doubleToLongBits(-1e30))).build()));
        assertArrayEquals(new float[] {0.1f, -1e30f}, floats(proto(11, 2).addDoubleData(0.1).addDoubleData(-1e30)
                .build()));
        assertArrayEquals(new float[] {1.5f, -2f}, floats(proto(1, 2).addFloatData(1.5f).addFloatData(-2f).build()));
    }

    @Test
    void decodesIntegersAndBool() {
        assertArrayEquals(new long[] {-5, 1L << 40}, ints(proto(7, 2).setRawData(le(8, -5, 1L << 40)).build()));
        assertArrayEquals(new long[] {-5, 7}, ints(proto(7, 2).addInt64Data(-5).addInt64Data(7).build()));
        assertArrayEquals(new long[] {-5, 7}, ints(proto(6, 2).setRawData(le(4, -5, 7)).build()));
        assertArrayEquals(new long[] {255, 1}, ints(proto(2, 2).setRawData(le(1, 255, 1)).build()));
        assertArrayEquals(new long[] {-1, 1}, ints(proto(3, 2).addInt32Data(-1).addInt32Data(1).build()));
        assertArrayEquals(new long[] {1, 0, 1}, ints(proto(9, 3).setRawData(le(1, 1, 0, 7)).build()));
        assertArrayEquals(new long[] {4294967295L}, ints(proto(12, 1).addUint64Data(4294967295L).build()));
        assertArrayEquals(new int[0], TensorData.decode(proto(1).addFloatData(2f).build(), null, "t", "s").shape());
        assertEquals(0, TensorData.decode(proto(1, 0, 3).build(), null, "t", "empty").numel());
    }

    /** An LSTM whose W comes from a Constant of {@code type}, R and B from initializers of that type, each Cast to float. */
    private static byte[] castWeights(int type, boolean typedFields) {
        RecurrentCase c = new RecurrentCase("w", "LSTM").sizes(3, 4, 5, 2).dir("bidirectional");
        Map<String, Tensor> data = c.layout0Data();
        ModelBuilder b = new ModelBuilder(14).input("X", ModelBuilder.FLOAT, 5, 2, 3);
        for (String name : List.of("W", "R", "B")) {
            TensorProto t = encode(name + "_raw", data.get(name), type, typedFields);
            if (name.equals("W")) {
                b.node("Constant", List.of(), List.of("W_raw"), ModelBuilder.attr("value", t));
            } else {
                b.initializer(t);
            }
            b.node("Cast", List.of(name + "_raw"), List.of(name), ModelBuilder.attr("to", 1L));
        }
        b.node("LSTM", List.of("X", "W", "R", "B"), List.of("Y"), ModelBuilder.attr("hidden_size", 4L),
                ModelBuilder.attr("direction", "bidirectional"));
        return b.output("Y", ModelBuilder.FLOAT, 5, 2, 2, 4).bytes();
    }

    private static TensorProto encode(String name, Tensor t, int type, boolean typed) {
        TensorProto.Builder p = proto(type, t.shape()).setName(name);
        float[] v = t.data();
        ByteBuffer raw = ByteBuffer.allocate(v.length * (type == 11 ? 8 : 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            int bits = type == 16 ? Float.floatToIntBits(f) >>> 16 : type == 10 ? (Half.fromFloat(f) & 0xFFFF) : 0;
            if (type == 11) {
                if (typed) {
                    p.addDoubleData(f);
                } else {
                    raw.putDouble(f);
                }
            } else if (typed) {
                p.addInt32Data(bits);
            } else {
                raw.putShort((short) bits);
            }
        }
        return typed ? p.build() : p.setRawData(ByteString.copyFrom(raw.array())).build();
    }

    @Test
    void weightsOfEveryFloatTypeRunAsOrtRunsThem() {
        OrtOracle.assumeAvailable();
        Tensor x = Tensor.randn(7, 5, 2, 3);
        Device device = TestDevice.shared();
        for (int type : new int[] {10, 16, 11}) {
            for (boolean typed : new boolean[] {false, true}) {
                byte[] model = castWeights(type, typed);
                Tensor expected = Ort.run(model, Map.of("X", x), Map.of()).get("Y");
                try (OnnxSession s = OnnxModel.load(model, "w.onnx").open(device)) {
                    assertClose(expected, s.run(Map.of("X", x)).get("Y"), "type " + type + (typed ? " typed" : " raw"));
                }
            }
        }
    }
}
