package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import io.clrnn.onnx.proto.AttributeProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each glue operator alone, on its edge cases (negative axes and steps, clamped slices, broadcasting, 0 and
 * -1 in shapes, both opset forms), against ONNX Runtime: once folded at load (every input an initializer) and
 * once evaluated at run time (the data a graph input).
 */
class HostOperatorsTest {
    private static Device device;

    @BeforeAll
    static void open() {
        OrtOracle.assumeAvailable();
        device = TestDevice.shared();
    }

    /** One operator over data D (float [2, 3, 4], or ints) and constant extra inputs. */
    record OpCase(String name, int opset, String op, boolean intData, List<Object> extra, AttributeProto... attrs) {
        @Override
        public String toString() {
            return name;
        }

        Value data() {
            float[] f = new float[24];
            long[] l = new long[24];
            for (int i = 0; i < 24; i++) {
                f[i] = i * 0.5f - 3.25f;
                l[i] = i * 3L - 20;
            }
            return intData ? Value.of(IntTensor.of(l, 2, 3, 4)) : Value.of(Tensor.of(f, 2, 3, 4));
        }

        /** The model; the data is an initializer when {@code folded}, else the graph input D. */
        byte[] model(boolean folded) {
            ModelBuilder b = new ModelBuilder(opset);
            Value d = data();
            int type = intData ? ModelBuilder.INT64 : ModelBuilder.FLOAT;
            if (folded) {
                if (d instanceof Value.Ints i) {
                    b.initializer("D", i.tensor(), ModelBuilder.INT64);
                } else {
                    b.initializer("D", ((Value.Floats) d).tensor());
                }
            } else {
                b.input("D", type, 2, 3, 4);
            }
            List<String> inputs = new ArrayList<>(List.of("D"));
            for (int i = 0; i < extra.size(); i++) {
                Object e = extra.get(i);
                if (e == null) {
                    inputs.add("");
                    continue;
                }
                long[] v = (long[]) e;
                b.initializer("E" + i, name.contains("scalar") ? IntTensor.of(v, new int[0])
                        : IntTensor.of(v, v.length), ModelBuilder.INT64);
                inputs.add("E" + i);
            }
            if (op.equals("Concat")) {
                inputs.add("D");
            }
            b.node(op, inputs, List.of("Out"), attrs);
            int outType = switch (op) {
                case "Shape" -> ModelBuilder.INT64;
                case "Cast" -> (int) attrs[0].getI();
                default -> type;
            };
            b.output("Out", outType, (int[]) null);
            return b.bytes();
        }
    }

    static long[] l(long... v) {
        return v;
    }

    static Stream<OpCase> cases() {
        return Stream.of(
                new OpCase("Transpose perm", 14, "Transpose", false, List.of(), ModelBuilder.ints("perm", 2, 0, 1)),
                new OpCase("Transpose default", 14, "Transpose", true, List.of()),
                new OpCase("Slice steps", 13, "Slice", false, List.of(l(0, 3, -1), l(2, -100, -5), l(0, 2, 1),
                        l(1, -1, -2))),
                new OpCase("Slice clamped", 13, "Slice", true, List.of(l(-100, 1), l(100, Long.MAX_VALUE), l(1, 2))),
                new OpCase("Slice no axes", 11, "Slice", false, List.of(l(1, 1), l(2, 3))),
                new OpCase("Slice empty", 13, "Slice", false, List.of(l(3), l(1), l(2))),
                new OpCase("Slice opset 9", 9, "Slice", false, List.of(), ModelBuilder.ints("starts", 1, -3),
                        ModelBuilder.ints("ends", 3, 1000), ModelBuilder.ints("axes", 1, 2)),
                new OpCase("Gather negative", 13, "Gather", false, List.of(l(-1, 0, 2, -2)),
                        ModelBuilder.attr("axis", 2L)),
                new OpCase("Gather scalar", 13, "Gather", true, List.of(l(1)), ModelBuilder.attr("axis", -2L)),
                new OpCase("Unsqueeze opset 11", 11, "Unsqueeze", false, List.of(), ModelBuilder.ints("axes", 0, -1)),
                new OpCase("Squeeze nothing to squeeze", 13, "Squeeze", true, List.of()),
                new OpCase("Unsqueeze opset 13", 13, "Unsqueeze", true, List.of(l(-1, 1))),
                new OpCase("Reshape 0 and -1", 14, "Reshape", false, List.of(l(0, -1, 2))),
                new OpCase("Reshape allowzero", 14, "Reshape", false, List.of(l(4, 6)), ModelBuilder.attr("allowzero", 1L)),
                new OpCase("Expand", 13, "Expand", false, List.of(l(3, 2, 1, 4))),
                new OpCase("Expand ints", 13, "Expand", true, List.of(l(2, 1, 1))),
                new OpCase("Concat", 13, "Concat", true, List.of(), ModelBuilder.attr("axis", -1L)),
                new OpCase("Shape", 13, "Shape", false, List.of()),
                new OpCase("Shape start end", 15, "Shape", false, List.of(), ModelBuilder.attr("start", -2L),
                        ModelBuilder.attr("end", 100L)),
                new OpCase("Cast to int32", 13, "Cast", false, List.of(), ModelBuilder.attr("to", 6L)),
                new OpCase("Cast to float", 13, "Cast", true, List.of(), ModelBuilder.attr("to", 1L)),
                new OpCase("Cast to bool", 13, "Cast", false, List.of(), ModelBuilder.attr("to", 9L)),
                new OpCase("Cast to uint8", 13, "Cast", true, List.of(), ModelBuilder.attr("to", 2L)),
                new OpCase("Identity", 14, "Identity", false, List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesOnnxRuntime(OpCase c) {
        Map<String, Tensor> floats = new HashMap<>();
        Map<String, IntTensor> ints = new HashMap<>();
        Value d = c.data();
        if (d instanceof Value.Ints i) {
            ints.put("D", i.tensor());
        } else {
            floats.put("D", ((Value.Floats) d).tensor());
        }
        Tensor expected = Ort.run(c.model(false), floats, ints, List.of("D")).get("Out");
        try (OnnxSession folded = OnnxModel.load(c.model(true), c.name).open(device);
             OnnxSession dynamic = OnnxModel.load(c.model(false), c.name).open(device)) {
            assertClose(expected, folded.run(Map.of()).get("Out"), c.name + " folded");
            assertClose(expected, dynamic.run(floats, ints).get("Out"), c.name + " at run time");
        }
    }

    /** ConstantFill, the experimental operator torch writes at opsets 7 and 8 (ORT does not run it). */
    @Test
    void constantFill() {
        ModelBuilder b = new ModelBuilder(7).initializer("S", IntTensor.of(new long[] {2, 3}, 2), ModelBuilder.INT64)
                .node("ConstantFill", List.of("S"), List.of("F"), ModelBuilder.attr("input_as_shape", 1L),
                        ModelBuilder.attr("value", 1.5f), ModelBuilder.attr("dtype", 1L))
                .node("ConstantFill", List.of(), List.of("G"), ModelBuilder.ints("shape", 1, 2),
                        ModelBuilder.attr("value", 7f), ModelBuilder.attr("dtype", 7L),
                        ModelBuilder.ints("extra_shape", 3))
                .output("F", ModelBuilder.FLOAT, 2, 3).output("G", ModelBuilder.INT64, 1, 2, 3);
        OnnxModel model = OnnxModel.load(b.bytes(), "fill.onnx");
        try (OnnxSession s = model.open(device)) {
            Map<String, Tensor> out = s.run(Map.of());
            assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, out.get("F").data());
            assertArrayEquals(new int[] {1, 2, 3}, out.get("G").shape());
            assertEquals(7f, out.get("G").data()[5]);
        }
    }

    /** describe() names inputs, outputs, the recurrent nodes and what was folded. */
    @Test
    void describesAModel() throws Exception {
        OnnxModel model = OnnxModel.load(TorchExportTest.root().resolve("lstm_L2_bi_bf_h0/model.onnx"));
        String text = model.describe();
        Map<String, String> lines = new LinkedHashMap<>();
        text.lines().forEach(line -> lines.put(line.trim().split(" ")[0], line));
        assertEquals(List.of("model.onnx: ONNX IR version 7, opset 14, from pytorch 1.13.0",
                "inputs:",
                "  x   float32 [3, 5, 5]  becomes X",
                "  h0  float32 [4, 3, 4]  becomes initial_h",
                "  c0  float32 [4, 3, 4]  becomes initial_c",
                "outputs:",
                "  out  float32 [3, 5, 8]  comes from Y",
                "  h_n  float32 [4, 3, 4]  comes from Y_h",
                "  c_n  float32 [4, 3, 4]  comes from Y_c",
                "recurrent nodes:",
                "  '/LSTM': LSTM(5, 4, bidirectional=True)",
                "  '/LSTM_1': LSTM(8, 4, bidirectional=True)",
                "operators: 26 nodes besides the recurrent ones, 14 of them folded into constants at load",
                "  on the device: Concat 2, Reshape 2, Slice 4, Transpose 4",
                "  on the host (shape arithmetic, indices, masks): none"), text.lines().limit(15).toList());
        assertEquals(17, text.lines().count(), text);
        assertTrue(text.lines().toList().get(15).startsWith("device memory: "), text);
        assertTrue(text.lines().toList().get(16).startsWith("streaming: no: node '/LSTM' (LSTM) runs bidirectional"),
                text);
    }
}
