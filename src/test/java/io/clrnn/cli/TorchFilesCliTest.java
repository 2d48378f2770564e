package io.clrnn.cli;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clrnn.format.Npy;
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

/**
 * {@code clrnn run} and {@code clrnn inspect} on real torch.save files (scripts/make-torch-fixtures.py): bare
 * state_dicts of RNN, LSTM (with proj_size) and GRU, a training checkpoint, a whole model's state_dict with the
 * LSTM under a prefix, float16 and bfloat16 saves, a legacy-format file; each against torch's own forward.
 */
class TorchFilesCliTest {
    @TempDir Path dir;

    static Path root() {
        return io.clrnn.TestResources.path("torch");
    }

    static Stream<JsonNode> withForward() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(Files.readAllBytes(root().resolve("manifest.json")));
        List<JsonNode> cases = new ArrayList<>();
        manifest.get("files").forEach(f -> {
            if (f.has("forward")) {
                cases.add(f);
            }
        });
        return cases.stream();
    }

    @Test
    void theFilesCoverPlainPrefixedCheckpointAndHalf() throws IOException {
        List<String> files = withForward().map(f -> f.get("file").asText()).toList();
        assertTrue(files.containsAll(List.of("lstm.pt", "gru.pt", "lstm_proj.pt", "prefixed.pt", "checkpoint.pt",
                "half.pt", "bfloat16.pt")), files.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("withForward")
    void runMatchesTorchsForward(JsonNode c) throws IOException {
        JsonNode args = c.path("module").path("args");
        JsonNode forward = c.get("forward");
        List<String> cli = new ArrayList<>(List.of("run", "--weights", root().resolve(c.get("file").asText()).toString(),
                "--input", root().resolve(forward.get("x").asText()).toString(),
                "--out", dir.resolve("out.npy").toString(), "--hn", dir.resolve("hn.npy").toString(),
                "--device", Cli.DEVICE));
        if (args.path("batch_first").asBoolean()) {
            cli.add("--batch-first");
        }
        if (args.has("nonlinearity")) {
            cli.addAll(List.of("--nonlinearity", args.get("nonlinearity").asText()));
        }
        if (forward.has("c_n")) {
            cli.addAll(List.of("--cn", dir.resolve("cn.npy").toString()));
        }
        Cli.run(cli.toArray(String[]::new)).assertOk();
        String name = c.get("file").asText();
        assertClose(Npy.read(root().resolve(forward.get("out").asText())), Npy.read(dir.resolve("out.npy")), name + " out");
        assertClose(Npy.read(root().resolve(forward.get("h_n").asText())), Npy.read(dir.resolve("hn.npy")), name + " h_n");
        if (forward.has("c_n")) {
            assertClose(Npy.read(root().resolve(forward.get("c_n").asText())), Npy.read(dir.resolve("cn.npy")),
                    name + " c_n");
        }
    }

    @Test
    void inspectListsTensorsAndTheModuleFound() {
        Cli.Result r = Cli.run("inspect", root().resolve("prefixed.pt").toString());
        r.assertOk();
        assertTrue(r.out().contains("torch.save zip, 11 tensors"), r.out());
        assertTrue(r.out().contains("norm.num_batches_tracked"), r.out());
        assertTrue(r.out().contains("int64"), r.out());
        assertTrue(r.out().contains("encoder.lstm."), r.out());
        assertTrue(r.out().contains("LSTM(3, 4)"), r.out());
    }

    @Test
    void aPickledModuleIsRefusedTellingToSaveTheStateDict() {
        String line = Cli.run("run", "--weights", root().resolve("module.pt").toString(), "--input",
                root().resolve("lstm.x.npy").toString(), "--out", dir.resolve("o.npy").toString(), "--device", Cli.DEVICE)
                .usageError();
        assertTrue(line.contains("state_dict"), line);
        assertEquals(List.of(), Cli.listing(dir));
    }
}
