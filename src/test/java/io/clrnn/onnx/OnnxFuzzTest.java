package io.clrnn.onnx;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import io.clrnn.base.InvalidInputException;
import io.clrnn.onnx.proto.AttributeProto;
import io.clrnn.onnx.proto.GraphProto;
import io.clrnn.onnx.proto.ModelProto;
import io.clrnn.onnx.proto.NodeProto;
import io.clrnn.onnx.proto.TensorProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * jqwik properties: a model mutated at random, byte by byte or field by field, either loads (and describes
 * itself) or is refused with a one-line InvalidInputException (FormatException included); nothing else ever
 * escapes. Loading covers parsing, every check, constant folding and the weights' reordering; running on a
 * device is left to the deterministic tests, which would otherwise compile a kernel for every mutant.
 */
class OnnxFuzzTest {
    /** A torch export with glue (Transpose, Slice, Reshape, Concat...) and the hand-built bidirectional LSTM. */
    private static final List<byte[]> SEEDS = List.of(
            read("gru_L2_bi_bf_h0/model.onnx"), read("lstm_L1_op7/model.onnx"), read("rnn_L3_bf_dyn_op11/model.onnx"),
            OnnxHostileTest.base().toByteArray());

    private static byte[] read(String fixture) {
        try {
            return Files.readAllBytes(TorchExportTest.root().resolve(fixture));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record ByteEdit(int kind, int position, int value) {
        byte[] apply(byte[] in) {
            int n = in.length;
            return switch (kind) {
                case 0 -> { // flip bits in one byte
                    byte[] out = in.clone();
                    out[position % n] ^= (byte) (value | 1);
                    yield out;
                }
                case 1 -> Arrays.copyOf(in, position % (n + 1)); // truncate
                case 2 -> { // set one byte to a value protobuf cares about: a tag, a length, a continuation
                    byte[] out = in.clone();
                    out[position % n] = (byte) new int[] {0x08, 0x0A, 0x12, 0x80, 0xFF, 0x00, 0x7F, 0x3A}[value & 7];
                    yield out;
                }
                default -> { // delete a short run
                    int at = position % n;
                    int len = Math.min(n - at, 1 + (value & 15));
                    byte[] out = new byte[n - len];
                    System.arraycopy(in, 0, out, 0, at);
                    System.arraycopy(in, at + len, out, at, n - at - len);
                    yield out;
                }
            };
        }
    }

    @Provide
    Arbitrary<List<ByteEdit>> byteEdits() {
        return Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().greaterOrEqual(0),
                Arbitraries.integers().between(0, 255)).as(ByteEdit::new).list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 400)
    void byteMutantsLoadOrFailInOneLine(@ForAll("byteEdits") List<ByteEdit> edits,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 3) int seed) {
        byte[] bytes = SEEDS.get(seed);
        for (ByteEdit e : edits) {
            if (bytes.length > 0) {
                bytes = e.apply(bytes);
            }
        }
        loadOrRefuse(bytes);
    }

    /** One semantic edit: a dim, a data type, an attribute's type or value, an operator, a name, an opset. */
    record FieldEdit(int kind, int target, long value) {
        ModelProto apply(ModelProto m) {
            GraphProto.Builder g = m.getGraph().toBuilder();
            int nodes = g.getNodeCount();
            int inits = g.getInitializerCount();
            switch (kind) {
                case 0 -> {
                    if (inits > 0) {
                        TensorProto.Builder t = g.getInitializer(target % inits).toBuilder();
                        if (t.getDimsCount() > 0) {
                            t.setDims((int) (value & 0xFFFF) % t.getDimsCount(), value >> 16);
                        } else {
                            t.addDims(value >> 16);
                        }
                        g.setInitializer(target % inits, t);
                    }
                }
                case 1 -> {
                    if (inits > 0) {
                        g.setInitializer(target % inits, g.getInitializer(target % inits).toBuilder()
                                .setDataType((int) Math.floorMod(value, 25)));
                    }
                }
                case 2 -> {
                    NodeProto.Builder n = g.getNode(target % nodes).toBuilder();
                    if (n.getAttributeCount() > 0) {
                        int a = (int) Math.floorMod(value, n.getAttributeCount());
                        AttributeProto.Builder attr = n.getAttribute(a).toBuilder();
                        switch ((int) Math.floorMod(value >> 8, 6)) {
                            case 0 -> attr.setTypeValue((int) Math.floorMod(value >> 12, 16));
                            case 1 -> attr.setI(value >> 12);
                            case 2 -> attr.setF(Float.intBitsToFloat((int) (value >> 12)));
                            case 3 -> attr.setS(ByteString.copyFromUtf8(List.of("forward", "reverse", "x", "")
                                    .get((int) Math.floorMod(value >> 12, 4))));
                            case 4 -> attr.clearInts().addInts(value >> 12).addInts(-1);
                            default -> attr.setName(List.of("axis", "perm", "axes", "to", "hidden_size", "layout")
                                    .get((int) Math.floorMod(value >> 12, 6)));
                        }
                        n.setAttribute(a, attr);
                    }
                    g.setNode(target % nodes, n);
                }
                case 3 -> g.setNode(target % nodes, g.getNode(target % nodes).toBuilder().setOpType(List.of("RNN",
                        "GRU", "LSTM", "Identity", "Shape", "Slice", "Concat", "Gather", "Transpose", "Squeeze",
                        "Unsqueeze", "Expand", "Reshape", "Cast", "ConstantOfShape", "Constant", "Softmax")
                        .get((int) Math.floorMod(value, 17))));
                case 4 -> {
                    NodeProto.Builder n = g.getNode(target % nodes).toBuilder();
                    List<String> names = g.getNodeList().stream().flatMap(x -> x.getOutputList().stream()).toList();
                    String name = names.isEmpty() ? "" : names.get((int) Math.floorMod(value, names.size()));
                    if (n.getInputCount() > 0 && (value & 1) == 0) {
                        n.setInput((int) Math.floorMod(value >> 1, n.getInputCount()), name);
                    } else {
                        n.addInput(value % 3 == 0 ? "" : name);
                    }
                    g.setNode(target % nodes, n);
                }
                case 5 -> {
                    if (g.getInputCount() > 0) {
                        g.setInput(target % g.getInputCount(), ModelBuilder.valueInfo(g.getInput(target
                                % g.getInputCount()).getName(), (int) Math.floorMod(value, 17), (int) (value >> 40)));
                    }
                }
                default -> {
                    return m.toBuilder().setOpsetImport(0, m.getOpsetImport(0).toBuilder()
                            .setVersion(Math.floorMod(value, 30))).build();
                }
            }
            return m.toBuilder().setGraph(g).build();
        }
    }

    @Provide
    Arbitrary<List<FieldEdit>> fieldEdits() {
        return Combinators.combine(Arbitraries.integers().between(0, 6), Arbitraries.integers().greaterOrEqual(0),
                Arbitraries.longs()).as(FieldEdit::new).list().ofMinSize(1).ofMaxSize(3);
    }

    @Property(tries = 400)
    void fieldMutantsLoadOrFailInOneLine(@ForAll("fieldEdits") List<FieldEdit> edits,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 3) int seed) throws IOException {
        ModelProto m = ModelProto.parseFrom(SEEDS.get(seed));
        for (FieldEdit e : edits) {
            m = e.apply(m);
        }
        loadOrRefuse(m.toByteArray());
    }

    @Property(tries = 300)
    void randomBytesAreRefusedInOneLine(@ForAll @Size(max = 200) byte[] bytes) {
        loadOrRefuse(bytes);
    }

    private static void loadOrRefuse(byte[] bytes) {
        try {
            OnnxModel.load(bytes, "mutant.onnx").describe();
        } catch (InvalidInputException e) {
            String m = e.getMessage();
            assertFalse(m == null || m.contains("\n") || m.contains("\r") || m.length() > 1000, () -> "bad message: " + m);
        }
    }
}
