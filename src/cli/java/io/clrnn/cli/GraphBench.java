package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.bench.Benchmark;
import io.clrnn.bench.GraphBenchmark;
import io.clrnn.device.Device;
import io.clrnn.format.FormatException;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxModel.Port;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code clrnn bench --weights NET.onnx --input X.npy [--feed NAME=FILE]}: a whole network at steady state. */
final class GraphBench {
    private GraphBench() {}

    static int run(BenchCommand cmd) throws IOException {
        OnnxModel model = OnnxModel.load(cmd.weights);
        Map<String, Path> files = new LinkedHashMap<>();
        if (cmd.feeds != null) {
            files.putAll(cmd.feeds);
        }
        List<Port> left = model.inputs().stream().filter(p -> !files.containsKey(p.name())).toList();
        if (left.size() != 1) {
            throw new InvalidInputException("--input feeds the one graph input not given with --feed; "
                    + (left.isEmpty() ? "none is left" : left.size() + " are left: " + left.stream()
                    .map(p -> FormatException.quote(p.name())).toList()));
        }
        files.put(left.get(0).name(), Path.of(cmd.input));
        for (Port p : model.inputs()) {
            if (!files.containsKey(p.name())) {
                throw new InvalidInputException("the network needs input " + FormatException.quote(p.name())
                        + ": give it with --feed " + p.name() + "=FILE.npy");
            }
        }
        GraphInputs inputs = GraphInputs.read(model, files);
        Benchmark.Budget budget = cmd.quick ? Benchmark.Budget.quick() : Benchmark.Budget.steady();
        if (cmd.seconds != null) {
            if (!(cmd.seconds > 0)) {
                throw new InvalidInputException("--seconds must be positive");
            }
            budget = new Benchmark.Budget(budget.warmup(), budget.warmupSeconds(), budget.minIterations(), cmd.seconds);
        }
        GraphBenchmark.Result result;
        try (Device d = cmd.device.open(true)) {
            result = GraphBenchmark.run(d, model, inputs.floats(), inputs.ints(), budget);
        }
        cmd.spec.commandLine().getOut().println(cmd.json ? result.toJson().toString() : result.toText());
        return Main.EXIT_OK;
    }
}
