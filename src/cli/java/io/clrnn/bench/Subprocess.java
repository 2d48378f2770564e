package io.clrnn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.clrnn.base.ClrnnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a peer's process (bench_torch.py, ONNX Runtime's JVM) and reads the JSON object it prints last. */
final class Subprocess {
    private static final Logger log = LoggerFactory.getLogger(Subprocess.class);

    private Subprocess() {}

    /**
     * Runs a command and parses the last line it prints as JSON; a failure (an exit code, no JSON, the timeout)
     * carries the command's name and its last output line.
     */
    static JsonNode runForJson(List<String> command, long timeoutSeconds) throws IOException {
        return runForJson(command.get(0).replaceFirst(".*/", ""), command, timeoutSeconds);
    }

    /** As {@link #runForJson(List, long)}, naming the command {@code name} in failures. */
    static JsonNode runForJson(String name, List<String> command, long timeoutSeconds) throws IOException {
        log.debug("running {}", command);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            process.getOutputStream().close();
            // Drained on another thread, so that the timeout holds even if the child never closes its output.
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process));
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new ClrnnException(name + " did not finish in " + timeoutSeconds + " s");
            }
            String text = output.join().strip();
            String last = text.substring(text.lastIndexOf('\n') + 1);
            if (process.exitValue() != 0 || !last.startsWith("{")) {
                throw new ClrnnException(name + " failed (exit " + process.exitValue() + "): " + last);
            }
            return Report.JSON.readTree(last);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + name, e);
        } finally {
            process.destroyForcibly();
        }
    }

    private static String readAll(Process process) {
        try {
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
