package io.clrnn.cli;

import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import io.clrnn.format.WeightFile;
import io.clrnn.model.ModuleKeys;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.OnnxModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code clrnn inspect}: what a weights file holds, and the recurrent modules clrnn would load from it; for an
 * ONNX model, its inputs, outputs and recurrent nodes.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List a weights file's format, tensors (name, dtype, shape) and the recurrent modules in it; "
                + "or an ONNX model's inputs, outputs and recurrent nodes.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "A safetensors or torch.save file (.pt, .pth, any name), or an ONNX "
            + "model.")
    Path file;

    @Option(names = "--all", description = "List every tensor (default: at most 50).")
    boolean all;

    @Spec
    CommandSpec spec;

    private static final int LISTED = 50;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (Files.isRegularFile(file) && WeightFile.detect(file) == WeightFile.Kind.ONNX) {
            out.print(OnnxModel.load(file).describe());
            out.flush(); // print() does not flush an autoflushing PrintWriter; println and printf do
            return Main.EXIT_OK;
        }
        WeightFile weights = WeightFile.open(file);
        List<WeightFile.Entry> entries = weights.entries();
        out.printf("%s: %s, %d tensors%n", file, weights.format(), entries.size());
        int shown = all ? entries.size() : Math.min(LISTED, entries.size());
        for (WeightFile.Entry e : entries.subList(0, shown)) {
            out.printf("  %-48s %-9s %s%n", e.name(), e.dtype(), Tensor.format(e.shape()));
        }
        if (shown < entries.size()) {
            out.printf("  ... and %d more (--all lists them)%n", entries.size() - shown);
        }
        List<String> prefixes = ModuleKeys.prefixes(entries.stream().map(WeightFile.Entry::name).toList());
        if (prefixes.isEmpty()) {
            out.println("recurrent modules: none (no weight_ih_l0 under any prefix)");
            return Main.EXIT_OK;
        }
        out.println("recurrent modules:");
        for (String prefix : prefixes) {
            String how = prefixes.size() == 1 ? "loaded as it is" : "--prefix " + (prefix.isEmpty() ? "''"
                    : prefix.substring(0, prefix.length() - 1));
            try {
                RnnWeights module = StateDict.load(file, RnnOptions.defaults().prefix(prefix));
                out.printf("  %-24s %s  (%s)%n", prefix.isEmpty() ? "(top level)" : prefix, module.config(), how);
            } catch (io.clrnn.base.InvalidInputException e) {
                out.printf("  %-24s not loadable: %s%n", prefix.isEmpty() ? "(top level)" : prefix, e.getMessage());
            }
        }
        return Main.EXIT_OK;
    }
}
