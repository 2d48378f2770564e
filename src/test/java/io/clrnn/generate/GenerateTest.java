package io.clrnn.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.base.InvalidInputException;
import io.clrnn.RnnOptions;
import io.clrnn.TestDevice;
import io.clrnn.TestResources;
import io.clrnn.device.Device;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Text generation against torch's greedy loop (scripts/make-generate-fixtures.py: a seeded random character LM,
 * Embedding -> 2-layer LSTM -> Linear, its continuations of three prompts), from the ONNX export in both layouts and
 * from the state_dict; seeded sampling reproducible; the vocabulary's and the sampler's rules.
 */
class GenerateTest {
    private static final Device device = TestDevice.shared();
    static final Path DIR = TestResources.path("generate");

    record Expected(String prompt, int length, int[] ids, String text) {
        @Override
        public String toString() {
            return prompt;
        }
    }

    static List<Expected> expected() throws IOException {
        JsonNode root = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile());
        List<Expected> out = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            int[] ids = new int[c.get("ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = c.get("ids").get(i).asInt();
            }
            out.add(new Expected(c.get("prompt").asText(), c.get("length").asInt(), ids, c.get("text").asText()));
        }
        return out;
    }

    static Stream<String> models() {
        return Stream.of("lm.onnx", "lm_time_major.onnx", "lm.pt");
    }

    static TokenModel open(String file) throws IOException {
        Path path = DIR.resolve(file);
        if (file.endsWith(".pt")) {
            return StateDictTokenModel.load(device, path, RnnOptions.defaults().batchFirst(true), null, null);
        }
        OnnxSession session = OnnxModel.load(path).open(device);
        OnnxTokenModel m = new OnnxTokenModel(session, null);
        return new TokenModel() { // closes the session with the model
            @Override
            public void start(int batch) {
                m.start(batch);
            }

            @Override
            public float[] feed(int[] ids, int steps) {
                return m.feed(ids, steps);
            }

            @Override
            public int vocabSize() {
                return m.vocabSize();
            }

            @Override
            public void close() {
                m.close();
                session.close();
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void greedyEqualsTorchsGreedyLoop(String file) throws IOException {
        Vocabulary vocab = Vocabulary.read(DIR.resolve("vocab.json"));
        try (TokenModel model = open(file)) {
            for (Expected e : expected()) {
                List<Integer> heard = new ArrayList<>();
                int[][] made = Generator.generate(model, vocab, vocab.encode(e.prompt()), e.length(), 3,
                        Sampler.greedy(), (sample, id) -> heard.add(sample * 1000 + id));
                for (int s = 0; s < 3; s++) {
                    assertArrayEquals(e.ids(), made[s], file + ", " + e.prompt() + ", sample " + s);
                }
                assertEquals(e.text(), vocab.decode(made[0]));
                assertEquals(3 * e.length(), heard.size());
                assertEquals(e.ids()[0], (int) heard.get(0));
                assertEquals(1000 + e.ids()[0], (int) heard.get(1), "samples heard in order, step by step");
            }
        }
    }

    @Test
    void theOnnxModelsLayoutComesFromItsInputsDimensionNames() throws IOException {
        for (String file : List.of("lm.onnx", "lm_time_major.onnx")) {
            try (OnnxSession session = OnnxModel.load(DIR.resolve(file)).open(device)) {
                assertEquals(file.contains("time_major"), new OnnxTokenModel(session, null).timeMajor(), file);
            }
        }
    }

    @Test
    void seededSamplingRepeatsAndAnotherSeedDiffers() throws IOException {
        Vocabulary vocab = Vocabulary.read(DIR.resolve("vocab_object.json"));
        int[] prompt = vocab.encode("the");
        try (TokenModel onnx = open("lm.onnx"); TokenModel pt = open("lm.pt")) {
            int[][] a = Generator.generate(onnx, vocab, prompt, 40, 4, new Sampler(0.9, 12, 0.95, 7), null);
            int[][] b = Generator.generate(onnx, vocab, prompt, 40, 4, new Sampler(0.9, 12, 0.95, 7), null);
            int[][] c = Generator.generate(pt, vocab, prompt, 40, 4, new Sampler(0.9, 12, 0.95, 7), null);
            int[][] d = Generator.generate(onnx, vocab, prompt, 40, 4, new Sampler(0.9, 12, 0.95, 8), null);
            for (int s = 0; s < 4; s++) {
                assertArrayEquals(a[s], b[s], "the same seed, sample " + s);
                assertArrayEquals(a[s], c[s], "the same seed from the state_dict, sample " + s);
            }
            assertNotEquals(List.of(a[0], a[1]).stream().map(java.util.Arrays::toString).toList(),
                    List.of(d[0], d[1]).stream().map(java.util.Arrays::toString).toList());
            assertNotEquals(java.util.Arrays.toString(a[0]), java.util.Arrays.toString(a[1]), "samples differ");
        }
    }

    @Test
    void theSamplerKeepsToTopKAndTopP() {
        float[] logits = {0f, 3f, 1f, 2.9f, -1f, 2.8f};
        for (long seed = 0; seed < 200; seed++) {
            int k2 = new Sampler(1, 2, 1, seed).next(logits, 0, logits.length);
            assertTrue(k2 == 1 || k2 == 3, "top-k 2 drew " + k2);
            // p(1) = e^3 / sum is about 0.34: top-p 0.3 keeps token 1 alone
            assertEquals(1, new Sampler(1, 0, 0.3, seed).next(logits, 0, logits.length));
            int p = new Sampler(1, 0, 0.9, seed).next(logits, 0, logits.length);
            assertTrue(p != 4 && p != 0, "top-p 0.9 drew " + p);
        }
        assertEquals(1, Sampler.greedy().next(new float[] {9f, 0f, 5f, 5f}, 1, 3), "greedy over a slice, first of ties");
        // a low temperature is nearly greedy; a high one spreads the draws
        int[] hot = new int[6];
        for (long seed = 0; seed < 300; seed++) {
            assertEquals(1, new Sampler(0.01, 0, 1, seed).next(logits, 0, logits.length));
            hot[new Sampler(100, 0, 1, seed).next(logits, 0, logits.length)]++;
        }
        for (int i = 0; i < 6; i++) {
            assertTrue(hot[i] > 20, "temperature 100 drew token " + i + " " + hot[i] + " times in 300");
        }
        assertEquals("temperature must be a positive number, not 0.0 (--top-k 1 is greedy)",
                assertThrows(InvalidInputException.class, () -> new Sampler(0, 0, 1, 1)).getMessage());
        assertEquals("top-p must be in (0, 1], not 1.5",
                assertThrows(InvalidInputException.class, () -> new Sampler(1, 0, 1.5, 1)).getMessage());
        assertEquals("top-k must be 0 (all tokens) or more, not -1",
                assertThrows(InvalidInputException.class, () -> new Sampler(1, -1, 1, 1)).getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "{}", "[\"a\", \"a\"]", "{\"a\": 0, \"b\": 0}", "{\"a\": 1}", "[\"a\", 3]", "[\"\"]",
        "\"abc\"", "[\"a\"] x"})
    void aBadVocabularyIsRefusedInOneLine(String json, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("v.json");
        Files.writeString(file, json);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Vocabulary.read(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void textIsCutByLongestMatch() {
        Vocabulary v = Vocabulary.of(List.of("a", "ab", "abc", "c", "b"));
        assertArrayEquals(new int[] {2, 1, 0}, v.encode("abcaba"));
        assertEquals("abcaba", v.decode(2, 1, 0));
        assertEquals("the vocabulary has no token for 'x' (U+0078) at character 3 of the prompt",
                assertThrows(InvalidInputException.class, () -> v.encode("abcx")).getMessage());
    }

    @Test
    void aVocabularyThatDoesNotFitTheModelIsRefused() throws IOException {
        try (TokenModel model = open("lm.onnx")) {
            Vocabulary small = Vocabulary.of(List.of("a", "b", "t", "h", "e"));
            assertEquals("the model gives 34 logits a step, but the vocabulary has 5 tokens",
                    assertThrows(InvalidInputException.class, () -> Generator.generate(model, small,
                            small.encode("the"), 5, 1, Sampler.greedy(), null)).getMessage());
        }
    }
}
