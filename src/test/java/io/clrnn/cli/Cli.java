package io.clrnn.cli;

import io.clrnn.TestDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the CLI in-process (or in a child JVM) and checks the shape of what it printed. */
final class Cli {
    /** The device every CLI test runs on; -Dclrnn.device overrides, as in the other tests. */
    static final String DEVICE = TestDevice.SPEC;

    private Cli() {}

    /** What one invocation returned and printed. */
    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        /** Exit 2 and exactly one {@code error: …} line (plus picocli's usage hint, when it adds one); returns it. */
        String usageError() {
            assertEquals(Main.EXIT_USAGE, code, this::toString);
            return singleErrorLine();
        }

        /** Exactly one {@code error: …} line and no stack trace; picocli's "(see ... --help)" hint may follow. */
        String singleErrorLine() {
            List<String> lines = errLines();
            List<String> rest = lines.size() == 2 && lines.get(1).matches("\\(see '.*--help'\\)") ? lines.subList(0, 1)
                    : lines;
            assertEquals(1, rest.size(), () -> "expected one error line, got:\n" + err);
            String line = rest.get(0);
            assertTrue(line.startsWith("error: "), () -> "not an error line: " + line);
            assertFalse(err.contains("\tat "), () -> "stack trace without --verbose:\n" + err);
            return line;
        }

        void assertOk() {
            assertEquals(Main.EXIT_OK, code, this::toString);
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** {@code java -cp <test classpath> io.clrnn.cli.Main args} with extra environment variables. */
    static Result runInChildJvm(Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        return runInChildJvm(List.of(), env, args);
    }

    /** As above, with options for the child JVM (a small heap, say). */
    static Result runInChildJvm(List<String> jvmOptions, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        String javaBin = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(javaBin));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        Path outFile = Files.createTempFile("clrnn-cli-out", ".txt");
        Path errFile = Files.createTempFile("clrnn-cli-err", ".txt");
        try {
            pb.redirectOutput(outFile.toFile()).redirectError(errFile.toFile());
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM did not finish in 60 s: " + command);
            }
            return new Result(p.exitValue(), Files.readString(outFile), Files.readString(errFile));
        } finally {
            Files.deleteIfExists(outFile);
            Files.deleteIfExists(errFile);
        }
    }

    /**
     * A little-endian integer .npy as np.save writes one (format 1.0, header padded to 64 bytes): {@code <i4} when
     * {@code bytes} is 4 (np.int32), {@code <i8} when it is 8 (np.int64, as torch.tensor(...).numpy() gives);
     * {@code shape} is the Python tuple, e.g. "(4,)" or "(1, 4)".
     */
    static byte[] npyInts(long[] values, int bytes, String shape) {
        if (bytes != 4 && bytes != 8) {
            throw new IllegalArgumentException("bytes must be 4 or 8, not " + bytes);
        }
        String dict = "{'descr': '<i" + bytes + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + bytes * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length())
                .put(header.getBytes(StandardCharsets.US_ASCII));
        for (long v : values) {
            if (bytes == 4) {
                b.putInt((int) v);
            } else {
                b.putLong(v);
            }
        }
        return b.array();
    }

    static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The names in {@code dir}, sorted, to show that a failed run created nothing (not even a temp file). */
    static List<String> listing(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
