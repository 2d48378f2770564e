package io.clrnn.cli;

import io.clrnn.StateDict;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn init}: a freshly initialised RNN, LSTM or GRU saved as a safetensors state_dict. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a new module's weights (PyTorch's init, seeded) as a safetensors state_dict.")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--mode", defaultValue = "rnn_tanh", paramLabel = "MODE",
            description = "rnn_tanh, rnn_relu, lstm or gru (default ${DEFAULT-VALUE}).") String mode;
    @Option(names = "--input-size", required = true) int inputSize;
    @Option(names = "--hidden-size", required = true) int hiddenSize;
    @Option(names = "--num-layers", defaultValue = "1") int numLayers;
    @Option(names = "--proj-size", defaultValue = "0", description = "An LSTM's proj_size (default none).") int projSize;
    @Option(names = "--no-bias", description = "bias=False") boolean noBias;
    @Option(names = "--bidirectional") boolean bidirectional;
    @Option(names = "--seed", defaultValue = "0") long seed;

    @Option(names = "--out", required = true, paramLabel = "W.safetensors") Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        RunCommand.checkOutput("--out", out);
        RnnConfig config = RnnConfig.of(CellType.parse(mode), inputSize, hiddenSize).withLayers(numLayers)
                .withBias(!noBias).withBidirectional(bidirectional).withProjSize(projSize);
        StateDict.save(RnnWeights.init(config, seed), out);
        spec.commandLine().getErr().println(config + " -> " + out);
        return Main.EXIT_OK;
    }
}
