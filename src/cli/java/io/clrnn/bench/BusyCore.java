package io.clrnn.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * One core kept busy by a process of its own for as long as this is open: a shell spinning in an empty loop, no
 * system calls, no memory traffic, as another tenant's work would. The benchmark's loaded round runs inside one.
 */
public final class BusyCore implements AutoCloseable {
    /** Long enough for the scheduler to have settled the spinner on a core before anything is timed. */
    private static final long SETTLE_MS = 200;
    private final Process process;

    private BusyCore(Process process) {
        this.process = process;
    }

    public static BusyCore start() {
        try {
            Process p = new ProcessBuilder("sh", "-c", "while :; do :; done")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BusyCore busy = new BusyCore(p);
            Thread.sleep(SETTLE_MS);
            if (!p.isAlive()) {
                throw new IllegalStateException("the busy-loop process ended at once (exit " + p.exitValue() + ")");
            }
            return busy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a busy-loop process: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting a busy-loop process", e);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
