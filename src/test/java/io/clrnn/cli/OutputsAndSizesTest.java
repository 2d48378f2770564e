package io.clrnn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.Tensor;
import io.clrnn.format.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hardening (issue 24): outputs only to regular files and new paths; sizes that cannot fit refused as a user's
 * mistake, in one line, exit 2; an option that cannot apply refused, not ignored.
 */
class OutputsAndSizesTest {
    @TempDir Path dir;

    private Path weights() throws IOException {
        Path w = dir.resolve("lstm.safetensors");
        Cli.run("init", "--mode", "lstm", "--input-size", "3", "--hidden-size", "4", "--out", w.toString()).assertOk();
        return w;
    }

    private Path input() throws IOException {
        Path x = dir.resolve("x.npy");
        Npy.write(x, Tensor.randn(1, 2, 1, 3));
        return x;
    }

    private Path fifo(String name) throws IOException, InterruptedException {
        Path p = dir.resolve(name);
        assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor(), "mkfifo");
        return p;
    }

    @Test
    void aFifoAsOutputIsRefusedBeforeAnythingRuns() throws Exception {
        Path fifo = fifo("out.npy");
        String line = Cli.run("run", "--weights", weights().toString(), "--input", input().toString(), "--out",
                fifo.toString(), "--device", Cli.DEVICE).usageError();
        assertTrue(line.contains("is not a regular file (a device, FIFO or socket)"), line);
        assertFalse(Files.isRegularFile(fifo), "the FIFO is still a FIFO");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().contains(".bak")
                    || p.getFileName().toString().endsWith(".tmp")).toList(), "nothing left behind");
        }
    }

    @Test
    void aLinkToAFifoIsRefusedAndStaysALink() throws Exception {
        Path fifo = fifo("target");
        Path link = Files.createSymbolicLink(dir.resolve("hn.npy"), fifo);
        String line = Cli.run("init", "--input-size", "3", "--hidden-size", "4", "--out", link.toString())
                .usageError();
        assertTrue(line.contains("is not a regular file"), line);
        assertTrue(Files.isSymbolicLink(link));
    }

    @Test
    void aLinkToARegularFileIsWrittenThroughAndStaysALink() throws IOException {
        Path target = dir.resolve("real.npy");
        Files.write(target, new byte[] {1, 2, 3});
        Path link = Files.createSymbolicLink(dir.resolve("out.npy"), target);
        Cli.run("run", "--weights", weights().toString(), "--input", input().toString(), "--out", link.toString(),
                "--device", Cli.DEVICE).assertOk();
        assertTrue(Files.isSymbolicLink(link), "the link is still a link");
        assertArrayEquals(new int[] {2, 1, 4}, Npy.read(target).shape());
    }

    static Stream<Arguments> tooLarge() {
        return Stream.of(
                Arguments.of(List.of("init", "--mode", "lstm", "--input-size", "1", "--hidden-size", "1073741824"),
                        "weight_ih_l0 would be 4294967296 x 1"),
                Arguments.of(List.of("init", "--input-size", "1", "--hidden-size", "2147483647"),
                        "weight_ih_l0 would be 2147483647 x 1, more elements than one array holds"),
                Arguments.of(List.of("init", "--mode", "lstm", "--input-size", "1", "--hidden-size", "1073741824",
                        "--bidirectional", "--num-layers", "2"), "weight_ih_l0 would be 4294967296 x 1"),
                Arguments.of(List.of("init", "--input-size", "100000", "--hidden-size", "100000"),
                        "weight_ih_l0 would be 100000 x 100000"),
                Arguments.of(List.of("bench", "--input", "100000", "--hidden", "100000"),
                        "weight_ih_l0 would be 100000 x 100000"),
                Arguments.of(List.of("bench", "--seq", "100000", "--batch", "100000"), "too large"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tooLarge")
    void sizesThatCannotFitAreAUsersMistake(List<String> args, String fragment) {
        List<String> all = new java.util.ArrayList<>(args);
        all.addAll(List.of(args.get(0).equals("init") ? "--out" : "--device", args.get(0).equals("init")
                ? dir.resolve("w.safetensors").toString() : Cli.DEVICE));
        String line = Cli.run(all.toArray(String[]::new)).usageError();
        assertTrue(line.contains(fragment), line);
        assertFalse(Files.exists(dir.resolve("w.safetensors")));
    }

    @Test
    void aNonlinearityForAnLstmIsRefusedNotIgnored() throws IOException {
        String line = Cli.run("run", "--weights", weights().toString(), "--input", input().toString(), "--out",
                dir.resolve("o.npy").toString(), "--nonlinearity", "relu", "--device", Cli.DEVICE).usageError();
        assertTrue(line.contains("nonlinearity applies to an RNN, not to LSTM"), line);
        assertFalse(Files.exists(dir.resolve("o.npy")));
    }
}
