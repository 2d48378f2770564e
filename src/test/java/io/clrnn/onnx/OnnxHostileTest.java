package io.clrnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.onnx.proto.AttributeProto;
import io.clrnn.onnx.proto.GraphProto;
import io.clrnn.onnx.proto.ModelProto;
import io.clrnn.onnx.proto.NodeProto;
import io.clrnn.onnx.proto.OperatorSetIdProto;
import io.clrnn.onnx.proto.SparseTensorProto;
import io.clrnn.onnx.proto.StringStringEntryProto;
import io.clrnn.onnx.proto.TensorProto;
import io.clrnn.onnx.proto.TypeProto;
import io.clrnn.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and broken .onnx files: each refused at load with one line (a FormatException, or an
 * InvalidInputException for what only a run can see) that says what is wrong; nothing else escapes.
 */
class OnnxHostileTest {
    @TempDir Path dir;

    /** A valid model: X [5, 2, 3] -> Identity -> bidirectional LSTM(3, 4) with W, R, B initializers -> Y, Y_h, Y_c. */
    static ModelProto base() {
        RecurrentCase c = new RecurrentCase("base", "LSTM").dir("bidirectional").sizes(3, 4, 5, 2);
        Map<String, Tensor> data = c.layout0Data();
        return new ModelBuilder(14)
                .input("X", ModelBuilder.FLOAT, 5, 2, 3)
                .initializer("W", data.get("W")).initializer("R", data.get("R")).initializer("B", data.get("B"))
                .node("Identity", List.of("X"), List.of("X1"))
                .node("LSTM", List.of("X1", "W", "R", "B"), List.of("Y", "Y_h", "Y_c"),
                        ModelBuilder.attr("hidden_size", 4L), ModelBuilder.attr("direction", "bidirectional"))
                .output("Y", ModelBuilder.FLOAT, 5, 2, 2, 4).output("Y_h", ModelBuilder.FLOAT, 2, 2, 4)
                .output("Y_c", ModelBuilder.FLOAT, 2, 2, 4)
                .build();
    }

    private static byte[] edit(UnaryOperator<GraphProto.Builder> f) {
        ModelProto m = base();
        return m.toBuilder().setGraph(f.apply(m.getGraph().toBuilder())).build().toByteArray();
    }

    private static byte[] editNode(int index, UnaryOperator<NodeProto.Builder> f) {
        return edit(g -> g.setNode(index, f.apply(g.getNode(index).toBuilder())));
    }

    private static byte[] editInitializer(int index, UnaryOperator<TensorProto.Builder> f) {
        return edit(g -> g.setInitializer(index, f.apply(g.getInitializer(index).toBuilder())));
    }

    private static byte[] truncated() {
        byte[] b = base().toByteArray();
        return Arrays.copyOf(b, b.length / 2);
    }

    /** ir_version (field 1) sent as a length-delimited field, not a varint; then a graph (field 7) as a varint. */
    private static byte[] wrongWireTypes() {
        return new byte[] {0x0A, 0x02, 0x01, 0x02, 0x38, 0x05};
    }

    /** A graph nested in attributes far deeper than any real model: the parser's recursion limit. */
    private static byte[] deeplyNested() {
        GraphProto g = GraphProto.newBuilder().build();
        for (int i = 0; i < 200; i++) {
            g = GraphProto.newBuilder().addNode(NodeProto.newBuilder().setOpType("If").addAttribute(
                    AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH)
                            .setG(g))).build();
        }
        return ModelProto.newBuilder().setGraph(g).build().toByteArray();
    }

    private static AttributeProto lstmAttr(String name) {
        return base().getGraph().getNode(1).getAttributeList().stream().filter(a -> a.getName().equals(name))
                .findFirst().orElseThrow();
    }

    static Stream<Arguments> hostile() {
        return Stream.of(
                Arguments.of("empty", new byte[0], "imports no version of the default (ai.onnx) opset"),
                Arguments.of("truncated", truncated(), "not an ONNX model"),
                Arguments.of("text", "hello, I am not a model\n".getBytes(), "not an ONNX model"),
                Arguments.of("wrong wire types", wrongWireTypes(), "ModelProto field 1 (ir_version) has the wrong wire type"),
                Arguments.of("wrong wire type inside", editNode(1, n -> n.setUnknownFields(com.google.protobuf.UnknownFieldSet
                        .newBuilder().addField(4, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(3)
                        .build()).build())), "NodeProto field 4 (op_type) has the wrong wire type"),
                Arguments.of("nested too deep", deeplyNested(), "not an ONNX model"),
                Arguments.of("no graph", base().toBuilder().clearGraph().build().toByteArray(), "has no graph"),
                Arguments.of("opset 6", base().toBuilder().setOpsetImport(0, OperatorSetIdProto.newBuilder()
                        .setVersion(6)).build().toByteArray(), "uses opset 6; clrnn runs opsets 7 to 22"),
                Arguments.of("opset 23", base().toBuilder().setOpsetImport(0, OperatorSetIdProto.newBuilder()
                        .setVersion(23)).build().toByteArray(), "uses opset 23"),
                Arguments.of("huge dims", editInitializer(0, t -> t.setDims(0, 1L << 40)), "dimension 1099511627776"),
                Arguments.of("too many elements", editInitializer(0, t -> t.clearDims().addDims(65536).addDims(65536)),
                        "more elements than a Java array holds"),
                Arguments.of("negative dim", editInitializer(0, t -> t.setDims(0, -2)), "dimension -2"),
                Arguments.of("initializer too short", editInitializer(0, t -> t.setRawData(t.getRawData().substring(4))),
                        "initializer 'W' has shape [2, 16, 3] of float32, 384 bytes, but its raw_data holds 380"),
                Arguments.of("initializer of the wrong shape", editInitializer(0, t -> t.setDims(1, 8)
                        .setRawData(t.getRawData().substring(0, 192))), "W should be [2, 16, input_size], got [2, 8, 3]"),
                Arguments.of("typed values too few", editInitializer(2, t -> t.clearRawData().addFloatData(1f)),
                        "but 1 values in its float_data field"),
                Arguments.of("two data sources", editInitializer(2, t -> t.addFloatData(1f)), "more than one place"),
                Arguments.of("string tensor", editInitializer(2, t -> t.setDataType(8)), "is string"),
                Arguments.of("complex tensor", editInitializer(2, t -> t.setDataType(14)), "is complex64"),
                Arguments.of("segment", editInitializer(2, t -> t.setSegment(TensorProto.Segment.newBuilder()
                        .setBegin(0).setEnd(1))), "segment of a larger tensor"),
                Arguments.of("sparse initializer", edit(g -> g.addSparseInitializer(SparseTensorProto.newBuilder())),
                        "sparse initializers"),
                Arguments.of("duplicate initializer", edit(g -> g.addInitializer(g.getInitializer(0))), "defined twice"),
                Arguments.of("cycle", edit(g -> g.setNode(0, g.getNode(0).toBuilder().setInput(0, "Y"))),
                        "depends on its own output: the graph has a cycle"),
                Arguments.of("undefined input", editNode(1, n -> n.setInput(0, "nowhere")),
                        "reads 'nowhere', which no node, graph input or initializer defines"),
                Arguments.of("written twice", editNode(0, n -> n.setOutput(0, "W")), "writes 'W', which is already defined"),
                Arguments.of("unknown operator", editNode(0, n -> n.setOpType("NonMaxSuppression")),
                        "node 'Identity_0' (NonMaxSuppression) is an operator clrnn does not run; clrnn runs RNN, GRU and LSTM"),
                Arguments.of("other domain", editNode(0, n -> n.setDomain("com.example")), "of domain 'com.example'"),
                Arguments.of("unknown attribute", editNode(1, n -> n.addAttribute(ModelBuilder.attr("output_sequence", 1L))),
                        "has attribute 'output_sequence', which clrnn does not know for LSTM"),
                Arguments.of("attribute of the wrong type", editNode(1, n -> n.setAttribute(0,
                        ModelBuilder.attr("hidden_size", 4f))), "attribute 'hidden_size' should be int, got float"),
                Arguments.of("attribute twice", editNode(1, n -> n.addAttribute(lstmAttr("hidden_size"))),
                        "has attribute 'hidden_size' twice"),
                Arguments.of("bad direction", editNode(1, n -> n.setAttribute(1, ModelBuilder.attr("direction", "sideways"))),
                        "direction 'sideways' is not forward, reverse or bidirectional"),
                Arguments.of("negative hidden_size", editNode(1, n -> n.setAttribute(0, ModelBuilder.attr("hidden_size", -4L))),
                        "hidden_size -4 is not a positive size"),
                Arguments.of("hidden_size not W's", editNode(1, n -> n.setAttribute(0, ModelBuilder.attr("hidden_size", 5L))),
                        "W should be [2, 20, input_size], got [2, 16, 3]"),
                Arguments.of("unknown activation", editNode(1, n -> n.addAttribute(ModelBuilder.strings("activations",
                        List.of("Sigmoid", "Tanh", "Gelu", "Sigmoid", "Tanh", "Tanh")))), "unknown activation 'Gelu'"),
                Arguments.of("too few activations", editNode(1, n -> n.addAttribute(ModelBuilder.strings("activations",
                        List.of("Sigmoid", "Tanh", "Tanh")))), "lists 3 activations; LSTM takes 3 per direction, 6 here"),
                Arguments.of("negative clip", editNode(1, n -> n.addAttribute(ModelBuilder.attr("clip", -1f))),
                        "clip -1.0 is not positive"),
                Arguments.of("layout 2", editNode(1, n -> n.addAttribute(ModelBuilder.attr("layout", 2L))),
                        "layout 2 is neither 0 nor 1"),
                Arguments.of("too many inputs", editNode(1, n -> n.addAllInput(List.of("", "", "", "", "", "X"))),
                        "has 10 inputs; LSTM takes 3 to 8"),
                Arguments.of("required input empty", editNode(1, n -> n.setInput(1, "")), "leaves its required input 1 empty"),
                Arguments.of("output not computed", edit(g -> g.addOutput(ModelBuilder.valueInfo("Z", 1, 1))),
                        "graph output 'Z' is not computed by any node"),
                Arguments.of("no outputs", edit(GraphProto.Builder::clearOutput), "the graph has no outputs"),
                Arguments.of("input not a tensor", edit(g -> g.setInput(0, ValueInfoProto.newBuilder().setName("X")
                        .setType(TypeProto.newBuilder()))), "graph input 'X' is not a tensor"),
                Arguments.of("input of strings", edit(g -> g.setInput(0, ModelBuilder.valueInfo("X", 8, 5, 2, 3))),
                        "graph input 'X' is string"),
                Arguments.of("name with a newline", editNode(0, n -> n.setName("a\nb").setOpType("NonMaxSuppression")),
                        "node 'a\\u000ab' (NonMaxSuppression)"),
                Arguments.of("W as ints", editInitializer(0, t -> t.clearRawData().setDataType(7).clearDims().addDims(2)
                        .addDims(16).addDims(3).addAllInt64Data(java.util.Collections.nCopies(96, 1L))),
                        "W is an integer tensor; it should be float"),
                Arguments.of("constant of huge shape", edit(g -> g.addNode(0, NodeProto.newBuilder().setOpType(
                        "ConstantOfShape").addInput("S").addOutput("Big")).addInitializer(ModelBuilder.ints("S",
                        IntTensor.of(new long[] {100000, 100000, 100000}, 3), 7)).addOutput(ModelBuilder.valueInfo("Big",
                        1, 100000, 100000, 100000))), "more than 2^28 elements"),
                Arguments.of("reshape that cannot", edit(g -> g.addNode(NodeProto.newBuilder().setOpType("Reshape")
                        .addInput("B").addInput("S").addOutput("Bad")).addInitializer(ModelBuilder.ints("S",
                        IntTensor.of(new long[] {7, -1}, 2), 7)).addOutput(ModelBuilder.valueInfo("Bad", 1, 7, 4))),
                        "cannot reshape [2, 32] to [7, -1]"),
                Arguments.of("gather out of range", edit(g -> g.addNode(NodeProto.newBuilder().setOpType("Gather")
                        .addInput("B").addInput("I").addOutput("Bad")).addInitializer(ModelBuilder.ints("I",
                        IntTensor.of(new long[] {5}, 1), 7)).addOutput(ModelBuilder.valueInfo("Bad", 1, 1, 32))),
                        "index 5 is out of range for axis 0 of size 2"),
                Arguments.of("constant with two values", edit(g -> g.addNode(NodeProto.newBuilder().setOpType("Constant")
                        .addOutput("K").addAttribute(ModelBuilder.attr("value_float", 1f))
                        .addAttribute(ModelBuilder.attr("value_int", 1L))).addOutput(ModelBuilder.valueInfo("K", 1))),
                        "should have exactly one value attribute"),
                Arguments.of("external data from memory", editInitializer(2, t -> t.clearRawData().setDataLocation(
                        TensorProto.DataLocation.EXTERNAL).addExternalData(entry("location", "b.bin"))),
                        "only beside a model loaded from its file"));
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void refusedInOneLine(String name, byte[] bytes, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OnnxModel.load(bytes, "bad.onnx"));
        assertOneLine(e, fragment);
    }

    static void assertOneLine(Exception e, String fragment) {
        String m = e.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), () -> "not one line: " + m);
        assertTrue(m.contains(fragment), () -> "expected '" + fragment + "' in: " + m);
        assertTrue(m.length() < 400, () -> "too long: " + m);
    }

    /** Writes the base model with initializer B as external data named {@code location}. */
    private Path externalModel(String location, long offset, Long length) throws IOException {
        TensorProto.Builder b = base().getGraph().getInitializer(2).toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL).addExternalData(entry("location", location))
                .addExternalData(entry("offset", Long.toString(offset)));
        if (length != null) {
            b.addExternalData(entry("length", Long.toString(length)));
        }
        ModelProto m = base();
        byte[] bytes = m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(2, b)).build().toByteArray();
        Path model = Files.createDirectories(dir.resolve("model")).resolve("m.onnx");
        Files.write(model, bytes);
        return model;
    }

    /** B's float32 little-endian bytes, after {@code pad} zero bytes. */
    private static byte[] biasBytes(int pad) {
        Tensor b = new RecurrentCase("base", "LSTM").dir("bidirectional").sizes(3, 4, 5, 2).layout0Data().get("B");
        ByteBuffer buf = ByteBuffer.allocate(pad + b.numel() * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(pad);
        buf.asFloatBuffer().put(b.data());
        return buf.array();
    }

    @Test
    void readsExternalDataBesideTheModel() throws IOException {
        Path model = externalModel("weights/b.bin", 16, 256L);
        Files.createDirectories(model.resolveSibling("weights"));
        Files.write(model.resolveSibling("weights/b.bin"), biasBytes(16));
        OnnxModel external = OnnxModel.load(model);
        OnnxModel inline = OnnxModel.load(base().toByteArray(), "inline.onnx");
        RnnWeightsAssert.same(inline.fixedWeights.values().iterator().next(), external.fixedWeights.values().iterator().next());
    }

    static Stream<Arguments> badExternal() {
        return Stream.of(
                Arguments.of("/etc/passwd", "is absolute"),
                Arguments.of("../secret.bin", "leads outside the model's folder"),
                Arguments.of("weights/../../secret.bin", "leads outside the model's folder"),
                Arguments.of(".", "leads outside the model's folder"),
                Arguments.of("C:\\weights.bin", "is absolute"),
                Arguments.of("missing.bin", "is missing beside the model"),
                Arguments.of("escape.bin", "is a link that leads outside the model's folder"),
                Arguments.of("short.bin", "has 100 bytes, fewer than offset 16 + length 256"),
                Arguments.of("wrong-length.bin", "needs 256 bytes but its external data says length 8"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badExternal")
    void refusesExternalDataOutsideOrWrong(String location, String fragment) throws IOException {
        Path model = externalModel(location, 16, location.equals("wrong-length.bin") ? 8L : 256L);
        Path folder = model.getParent();
        Files.write(dir.resolve("secret.bin"), biasBytes(16));
        Files.write(folder.resolve("short.bin"), new byte[100]);
        Files.write(folder.resolve("wrong-length.bin"), biasBytes(16));
        Files.createSymbolicLink(folder.resolve("escape.bin"), dir.resolve("secret.bin"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OnnxModel.load(model));
        assertOneLine(e, fragment);
    }

    /**
     * Constants that keep doubling (a Concat of the last one with itself, 30 times over) would hold 2^30 elements:
     * refused in one line once the folded constants pass their budget, in well under the seconds and gigabytes the
     * whole chain took before.
     */
    @Test
    void refusesConstantsThatKeepDoubling() {
        ModelBuilder b = new ModelBuilder(13).input("X", ModelBuilder.FLOAT, 5, 2, 3)
                .initializer("c0", IntTensor.of(new long[] {1}, 1), ModelBuilder.INT64);
        for (int i = 1; i <= 30; i++) {
            b.node("Concat", List.of("c" + (i - 1), "c" + (i - 1)), List.of("c" + i), ModelBuilder.attr("axis", 0L));
        }
        byte[] bytes = b.node("Identity", List.of("X"), List.of("Y")).output("Y", ModelBuilder.FLOAT, 5, 2, 3)
                .output("c30", ModelBuilder.INT64, 1 << 30).bytes();
        long start = System.nanoTime();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OnnxModel.load(bytes, "bomb.onnx"));
        assertOneLine(e, "folds to a constant of 16777216 elements, and the graph's folded constants would hold more "
                + "than 16777216 elements in all");
        assertTrue(e.getMessage().startsWith("bomb.onnx: node 'Concat_"), e.getMessage());
        assertTrue(System.nanoTime() - start < 3_000_000_000L, "took " + (System.nanoTime() - start) / 1e9 + " s");
    }

    @Test
    void refusesAFileOfAnotherKind() throws IOException {
        Path npy = dir.resolve("x.npy");
        io.clrnn.format.Npy.write(npy, Tensor.zeros(2, 2));
        assertOneLine(assertThrows(InvalidInputException.class, () -> OnnxModel.load(npy)), "not an ONNX model");
    }

    /** What only a run can see: inputs that do not fit the model. */
    @Test
    void refusesRunInputsThatDoNotFit() {
        OnnxModel model = OnnxModel.load(base().toByteArray(), "m.onnx");
        try (OnnxSession s = model.open(TestDevice.shared())) {
            assertOneLine(assertThrows(InvalidInputException.class, () -> s.run(Map.of())), "m.onnx needs input 'X'");
            assertOneLine(assertThrows(InvalidInputException.class, () -> s.run(Map.of("X", Tensor.zeros(5, 2, 3),
                    "Q", Tensor.zeros(1)))), "m.onnx has no input 'Q'; its inputs are ['X']");
            assertOneLine(assertThrows(InvalidInputException.class, () -> s.run(Map.of("W", Tensor.zeros(1)))),
                    "has no input 'W' (it is an initializer, part of the model)");
            assertOneLine(assertThrows(InvalidInputException.class, () -> s.run(Map.of("X", Tensor.zeros(5, 3, 3)))),
                    "input 'X' has shape [5, 3, 3]; the model takes [5, 2, 3] (exported with fixed sizes");
            assertOneLine(assertThrows(InvalidInputException.class, () -> s.run(Map.of(), Map.of("X",
                    IntTensor.of(new long[30], 5, 2, 3)))), "input 'X' is float32 in the model; give a float Tensor");
            assertEquals(3, s.run(Map.of("X", Tensor.zeros(5, 2, 3))).size());
        }
    }

    @Test
    void refusesSequenceLengthsOutOfRange() {
        RecurrentCase c = new RecurrentCase("lengths", "GRU").lengths(6, 2).sizes(3, 4, 5, 2).lengths(6, 2);
        try (OnnxSession s = OnnxModel.load(c.model(0), "g.onnx").open(TestDevice.shared())) {
            assertOneLine(assertThrows(InvalidInputException.class, () -> s.run(c.floatInputs(0), c.intInputs())),
                    "sequence_lens[0] is 6, outside 0..5 (seq_length)");
        }
    }
}
