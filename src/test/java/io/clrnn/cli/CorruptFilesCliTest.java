package io.clrnn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every file of the corrupt corpus handed to {@code clrnn run}: exit 2, one {@code error:} line
 * naming the file, no output (not even a temp file), and the file's bytes untouched.
 */
class CorruptFilesCliTest {
    /** A good RNN(3, 5) case with an h0, so each corrupt file can replace one good one. */
    private static final Path GOOD = Fixtures.root().resolve("tanh_L3_nobias_bi_h0_I3_H7_T3_B2");

    @TempDir Path dir;

    static Stream<Path> npyFiles() throws IOException {
        return corpus("npy");
    }

    static Stream<Path> safetensorsFiles() throws IOException {
        return corpus("safetensors");
    }

    private static Stream<Path> corpus(String kind) throws IOException {
        Path root;
        root = io.clrnn.TestResources.path("corrupt/" + kind);
        List<Path> files;
        try (Stream<Path> s = Files.list(root)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        assertFalse(files.isEmpty(), "corrupt/" + kind + " is empty");
        return files.stream();
    }

    @ParameterizedTest(name = "--input {0}")
    @MethodSource("npyFiles")
    void corruptInputIsRefused(Path corrupt) throws IOException {
        refused(corrupt, "--input");
    }

    @ParameterizedTest(name = "--h0 {0}")
    @MethodSource("npyFiles")
    void corruptH0IsRefused(Path corrupt) throws IOException {
        refused(corrupt, "--h0");
    }

    @ParameterizedTest(name = "--weights {0}")
    @MethodSource("safetensorsFiles")
    void corruptWeightsAreRefused(Path corrupt) throws IOException {
        refused(corrupt, "--weights");
    }

    private void refused(Path corrupt, String option) throws IOException {
        Path copy = Files.copy(corrupt, dir.resolve(corrupt.getFileName()));
        String before = Cli.sha256(copy);
        List<String> listing = Cli.listing(dir);
        Path weights = option.equals("--weights") ? copy : GOOD.resolve("weights.safetensors");
        Path input = option.equals("--input") ? copy : GOOD.resolve("input.npy");
        Path h0 = option.equals("--h0") ? copy : GOOD.resolve("h0.npy");

        Cli.Result r = Cli.run("run", "--weights", weights.toString(), "--input", input.toString(),
                "--h0", h0.toString(), "--out", dir.resolve("out.npy").toString(),
                "--hn", dir.resolve("hn.npy").toString(), "--device", Cli.DEVICE);

        String line = r.usageError();
        assertTrue(line.contains(corrupt.getFileName().toString()), () -> "does not name the file: " + line);
        assertEquals("", r.out());
        assertEquals(listing, Cli.listing(dir), "a failed run creates no file");
        assertEquals(before, Cli.sha256(copy), "the input file was changed");
    }
}
