package io.clrnn.cli;

import io.clrnn.InvalidInputException;
import io.clrnn.Nonlinearity;
import io.clrnn.Rnn;
import io.clrnn.RnnOptions;
import io.clrnn.RnnOutput;
import io.clrnn.Tensor;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clrnn run}: one forward of a saved state_dict over a .npy input, outputs as .npy. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run a forward pass: weights from safetensors, input and outputs as .npy.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "W.safetensors",
            description = "The RNN's state_dict, saved with safetensors.torch.save_file.")
    Path weights;

    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input: (seq, batch, input_size), (batch, seq, input_size) with --batch-first, or (seq, input_size).")
    Path input;

    @Option(names = "--h0", paramLabel = "H0.npy", description = "Initial hidden state (layers*D, batch, hidden); zeros if absent.")
    Path h0;

    @Option(names = "--out", required = true, paramLabel = "OUT.npy", description = "Where to write out.")
    Path out;

    @Option(names = "--hn", paramLabel = "HN.npy", description = "Where to write h_n.")
    Path hn;

    @Option(names = "--nonlinearity", defaultValue = "tanh", paramLabel = "tanh|relu",
            description = "The module's activation (a state_dict does not record it). Default: ${DEFAULT-VALUE}.")
    String nonlinearity;

    @Option(names = "--batch-first", description = "The module was built with batch_first=True.")
    boolean batchFirst;

    @Mixin
    DeviceOption device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        RnnOptions options = RnnOptions.defaults().nonlinearity(Nonlinearity.parse(nonlinearity)).batchFirst(batchFirst);
        refuseOverwritingInputs();
        checkPaths();
        Tensor x = Npy.read(input);
        Tensor h = h0 == null ? null : Npy.read(h0);
        RnnOutput y;
        try (Device d = device.open(); Rnn rnn = Rnn.load(d, weights, options)) {
            y = rnn.forward(x, h);
        }
        // Both results exist before either file is written, so a failure cannot leave one half done.
        writeBoth(y);
        spec.commandLine().getErr().printf("out %s -> %s%s%n", Tensor.format(y.output().shape()), out,
                hn == null ? "" : ", h_n " + Tensor.format(y.hidden().shape()) + " -> " + hn);
        return Main.EXIT_OK;
    }

    /** An output path naming one of the inputs would destroy it: refuse before reading anything. */
    private void refuseOverwritingInputs() throws IOException {
        List<Path> inputs = new ArrayList<>(List.of(weights, input));
        if (h0 != null) {
            inputs.add(h0);
        }
        List<Path> outputs = new ArrayList<>(List.of(out));
        if (hn != null) {
            outputs.add(hn);
            if (same(out, hn)) {
                throw new InvalidInputException("--out and --hn name the same file: " + out);
            }
        }
        for (Path o : outputs) {
            for (Path i : inputs) {
                if (same(o, i)) {
                    throw new InvalidInputException("output " + o + " is also an input; choose another path");
                }
            }
        }
    }

    /**
     * Refuses, before any work, the path mistakes that would otherwise surface late or as a bare
     * "I/O error": an input that is a directory, an output that is one or whose directory is missing.
     */
    private void checkPaths() {
        checkInput("--weights", weights);
        checkInput("--input", input);
        if (h0 != null) {
            checkInput("--h0", h0);
        }
        checkOutput("--out", out);
        if (hn != null) {
            checkOutput("--hn", hn);
        }
    }

    private static void checkInput(String option, Path p) {
        if (Files.isDirectory(p)) {
            throw new InvalidInputException(option + " " + p + " is a directory, not a file");
        }
    }

    private static void checkOutput(String option, Path p) {
        if (Files.isDirectory(p)) {
            throw new InvalidInputException(option + " " + p + " is a directory, not a file");
        }
        Path dir = p.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new InvalidInputException(option + " " + p + ": directory " + dir + " does not exist");
        }
    }

    /**
     * Writes out, then h_n; if h_n cannot be written, out goes back to what it was (absent, or its
     * old bytes), so a failed run never leaves one new file beside one old or missing one.
     */
    private void writeBoth(RnnOutput y) throws IOException {
        if (hn == null) {
            Npy.write(out, y.output());
            return;
        }
        Path backup = null;
        if (Files.exists(out)) {
            Path absolute = out.toAbsolutePath();
            backup = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".bak");
            Files.copy(absolute, backup, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        }
        try {
            Npy.write(out, y.output());
            Npy.write(hn, y.hidden());
        } catch (IOException | RuntimeException e) {
            try {
                if (backup == null) {
                    Files.deleteIfExists(out);
                } else {
                    Files.move(backup, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    backup = null;
                }
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            if (backup != null) {
                Files.deleteIfExists(backup);
            }
        }
    }

    private static boolean same(Path a, Path b) throws IOException {
        if (Files.exists(a) && Files.exists(b)) {
            return Files.isSameFile(a, b);
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
