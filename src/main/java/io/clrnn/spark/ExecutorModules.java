package io.clrnn.spark;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.RnnOptions;
import io.clrnn.device.Device;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The devices and modules of this JVM (a Spark executor, or the driver in local mode): opened lazily on the
 * first task that needs them, one module per (weights file, options, device), shared by every task thread,
 * and closed by {@link ClrnnPlugin} when the executor stops, or by a JVM shutdown hook.
 */
final class ExecutorModules {
    private static final Logger log = LoggerFactory.getLogger(ExecutorModules.class);

    /**
     * A module's identity. The file's size and modification time are part of it, so a weights file rewritten in
     * place (a model retrained to the same path) is loaded anew instead of served stale. The options are taken
     * with their dropout at 0: it changes only a module's repr, never its results, so it opens no module of its own.
     */
    record Key(String weights, long size, long modified, RnnOptions options, int device) {}

    private static final Map<Key, Rnn> modules = new LinkedHashMap<>();
    /** Open devices by their index in {@link Device#list()}; a spec's device is found once, then kept. */
    private static final Map<Integer, Device> devices = new LinkedHashMap<>();
    private static final Map<String, Integer> specs = new LinkedHashMap<>();
    private static boolean hookAdded;

    private ExecutorModules() {}

    /**
     * The module for {@code weights} under {@code options} on the device {@code deviceSpec} names (a
     * {@link io.clrnn.device.DeviceSpec} form; {@code resource:gpu} already resolved), opened on first use.
     * A missing or unreadable file fails with clrnn's one-line message.
     */
    static synchronized Rnn module(String weights, RnnOptions options, String deviceSpec) {
        Path path = resolveWeights(weights);
        BasicFileAttributes attributes = attributes(path);
        Device device = device(deviceSpec);
        Key key = new Key(path.toString(), attributes.size(), attributes.lastModifiedTime().toMillis(),
                options.dropout(0), device.info().index());
        Rnn rnn = modules.get(key);
        if (rnn == null) {
            long start = System.nanoTime();
            rnn = load(device, path, options);
            modules.put(key, rnn);
            log.info("opened {} from {} on {} in {} ms", rnn, path, device, (System.nanoTime() - start) / 1_000_000);
        }
        return rnn;
    }

    /** Closes every module, then every device; idempotent. The next task opens them again. */
    static synchronized void closeAll() {
        if (modules.isEmpty() && devices.isEmpty()) {
            return;
        }
        log.info("closing {} module(s) and {} device(s)", modules.size(), devices.size());
        List<AutoCloseable> order = new ArrayList<>(modules.values());
        order.addAll(devices.values());
        modules.clear();
        devices.clear();
        specs.clear();
        for (AutoCloseable c : order) {
            try {
                c.close();
            } catch (Exception | Error e) {
                log.warn("closing {} failed: {}", c, e.toString());
            }
        }
    }

    /** How many modules are open now; for tests. */
    static synchronized int openModules() {
        return modules.size();
    }

    /** How many devices are open now; for tests. */
    static synchronized int openDevices() {
        return devices.size();
    }

    /**
     * Where the weights are: a path readable here (a {@code file:} URI too), else a file of that name shipped
     * with {@code --files} or {@code SparkContext.addFile} (found with {@link SparkFiles#get}). A path found in
     * neither place is returned as given, so that loading it fails with clrnn's own message.
     */
    static Path resolveWeights(String weights) {
        Path given = weights.startsWith("file:/") ? Path.of(URI.create(weights))
                : Path.of(weights.startsWith("file:") ? weights.substring("file:".length()) : weights);
        if (Files.exists(given)) {
            return given.toAbsolutePath().normalize();
        }
        if (SparkEnv.get() != null && given.getFileName() != null) {
            Path shipped = Path.of(SparkFiles.get(given.getFileName().toString()));
            if (Files.exists(shipped)) {
                return shipped;
            }
        }
        return given;
    }

    private static BasicFileAttributes attributes(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            throw loadFailure(path, e);
        }
    }

    private static Rnn load(Device device, Path path, RnnOptions options) {
        try {
            return Rnn.load(device, path, options);
        } catch (IOException e) {
            throw loadFailure(path, e);
        }
    }

    /** The CLI's words for a file that cannot be read, with where the executor looked. */
    private static InvalidInputException loadFailure(Path path, IOException e) {
        String what = e instanceof NoSuchFileException ? "no such file: " + path
                + " (looked on this executor's file system and among the files shipped with --files or addFile)"
                : e instanceof AccessDeniedException ? "permission denied: " + path
                : e instanceof FileSystemException ? String.valueOf(e.getMessage())
                : "I/O error: " + e.getMessage();
        return new InvalidInputException(what, e);
    }

    private static Device device(String spec) {
        Integer index = specs.get(spec);
        if (index != null) {
            return devices.get(index);
        }
        Device opened = Device.select(spec);
        index = opened.info().index();
        Device kept = devices.get(index);
        if (kept != null) {
            opened.close(); // another spec named the same device first: one context per device
        } else {
            kept = opened;
            devices.put(index, kept);
            log.info("opened device {} for spec '{}'", kept, spec);
            addShutdownHook();
        }
        specs.put(spec, index);
        return kept;
    }

    /** The fallback when {@link ClrnnPlugin} is not enabled: close everything at JVM exit. */
    private static void addShutdownHook() {
        if (!hookAdded) {
            Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModules::closeAll, "clrnn-close-modules"));
            hookAdded = true;
        }
    }
}
