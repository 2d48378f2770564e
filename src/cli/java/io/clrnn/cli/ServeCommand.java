package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.serve.InferenceServer;
import io.clrnn.serve.ServerOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code clrnn serve}: the Open Inference Protocol over HTTP for whole ONNX networks and state_dict modules, with
 * dynamic batching of requests of any lengths and sequences kept on the device; until SIGTERM or Ctrl-C, which
 * stop it gracefully.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve models over HTTP with the Open Inference Protocol (KServe v2 / Triton REST).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "NAME=FILE[:OPTS]",
            description = "A model to serve under /v2/models/NAME: an ONNX network, or a state_dict with OPTS "
                    + "such as mode=lstm,nonlinearity=relu,prefix=encoder.lstm,weights_dtype=f16. Repeatable.")
    List<String> models;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only).")
    String host;

    @Option(names = "--port", defaultValue = "8000", paramLabel = "PORT", description = "Port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--max-batch-size", defaultValue = "64", paramLabel = "N",
            description = "Sequences one forward gathers from concurrent requests (default ${DEFAULT-VALUE}).")
    int maxBatchSize;

    @Option(names = "--max-queue-delay-us", defaultValue = "0", paramLabel = "US",
            description = "How long a request waits for others to share its forward (default ${DEFAULT-VALUE}: none; "
                    + "requests that arrive while a forward runs share the next one anyway).")
    long maxQueueDelayUs;

    @Option(names = "--max-queue", defaultValue = "1024", paramLabel = "N",
            description = "Requests a model's queue holds before it answers 503 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", defaultValue = "67108864", paramLabel = "BYTES",
            description = "Largest request body (default ${DEFAULT-VALUE}); larger ones get 413.")
    long maxBodyBytes;

    @Option(names = "--max-sequences", defaultValue = "64", paramLabel = "N",
            description = "Sequences a model keeps state for at once (default ${DEFAULT-VALUE}).")
    int maxSequences;

    @Option(names = "--sequence-idle-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "Drop a sequence after this long without a request (default ${DEFAULT-VALUE}).")
    double sequenceIdleSeconds;

    @Mixin
    DeviceOption device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ServerOptions options = options();
        List<InferenceServer.ModelSpec> specs = new ArrayList<>();
        for (String m : models) {
            specs.add(parse(m));
        }
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        try (Device d = device.open()) {
            InferenceServer server = InferenceServer.start(d, specs, options, host, port);
            // SIGTERM or Ctrl-C: stop accepting, answer what is in flight, close the device, then end with 0 (a JVM
            // ended by a signal would exit with 143, which reads as a crash)
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.stop(5);
                stopped.countDown();
                try {
                    closed.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                out.println("clrnn serve: stopped");
                out.flush();
                Runtime.getRuntime().halt(Main.EXIT_OK);
            }, "clrnn-serve-shutdown"));
            out.println("clrnn serve: " + specs.stream().map(InferenceServer.ModelSpec::name).toList() + " on " + d
                    + ", listening on http://" + host + ":" + server.port() + "/v2");
            out.flush();
            stopped.await();
        } finally {
            closed.countDown();
        }
        return Main.EXIT_OK;
    }

    private ServerOptions options() {
        positive(maxBatchSize, "--max-batch-size");
        positive(maxQueue, "--max-queue");
        positive(maxSequences, "--max-sequences");
        if (maxQueueDelayUs < 0) {
            throw new InvalidInputException("--max-queue-delay-us must be 0 or more, not " + maxQueueDelayUs);
        }
        if (maxBodyBytes < 1) {
            throw new InvalidInputException("--max-body-bytes must be 1 or more, not " + maxBodyBytes);
        }
        if (!(sequenceIdleSeconds > 0) || sequenceIdleSeconds > 1e9) {
            throw new InvalidInputException("--sequence-idle-timeout must be a positive number of seconds, not "
                    + sequenceIdleSeconds);
        }
        if (port < 0 || port > 65535) {
            throw new InvalidInputException("--port must be 0 to 65535, not " + port);
        }
        return new ServerOptions(maxBatchSize, maxQueueDelayUs * 1000, maxQueue, maxBodyBytes, maxSequences,
                (long) (sequenceIdleSeconds * 1e9));
    }

    private static void positive(int value, String option) {
        if (value < 1) {
            throw new InvalidInputException(option + " must be 1 or more, not " + value);
        }
    }

    /** NAME=FILE or NAME=FILE:key=value,flag,... */
    static InferenceServer.ModelSpec parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) {
            throw new InvalidInputException("--model " + spec + ": expected NAME=FILE[:OPTIONS]");
        }
        String name = spec.substring(0, eq);
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new InvalidInputException("--model " + spec + ": a model name is letters, digits, '_', '.' and '-'");
        }
        String rest = spec.substring(eq + 1);
        int colon = rest.lastIndexOf(':');
        String file = rest;
        RnnOptions options = RnnOptions.defaults();
        if (colon > 0 && rest.substring(colon + 1).matches("[a-z_]+(=[^,]*)?(,[a-z_]+(=[^,]*)?)*")) {
            file = rest.substring(0, colon);
            for (String kv : rest.substring(colon + 1).split(",")) {
                String[] p = kv.split("=", 2);
                String value = p.length > 1 ? p[1] : null;
                options = switch (p[0]) {
                    case "mode" -> options.mode(CellType.parse(need(value, p[0])));
                    case "nonlinearity" -> options.nonlinearity(Nonlinearity.parse(need(value, p[0])));
                    case "prefix" -> options.prefix(need(value, p[0]));
                    case "weights_dtype" -> options.weightsDtype(WeightsDtype.parse(need(value, p[0])));
                    case "batch_first" -> options; // the server's tensors are batch-first whatever the module's
                    default -> throw new InvalidInputException("--model " + spec + ": unknown option " + p[0]
                            + " (mode, nonlinearity, prefix, weights_dtype)");
                };
            }
        }
        return new InferenceServer.ModelSpec(name, Path.of(file), options);
    }

    private static String need(String value, String key) {
        if (value == null || value.isEmpty()) {
            throw new InvalidInputException("--model option " + key + " needs a value, e.g. " + key + "="
                    + key.toUpperCase(Locale.ROOT));
        }
        return value;
    }
}
