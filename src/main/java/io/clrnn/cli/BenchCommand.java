package io.clrnn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.Nonlinearity;
import io.clrnn.bench.Benchmark;
import io.clrnn.bench.Shape;
import io.clrnn.device.Device;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn bench}: times whole forwards of one shape on a device (or the Java reference). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time whole forwards (upload, compute, read back) of one shape.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--seq", defaultValue = "5", description = "Sequence length T (default ${DEFAULT-VALUE}).") int seq;
    @Option(names = "--batch", defaultValue = "4", description = "Batch size B (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--input", defaultValue = "128", description = "input_size I (default ${DEFAULT-VALUE}).") int input;
    @Option(names = "--hidden", defaultValue = "64", description = "hidden_size H (default ${DEFAULT-VALUE}).") int hidden;
    @Option(names = "--layers", defaultValue = "1", description = "num_layers (default ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--bidirectional") boolean bidirectional;
    @Option(names = "--nonlinearity", defaultValue = "tanh", paramLabel = "tanh|relu") String nonlinearity;
    @Option(names = "--warmup", defaultValue = "3", description = "Untimed runs first (default ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--iterations", defaultValue = "10", description = "Timed runs at least (default ${DEFAULT-VALUE}).") int iterations;
    @Option(names = "--seconds", defaultValue = "0", description = "Keep running for at least this long.") double seconds;
    @Option(names = "--reference", description = "Time the plain Java reference instead of OpenCL.") boolean reference;
    @Option(names = "--json", description = "Print one JSON object instead of text.") boolean json;
    @Mixin DeviceOption device;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        Shape shape = new Shape(seq, batch, input, hidden, layers, bidirectional, Nonlinearity.parse(nonlinearity));
        shape.config(); // validates sizes before any device work
        if (seq <= 0 || batch <= 0 || warmup < 0 || iterations < 1) {
            throw new io.clrnn.InvalidInputException("--seq, --batch and --iterations must be positive, --warmup not negative");
        }
        Benchmark.Budget budget = new Benchmark.Budget(warmup, iterations, seconds);
        Benchmark.Result result;
        if (reference) {
            result = Benchmark.reference(shape, budget, 42);
        } else {
            try (Device d = device.open(true)) {
                result = Benchmark.openCl(d, shape, budget, 42);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? toJson(result) : toText(result));
        return Main.EXIT_OK;
    }

    static String toJson(Benchmark.Result r) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode node = mapper.createObjectNode();
        node.put("implementation", r.implementation());
        node.put("device", r.deviceName());
        node.put("shape", r.shape().label());
        node.put("seq", r.shape().seqLen());
        node.put("batch", r.shape().batch());
        node.put("input", r.shape().inputSize());
        node.put("hidden", r.shape().hiddenSize());
        node.put("layers", r.shape().layers());
        node.put("bidirectional", r.shape().bidirectional());
        node.put("nonlinearity", r.shape().nonlinearity().pytorchName());
        node.put("median_ms", r.timing().medianMs());
        node.put("min_ms", r.timing().minMs());
        node.put("max_ms", r.timing().maxMs());
        node.put("runs", r.timing().runs());
        node.put("gflops", r.gflops());
        node.put("recurrence", r.recurrenceVariant());
        ObjectNode families = node.putObject("device_ms");
        r.familyMs().forEach((f, ms) -> families.put(f.name().toLowerCase(Locale.ROOT), ms));
        return node.toString();
    }

    static String toText(Benchmark.Result r) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "%s  %s on %s: median %.3f ms (min %.3f, max %.3f, %d runs), %.2f GFLOP/s",
                r.shape().label(), r.implementation(), r.deviceName(), r.timing().medianMs(), r.timing().minMs(),
                r.timing().maxMs(), r.timing().runs(), r.gflops()));
        if (!r.familyMs().isEmpty()) {
            s.append("\n  device time per forward:");
            r.familyMs().forEach((f, ms) -> s.append(String.format(Locale.ROOT, " %s %.3f ms",
                    f.name().toLowerCase(Locale.ROOT), ms)));
            s.append("  (recurrence: ").append(r.recurrenceVariant()).append(')');
        }
        return s.toString();
    }
}
