package io.clrnn.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.TestDevice;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without {@link ClrnnPlugin}, an executor's modules and devices still close: at JVM exit, through the shutdown
 * hook. Runs a JVM that opens a module as a task would, and exits.
 */
class ShutdownHookTest {
    /** The child JVM: opens a module through ExecutorModules, as a task does, and returns from main. */
    public static void main(String[] args) {
        ExecutorModules.module(args[0], RnnOptions.defaults().batchFirst(true), args[1]);
        System.out.println("open: " + ExecutorModules.openModules() + " module(s)");
    }

    @Test
    void modulesCloseAtJvmExitWithoutThePlugin(@TempDir Path dir) throws IOException, InterruptedException {
        Path weights = dir.resolve("gru.safetensors");
        StateDict.save(RnnWeights.init(RnnConfig.of(CellType.GRU, 3, 4), 1), weights);
        Path logging = dir.resolve("logback.xml");
        Files.writeString(logging, """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%msg%n</pattern></encoder>
                  </appender>
                  <logger name="io.clrnn.spark.ExecutorModules" level="INFO"/>
                  <root level="WARN"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        Process child = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dlogback.configurationFile=" + logging,
                ShutdownHookTest.class.getName(), weights.toString(), TestDevice.SPEC))
                .redirectErrorStream(true).start();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), output);
        assertTrue(output.contains("open: 1 module(s)"), output);
        assertTrue(output.contains("closing 1 module(s) and 1 device(s)"), output);
    }
}
