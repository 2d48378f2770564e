package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clrnn.base.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** TorchFile and WeightFile against real torch.save files, value by value against what torch saved. */
class TorchFileTest {
    private static final JsonNode MANIFEST = TorchFixtures.manifest();

    static Stream<JsonNode> readable() {
        return files().filter(f -> f.has("expected"));
    }

    static Stream<JsonNode> refused() {
        return files().filter(f -> f.has("error"));
    }

    private static Stream<JsonNode> files() {
        return StreamSupport.stream(MANIFEST.get("files").spliterator(), false);
    }

    @ParameterizedTest
    @MethodSource("readable")
    void readsWhatTorchSaved(JsonNode f) throws IOException {
        String file = f.get("file").asText();
        WeightFile w = WeightFile.open(TorchFixtures.resource(file));
        assertEquals(f.get("format").asText(), w.format(), file);

        List<WeightFile.Entry> expected = new ArrayList<>();
        for (JsonNode e : f.get("entries")) {
            int[] shape = new int[e.get(2).size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.get(2).get(i).asInt();
            }
            expected.add(new WeightFile.Entry(e.get(0).asText(), e.get(1).asText(), shape));
        }
        assertEquals(expected, w.entries(), file);

        Map<String, Tensor> values = Safetensors.read(TorchFixtures.resource(f.get("expected").asText()));
        for (WeightFile.Entry e : w.entries()) {
            Tensor want = values.get(e.name());
            if (want == null) {
                // Not floating-point: listed, but refused when asked for, by name and dtype.
                FormatException x = assertThrows(FormatException.class, () -> w.tensor(e.name()));
                assertOneLine(x, file);
                assertTrue(x.getMessage().contains(FormatException.quote(e.name()) + " is " + e.dtype()), x.getMessage());
                continue;
            }
            Tensor got = w.tensor(e.name());
            assertArrayEquals(want.shape(), got.shape(), file + " " + e.name());
            assertArrayEquals(want.data(), got.data(), file + " " + e.name());
        }
    }

    @ParameterizedTest
    @MethodSource("refused")
    void refusesWithOneLineThatSaysWhy(JsonNode f) {
        String file = f.get("file").asText();
        FormatException e = assertThrows(FormatException.class, () -> WeightFile.open(TorchFixtures.resource(file)));
        assertOneLine(e, file);
        assertTrue(e.getMessage().contains(f.get("error").asText()), e.getMessage());
    }

    @Test
    void hostileFixturesRunNothing() throws IOException {
        // The payloads torch.load would run: `touch` this path. Opening them here must not.
        Path pwned = Path.of(MANIFEST.get("pwned_path").asText());
        Files.deleteIfExists(pwned);
        for (String file : List.of("evil_system.pt", "evil_eval.pt")) {
            assertThrows(FormatException.class, () -> WeightFile.open(TorchFixtures.resource(file)));
        }
        assertFalse(Files.exists(pwned));
    }

    @Test
    void aWholeModuleIsRefusedWithTheWayOut() {
        FormatException e = assertThrows(FormatException.class, () -> WeightFile.open(TorchFixtures.resource("module.pt")));
        assertEquals("module.pt: data.pkl offset 2: holds a pickled Python object of class '__main__.MyModel', such as a "
                + "whole model saved with torch.save(model); clrnn reads state_dicts only: save model.state_dict() instead",
                e.getMessage());
    }

    @Test
    void checkpointsNameTensorsThroughNestedDictsAndIntKeys() throws IOException {
        WeightFile w = WeightFile.open(TorchFixtures.resource("checkpoint.pt"));
        List<String> names = w.entries().stream().map(WeightFile.Entry::name).toList();
        assertTrue(names.contains("model.weight_ih_l0"), names.toString());
        assertTrue(names.contains("optimizer.state.0.exp_avg"), names.toString());
        assertTrue(names.contains("optimizer.state.3.step"), names.toString());
        assertEquals(4 + 4 * 3, names.size(), names.toString());
    }

    @Test
    void integerBuffersAreListedAndRefusedOnlyWhenAskedFor() throws IOException {
        WeightFile w = WeightFile.open(TorchFixtures.resource("prefixed.pt"));
        WeightFile.Entry n = w.entries().get(w.entries().size() - 1);
        assertEquals(new WeightFile.Entry("norm.num_batches_tracked", "int64", new int[0]), n);
        FormatException e = assertThrows(FormatException.class, () -> w.tensor("norm.num_batches_tracked"));
        assertEquals("prefixed.pt: tensor 'norm.num_batches_tracked' is int64; clrnn reads float32, float16, bfloat16 "
                + "and float64 tensors", e.getMessage());
        assertArrayEquals(new int[] {16, 3}, w.tensor("encoder.lstm.weight_ih_l0").shape());
    }

    @Test
    void anAbsentKeyIsNamed() throws IOException {
        WeightFile w = WeightFile.open(TorchFixtures.resource("lstm.pt"));
        FormatException e = assertThrows(FormatException.class, () -> w.tensor("weight_ih_l9\nx"));
        assertEquals("lstm.pt: no tensor named 'weight_ih_l9\\u000ax'", e.getMessage());
    }

    @Test
    void viewsOfOneStorageKeepTheirOffsetsAndStrides() throws IOException {
        for (String file : List.of("views.pt", "legacy.pt")) {
            WeightFile w = WeightFile.open(TorchFixtures.resource(file));
            // big = arange(24).reshape(6, 4); b = big.t(), c = big[:, 1], e = big[1:5:2, ::2].
            assertArrayEquals(new float[] {1, 5, 9, 13, 17, 21}, w.tensor("c").data(), file);
            assertArrayEquals(new float[] {4, 6, 12, 14}, w.tensor("e").data(), file);
            assertArrayEquals(new int[] {4, 6}, w.tensor("b").shape(), file);
            assertArrayEquals(new float[] {0, 4, 8, 12, 16, 20}, java.util.Arrays.copyOf(w.tensor("b").data(), 6), file);
            assertArrayEquals(new float[] {14}, w.tensor("s").data(), file);
            assertArrayEquals(new int[] {0, 4}, w.tensor("z").shape(), file);
            assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, w.tensor("x").data(), file);
        }
    }

    @Test
    void theRecurrentFixturesCarryTheirModuleAndForwardData() {
        for (String name : List.of("rnn", "lstm", "lstm_proj", "gru")) {
            JsonNode f = files().filter(x -> x.get("file").asText().equals(name + ".pt")).findFirst().orElseThrow();
            JsonNode args = f.get("module").get("args");
            int hidden = args.has("proj_size") && args.get("proj_size").asInt() > 0
                    ? args.get("proj_size").asInt() : args.get("hidden_size").asInt();
            int directions = args.get("bidirectional").asBoolean() ? 2 : 1;
            Tensor out = Npy.read(TorchFixtures.bytes(f.get("forward").get("out").asText()), "out.npy");
            Tensor h = Npy.read(TorchFixtures.bytes(f.get("forward").get("h_n").asText()), "h_n.npy");
            assertEquals(directions * hidden, out.shape()[2], name);
            assertEquals(directions * args.get("num_layers").asInt(), h.shape()[0], name);
            assertEquals(name.startsWith("lstm"), f.get("forward").has("c_n"), name);
        }
    }

    @Test
    void openAndDetectTellFormatsByContent() throws IOException {
        assertEquals(WeightFile.Kind.TORCH_ZIP, WeightFile.detect(TorchFixtures.resource("lstm.pt")));
        assertEquals(WeightFile.Kind.TORCH_LEGACY, WeightFile.detect(TorchFixtures.resource("legacy.pt")));
        assertEquals(WeightFile.Kind.SAFETENSORS, WeightFile.detect(TorchFixtures.resource("lstm.expected.safetensors")));
        assertEquals(WeightFile.Kind.NPY, WeightFile.detect(TorchFixtures.resource("lstm.x.npy")));
        assertEquals(WeightFile.Kind.ONNX, WeightFile.Kind.of(new byte[] {0x08, 0x07, 0x12, 0x07}));
        assertEquals(WeightFile.Kind.PICKLE, WeightFile.Kind.of(new byte[] {(byte) 0x80, 4, (byte) 0x95}));
        assertEquals(WeightFile.Kind.UNKNOWN, WeightFile.Kind.of(new byte[0]));

        WeightFile st = WeightFile.open(TorchFixtures.resource("lstm.expected.safetensors"));
        assertEquals("safetensors", st.format());
        WeightFile pt = WeightFile.open(TorchFixtures.resource("lstm.pt"));
        assertEquals(pt.entries(), st.entries());
        for (WeightFile.Entry e : pt.entries()) {
            assertArrayEquals(st.tensor(e.name()).data(), pt.tensor(e.name()).data(), e.name());
        }
    }

    @Test
    void zip64EndRecordsAreFollowed() {
        // torch writes a zip64 end record and its locator before the plain one; a writer may leave
        // the plain one's fields at 0xFFFF / 0xFFFFFFFF, sending readers to the zip64 record.
        byte[] lstm = TorchFixtures.bytes("lstm.pt");
        java.nio.ByteBuffer end = java.nio.ByteBuffer.wrap(lstm).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int at = lstm.length - 22;
        assertEquals(0x06054b50, end.getInt(at));
        end.putShort(at + 8, (short) -1).putShort(at + 10, (short) -1).putInt(at + 12, -1).putInt(at + 16, -1);
        WeightFile w = WeightFile.open(lstm, "lstm.pt");
        assertEquals(8, w.entries().size());
        assertArrayEquals(new int[] {16, 3}, w.tensor("weight_ih_l0").shape());
    }

    @Test
    void otherFilesAreRefusedWithWhatClrnnReads() {
        Map<byte[], String> files = Map.of(
                new byte[] {0x08, 0x07, 0x12}, "m.onnx: looks like an ONNX model, not a weights file",
                new byte[] {(byte) 0x80, 2, 'N', '.'}, "m.onnx: a pickle that is not a torch.save file",
                "hello".getBytes(), "m.onnx: not a weights file clrnn reads: expected a torch.save file (.pt, .pth) or safetensors",
                TorchFixtures.bytes("lstm.x.npy"), "m.onnx: a .npy array, not a weights file");
        files.forEach((bytes, message) -> {
            FormatException e = assertThrows(FormatException.class, () -> WeightFile.open(bytes, "m.onnx"));
            assertTrue(e.getMessage().startsWith(message), e.getMessage());
        });
    }

    static void assertOneLine(FormatException e, String file) {
        String m = e.getMessage();
        assertFalse(m == null || m.isBlank(), "empty message");
        assertFalse(m.contains("\n") || m.contains("\r"), "message has several lines: " + m);
        assertTrue(m.startsWith(file + ": "), "message does not name " + file + ": " + m);
    }
}
