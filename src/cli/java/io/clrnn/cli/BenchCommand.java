package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.bench.Benchmark;
import io.clrnn.bench.Shape;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn bench}: times whole forwards of one shape at steady state, on a device or the Java reference. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = {
        "Time whole forwards (upload, compute, read back) of one shape at steady state: at least a second of "
                + "warm-up, longer until the median settles, then at least a second of timed runs."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--mode", defaultValue = "rnn_tanh", paramLabel = "MODE",
            description = "rnn_tanh, rnn_relu, lstm or gru (default ${DEFAULT-VALUE}).") String mode;
    @Option(names = "--seq", defaultValue = "5", description = "Sequence length T (default ${DEFAULT-VALUE}).") int seq;
    @Option(names = "--batch", defaultValue = "4", description = "Batch size B (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--input", defaultValue = "128", paramLabel = "I|X.npy",
            description = "input_size I (default ${DEFAULT-VALUE}); with --weights, the graph's input file.")
    String input;
    @Option(names = "--weights", paramLabel = "NET.onnx",
            description = "Time a whole ONNX network on --input (and --feed) instead of a made-up module.")
    java.nio.file.Path weights;
    @Option(names = "--feed", paramLabel = "NAME=FILE.npy", description = "The network's other inputs by name.")
    java.util.Map<String, java.nio.file.Path> feeds;
    @Option(names = "--hidden", defaultValue = "64", description = "hidden_size H (default ${DEFAULT-VALUE}).") int hidden;
    @Option(names = "--layers", defaultValue = "1", description = "num_layers (default ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--bidirectional") boolean bidirectional;
    @Option(names = "--proj-size", defaultValue = "0", description = "An LSTM's proj_size (default none).") int projSize;
    @Option(names = "--nonlinearity", paramLabel = "tanh|relu", description = "Same as --mode rnn_tanh|rnn_relu.")
    String nonlinearity;
    @Option(names = "--lengths", paramLabel = "full|uniform", defaultValue = "full",
            description = "full: every sequence T long; uniform: lengths drawn uniformly from 1..T (seeded), "
                    + "to measure ragged batches (default ${DEFAULT-VALUE}).") String lengths;
    @Option(names = "--weights-dtype", defaultValue = "f32", paramLabel = "f32|f16",
            description = "Keep the weight matrices as float32 or half on the device (default ${DEFAULT-VALUE}).")
    String weightsDtype;
    @Option(names = "--quick", description = "3 warm-up runs and 10 timed ones: a cold JVM's numbers, for smoke tests.")
    boolean quick;
    @Option(names = "--seconds", description = "Time for at least this long (default 1).") Double seconds;
    @Option(names = "--reference", description = "Time the plain Java reference instead of OpenCL.") boolean reference;
    @Option(names = "--json", description = "Print one JSON object instead of text.") boolean json;
    @Mixin DeviceOption device;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
        if (weights != null) {
            return GraphBench.run(this);
        }
        if (feeds != null) {
            throw new InvalidInputException("--feed is for a network given with --weights");
        }
        int input;
        try {
            input = Integer.parseInt(this.input);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--input takes input_size, a number (or, with --weights NET.onnx, an "
                    + ".npy file), not '" + this.input + "'");
        }
        CellType cell = nonlinearity != null ? io.clrnn.Nonlinearity.parse(nonlinearity).mode() : CellType.parse(mode);
        if (!lengths.equals("full") && !lengths.equals("uniform")) {
            throw new InvalidInputException("--lengths takes full or uniform, not '" + lengths + "'");
        }
        if (seq <= 0 || batch <= 0) {
            throw new InvalidInputException("--seq and --batch must be positive");
        }
        Shape shape = new Shape(cell, seq, batch, input, hidden, layers, bidirectional, projSize,
                lengths.equals("uniform"));
        shape.config(); // validates sizes before any device work
        long xElements = (long) seq * batch * input;
        long outElements = (long) seq * batch * (bidirectional ? 2 : 1) * (projSize > 0 ? projSize : hidden);
        if (Math.max(xElements, outElements) > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("--seq " + seq + " --batch " + batch + ": the input or output would have "
                    + Math.max(xElements, outElements) + " elements, too large for one array");
        }
        Benchmark.Budget budget = quick ? Benchmark.Budget.quick() : Benchmark.Budget.steady();
        if (seconds != null) {
            if (!(seconds > 0)) {
                throw new InvalidInputException("--seconds must be positive");
            }
            budget = new Benchmark.Budget(budget.warmup(), budget.warmupSeconds(), budget.minIterations(), seconds);
        }
        Benchmark.Result result;
        if (reference) {
            result = Benchmark.reference(shape, budget, 42);
        } else {
            try (Device d = device.open(true)) {
                result = Benchmark.openCl(d, shape, io.clrnn.base.WeightsDtype.parse(weightsDtype), budget, 42);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? result.toJson().toString() : toText(result));
        return Main.EXIT_OK;
    }

    static String toText(Benchmark.Result r) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "%s%s  %s on %s: median %.3f ms (min %.3f, max %.3f, %d runs after %d warm-up runs in %.1f s), "
                        + "%.2f GFLOP/s",
                r.shape().label(), r.weightsDtype() == io.clrnn.base.WeightsDtype.F16 ? " f16" : "", r.implementation(),
                r.deviceName(), r.timing().medianMs(), r.timing().minMs(),
                r.timing().maxMs(), r.timing().runs(), r.timing().warmupRuns(), r.timing().warmupSeconds(),
                r.gflops()));
        if (!r.familyMs().isEmpty()) {
            s.append("\n  device time per forward:");
            r.familyMs().forEach((f, ms) -> s.append(String.format(Locale.ROOT, " %s %.3f ms", f, ms)));
            s.append("  (recurrence: ").append(r.recurrenceVariant()).append(')');
        }
        if (!r.hostMs().isEmpty()) {
            // What the host spends per forward; wait includes the device's own work and the runtime's wake-ups.
            s.append("\n  host time per forward:");
            r.hostMs().forEach((h, ms) -> s.append(String.format(Locale.ROOT, " %s %.4f ms",
                    h.name().toLowerCase(Locale.ROOT), ms)));
            double device = r.familyMs().values().stream().mapToDouble(Double::doubleValue).sum();
            double wait = r.hostMs().getOrDefault(io.clrnn.device.Profile.Host.WAIT, 0.0);
            s.append(String.format(Locale.ROOT, "%n  waiting beyond the device's own work (wake-ups, sync): %.4f ms",
                    Math.max(0, wait - device)));
        }
        return s.toString();
    }
}
