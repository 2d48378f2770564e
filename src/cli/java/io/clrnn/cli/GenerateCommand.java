package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.RnnOptions;
import io.clrnn.device.Device;
import io.clrnn.format.WeightFile;
import io.clrnn.generate.Generator;
import io.clrnn.generate.OnnxTokenModel;
import io.clrnn.generate.Sampler;
import io.clrnn.generate.StateDictTokenModel;
import io.clrnn.generate.TokenModel;
import io.clrnn.generate.Vocabulary;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxSession;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code clrnn generate}: text from a language model, the prompt as one forward, then one step per token with the
 * recurrent state kept on the device. One sample is printed as it is made; several, each once made.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text with a recurrent language model (ONNX, or a state_dict of Embedding -> "
                + "RNN/LSTM/GRU -> Linear), its state kept on the device from step to step.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "LM", description = "An ONNX model mapping token ids "
            + "(batch, seq) to logits (batch, seq, vocab), or a state_dict (safetensors or torch.save) of "
            + "Embedding -> RNN/LSTM/GRU -> Linear.")
    Path weights;

    @Option(names = "--vocab", required = true, paramLabel = "VOCAB.json",
            description = "The tokens: a JSON array indexed by id, or an object token -> id.")
    Path vocab;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to go on from.")
    String prompt;

    @Option(names = "--length", defaultValue = "200", paramLabel = "N",
            description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    int length;

    @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T",
            description = "Divides the logits before sampling: below 1 surer, above 1 more varied (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K",
            description = "Sample from the K likeliest tokens only; 1 is greedy; 0 (default) all.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P",
            description = "Sample from the fewest likeliest tokens whose probability reaches P (default ${DEFAULT-VALUE}: all).")
    double topP;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the sampling: the same seed, the same text "
            + "(default: a new one each run).")
    Long seed;

    @Option(names = "--num-samples", defaultValue = "1", paramLabel = "N",
            description = "Continuations to generate, as one batch (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--time-major", description = "An ONNX model's ids are (seq, batch) (default: as its input's "
            + "dimension names say, else (batch, seq)).")
    boolean timeMajor;

    @Option(names = "--batch-first", description = "A state_dict's recurrent module was built with batch_first=True "
            + "(the same numbers either way; only the layout on the device differs).")
    boolean batchFirst;

    @Option(names = "--prefix", paramLabel = "P", description = "A state_dict's recurrent module's key prefix, e.g. rnn "
            + "(found when only one).")
    String prefix;

    @Option(names = "--embedding", paramLabel = "KEY", description = "A state_dict's embedding weight, e.g. emb.weight "
            + "(found by its shape when only one fits).")
    String embedding;

    @Option(names = "--head", paramLabel = "KEY", description = "A state_dict's output layer weight, e.g. fc.weight "
            + "(found by its shape when only one fits).")
    String head;

    @Mixin
    DeviceOption device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Vocabulary tokens = Vocabulary.read(vocab);
        int[] ids = tokens.encode(prompt);
        Sampler sampler = new Sampler(temperature, topK, topP, seed != null ? seed : System.nanoTime());
        if (samples < 1) {
            throw new InvalidInputException("--num-samples must be 1 or more, not " + samples);
        }
        if (length < 0) {
            throw new InvalidInputException("--length must be 0 or more, not " + length);
        }
        boolean onnx = Files.isRegularFile(weights) && WeightFile.detect(weights) == WeightFile.Kind.ONNX;
        if (!onnx && timeMajor) {
            throw new InvalidInputException("--time-major is for an ONNX model; " + weights + " is a state_dict "
                    + "(use --batch-first for its module)");
        }
        if (onnx && (batchFirst || prefix != null || embedding != null || head != null)) {
            throw new InvalidInputException("--batch-first, --prefix, --embedding and --head are for a state_dict; "
                    + weights + " is an ONNX model");
        }
        PrintWriter out = spec.commandLine().getOut();
        OnnxModel graph = onnx ? OnnxModel.load(weights) : null;
        try (Device d = device.open();
             OnnxSession session = onnx ? graph.open(d) : null;
             TokenModel model = onnx ? new OnnxTokenModel(session, timeMajor ? true : null)
                     : StateDictTokenModel.load(d, weights, RnnOptions.defaults().batchFirst(batchFirst).prefix(prefix),
                             embedding, head)) {
            if (samples == 1) {
                out.print(prompt);
                out.flush();
            }
            int[][] made = Generator.generate(model, tokens, ids, length, samples, sampler, samples == 1
                    ? (sample, id) -> {
                        out.print(tokens.token(id));
                        out.flush();
                    } : null);
            if (samples == 1) {
                out.println();
            } else {
                for (int s = 0; s < samples; s++) {
                    out.println("--- sample " + (s + 1) + " ---");
                    out.println(prompt + tokens.decode(made[s]));
                }
            }
            out.flush();
        }
        return Main.EXIT_OK;
    }
}
