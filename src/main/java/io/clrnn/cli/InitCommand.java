package io.clrnn.cli;

import io.clrnn.RnnOptions;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn init}: a freshly initialised RNN saved as a safetensors state_dict. */
@Command(name = "init", mixinStandardHelpOptions = true, description = "Write a new RNN's weights (PyTorch's init, seeded) as a safetensors state_dict.")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--input-size", required = true) int inputSize;
    @Option(names = "--hidden-size", required = true) int hiddenSize;
    @Option(names = "--num-layers", defaultValue = "1") int numLayers;
    @Option(names = "--no-bias", description = "bias=False") boolean noBias;
    @Option(names = "--bidirectional") boolean bidirectional;
    @Option(names = "--seed", defaultValue = "0") long seed;

    @Option(names = "--out", required = true, paramLabel = "W.safetensors") Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        RnnConfig config = new RnnConfig(inputSize, hiddenSize, numLayers, !noBias, bidirectional, RnnOptions.defaults());
        RnnWeights.init(config, seed).save(out);
        spec.commandLine().getErr().println(config + " -> " + out);
        return Main.EXIT_OK;
    }
}
