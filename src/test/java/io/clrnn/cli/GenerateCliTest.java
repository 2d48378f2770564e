package io.clrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.TestResources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code clrnn generate} on the fixture language model (scripts/make-generate-fixtures.py): --top-k 1 prints the
 * prompt and torch's greedy continuation; a seed prints the same samples again; mistakes are one line, exit 2.
 */
class GenerateCliTest {
    private static final Path DIR = TestResources.path("generate");

    @TempDir Path dir;

    private static Cli.Result generate(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--device";
        all[args.length + 1] = Cli.DEVICE;
        String[] withCommand = new String[all.length + 1];
        withCommand[0] = "generate";
        System.arraycopy(all, 0, withCommand, 1, all.length);
        return Cli.run(withCommand);
    }

    @ParameterizedTest
    @ValueSource(strings = {"lm.onnx", "lm_time_major.onnx", "lm.pt"})
    void greedyPrintsTorchsContinuation(String model) throws IOException {
        JsonNode c = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile()).get("cases").get(0);
        Cli.Result r = generate("--weights", DIR.resolve(model).toString(), "--vocab", DIR.resolve("vocab.json")
                .toString(), "--prompt", c.get("prompt").asText(), "--length", c.get("length").asText(), "--top-k", "1");
        r.assertOk();
        assertEquals(c.get("prompt").asText() + c.get("text").asText() + System.lineSeparator(), r.out());
        assertEquals("", r.err());
    }

    @Test
    void aSeedGivesTheSameSamplesAgain() {
        String[] args = {"--weights", DIR.resolve("lm.onnx").toString(), "--vocab", DIR.resolve("vocab_object.json")
                .toString(), "--prompt", "a", "--length", "30", "--temperature", "0.8", "--top-k", "10", "--top-p", "0.9",
            "--seed", "7", "--num-samples", "3"};
        Cli.Result first = generate(args);
        first.assertOk();
        assertEquals(first.out(), generate(args).out());
        List<String> lines = first.out().lines().toList();
        assertEquals("--- sample 1 ---", lines.get(0));
        assertEquals(3, lines.stream().filter(l -> l.startsWith("--- sample ")).count(), first.out());
    }

    @Test
    void mistakesAreOneLine() throws IOException {
        String lm = DIR.resolve("lm.onnx").toString();
        String vocab = DIR.resolve("vocab.json").toString();
        assertEquals("error: the vocabulary has no token for 'Q' (U+0051) at character 4 of the prompt",
                generate("--weights", lm, "--vocab", vocab, "--prompt", "the Quick").usageError());
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "[]");
        assertEquals("error: " + empty + ": the vocabulary is empty",
                generate("--weights", lm, "--vocab", empty.toString(), "--prompt", "a").usageError());
        Path small = dir.resolve("small.json");
        Files.writeString(small, "[\"a\", \"b\"]");
        assertEquals("error: the model gives 34 logits a step, but the vocabulary has 2 tokens",
                generate("--weights", lm, "--vocab", small.toString(), "--prompt", "ab").usageError());
        assertEquals("error: the prompt is empty: the model needs at least one token to go on from",
                generate("--weights", lm, "--vocab", vocab, "--prompt", "").usageError());
        assertEquals("error: temperature must be a positive number, not -1.0 (--top-k 1 is greedy)",
                generate("--weights", lm, "--vocab", vocab, "--prompt", "a", "--temperature", "-1").usageError());
        assertEquals("error: --num-samples must be 1 or more, not 0",
                generate("--weights", lm, "--vocab", vocab, "--prompt", "a", "--num-samples", "0").usageError());
        String tagger = TestResources.path("networks").resolve("tagger_op14").resolve("model.onnx").toString();
        String line = generate("--weights", tagger, "--vocab", vocab, "--prompt", "a").usageError();
        assertTrue(line.endsWith("runs bidirectional: its outputs depend on the steps to come, so the graph cannot be "
                + "fed a chunk at a time"), line);
        assertEquals("error: --time-major is for an ONNX model; " + DIR.resolve("lm.pt") + " is a state_dict (use "
                + "--batch-first for its module)", generate("--weights", DIR.resolve("lm.pt").toString(), "--vocab",
                vocab, "--prompt", "a", "--time-major").usageError());
        assertEquals("error: no such file: " + dir.resolve("nope.json"),
                generate("--weights", lm, "--vocab", dir.resolve("nope.json").toString(), "--prompt", "a").usageError());
    }
}
