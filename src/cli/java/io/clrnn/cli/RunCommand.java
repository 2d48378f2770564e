package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Nonlinearity;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.RnnOptions;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.format.Npy;
import io.clrnn.format.WeightFile;
import io.clrnn.model.CellType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code clrnn run}: one forward of a saved module over a .npy input, outputs as .npy. The module is a state_dict
 * file, or an ONNX model (told apart by content), whose graph then decides what each flag feeds or receives.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a forward pass: weights from a state_dict file or an ONNX model, inputs and outputs as .npy.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "W",
            description = "The module's state_dict (safetensors or torch.save), or an ONNX model (.onnx) of RNN, GRU "
                    + "or LSTM nodes, e.g. from torch.onnx.export.")
    Path weights;

    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input: (seq, batch, input_size), (batch, seq, input_size) with --batch-first, or (seq, input_size).")
    Path input;

    @Option(names = "--h0", paramLabel = "H0.npy", description = "Initial hidden state (layers*D, batch, H_out); zeros if absent.")
    Path h0;

    @Option(names = "--c0", paramLabel = "C0.npy", description = "An LSTM's initial cell state (layers*D, batch, hidden); with --h0.")
    Path c0;

    @Option(names = "--lengths", paramLabel = "LENGTHS.npy",
            description = "Each sequence's length, a 1-D integer array (int64 as tensor.numpy() saves it, or int32): "
                    + "as pack_padded_sequence(enforce_sorted=False) takes them.")
    Path lengths;

    @Option(names = "--out", paramLabel = "OUT.npy", description = "Where to write out (required for a state_dict; "
            + "for an ONNX model, the graph output that comes from Y).")
    Path out;

    @Option(names = "--hn", paramLabel = "HN.npy", description = "Where to write h_n.")
    Path hn;

    @Option(names = "--cn", paramLabel = "CN.npy", description = "Where to write an LSTM's c_n.")
    Path cn;

    @Option(names = "--mode", paramLabel = "MODE", description = "rnn_tanh, rnn_relu, lstm or gru: checked against "
            + "the weights (default: what their shapes say, tanh for an RNN).")
    String mode;

    @Option(names = "--nonlinearity", paramLabel = "tanh|relu",
            description = "An RNN's activation (a state_dict does not record it); same as --mode rnn_tanh|rnn_relu.")
    String nonlinearity;

    @Option(names = "--batch-first", description = "The module was built with batch_first=True.")
    boolean batchFirst;

    @Option(names = "--prefix", paramLabel = "P",
            description = "The module's key prefix in a whole model's state_dict, e.g. encoder.lstm (found when only one).")
    String prefix;

    @Option(names = "--weights-dtype", defaultValue = "f32", paramLabel = "f32|f16",
            description = "Keep the weight matrices as float32 or half on the device (default ${DEFAULT-VALUE}).")
    String weightsDtype;

    @Option(names = "--feed", paramLabel = "NAME=FILE.npy", description = "An ONNX model's other graph inputs by "
            + "name, e.g. --feed W=w.npy (1-D for integer inputs); --input, --h0, --c0 and --lengths feed the inputs "
            + "that become X, initial_h, initial_c and sequence_lens.")
    Map<String, Path> feeds;

    @Option(names = "--output", paramLabel = "NAME=FILE.npy", description = "Where to write an ONNX model's graph "
            + "outputs by name (integer outputs as float32); --out, --hn and --cn take those that come from Y, Y_h and "
            + "Y_c, or --out a network's only output.")
    Map<String, Path> outputsByName;

    @Mixin
    DeviceOption device;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        boolean onnx = Files.isRegularFile(weights) && WeightFile.detect(weights) == WeightFile.Kind.ONNX;
        if (onnx) {
            return OnnxRun.run(this);
        }
        if (out == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--out=OUT.npy'");
        }
        if (feeds != null && !feeds.isEmpty()) {
            throw new InvalidInputException("--feed is for an ONNX model's graph inputs; " + weights
                    + " is a state_dict");
        }
        if (outputsByName != null && !outputsByName.isEmpty()) {
            throw new InvalidInputException("--output is for an ONNX model's graph outputs; " + weights
                    + " is a state_dict");
        }
        RnnOptions options = RnnOptions.defaults().batchFirst(batchFirst).prefix(prefix)
                .weightsDtype(WeightsDtype.parse(weightsDtype))
                .mode(mode == null ? null : CellType.parse(mode))
                .nonlinearity(nonlinearity == null ? null : Nonlinearity.parse(nonlinearity));
        checkPaths();
        Tensor x = Npy.read(input);
        RnnInput in = RnnInput.of(x).h0(h0 == null ? null : Npy.read(h0)).c0(c0 == null ? null : Npy.read(c0))
                .lengths(lengths == null ? null : Npy.readInts(lengths));
        RnnOutput y;
        try (Device d = device.open(); Rnn rnn = Rnn.load(d, weights, options)) {
            if (!rnn.config().mode().hasCellState() && (c0 != null || cn != null)) {
                throw new InvalidInputException((c0 != null ? "--c0" : "--cn") + " is for an LSTM's cell state, but "
                        + rnn + " has none");
            }
            y = rnn.forward(in);
        }
        // Every result exists before any file is written, so a failure cannot leave some done.
        Map<Path, Tensor> files = new LinkedHashMap<>();
        files.put(out, y.output());
        if (hn != null) {
            files.put(hn, y.hidden());
        }
        if (cn != null) {
            files.put(cn, y.cell());
        }
        writeAll(files);
        spec.commandLine().getErr().printf("out %s -> %s%s%s%n", Tensor.format(y.output().shape()), out,
                hn == null ? "" : ", h_n " + Tensor.format(y.hidden().shape()) + " -> " + hn,
                cn == null ? "" : ", c_n " + Tensor.format(y.cell().shape()) + " -> " + cn);
        return Main.EXIT_OK;
    }

    /** Refuses, before reading anything, outputs that would overwrite inputs or each other, and paths that cannot work. */
    void checkPaths() throws IOException {
        Map<String, Path> inputs = paths("--weights", weights, "--input", input, "--h0", h0, "--c0", c0,
                "--lengths", lengths);
        if (feeds != null) {
            feeds.forEach((name, path) -> inputs.put("--feed " + name, path));
        }
        Map<String, Path> outputs = paths("--out", out, "--hn", hn, "--cn", cn);
        if (outputsByName != null) {
            outputsByName.forEach((name, path) -> outputs.put("--output " + name, path));
        }
        refuseOverwritingInputs(inputs, outputs);
        inputs.forEach(RunCommand::checkInput);
        outputs.forEach(RunCommand::checkOutput);
    }

    /** Option names to paths, for the options given. */
    private static Map<String, Path> paths(Object... optionsAndPaths) {
        Map<String, Path> given = new LinkedHashMap<>();
        for (int i = 0; i < optionsAndPaths.length; i += 2) {
            if (optionsAndPaths[i + 1] != null) {
                given.put((String) optionsAndPaths[i], (Path) optionsAndPaths[i + 1]);
            }
        }
        return given;
    }

    /** An output path naming an input, or another output, would destroy it: refuse before reading anything. */
    private static void refuseOverwritingInputs(Map<String, Path> inputs, Map<String, Path> outputs) throws IOException {
        List<Map.Entry<String, Path>> outs = new ArrayList<>(outputs.entrySet());
        for (int i = 0; i < outs.size(); i++) {
            for (int j = i + 1; j < outs.size(); j++) {
                if (same(outs.get(i).getValue(), outs.get(j).getValue())) {
                    throw new InvalidInputException(outs.get(i).getKey() + " and " + outs.get(j).getKey()
                            + " name the same file: " + outs.get(i).getValue());
                }
            }
            for (Path in : inputs.values()) {
                if (same(outs.get(i).getValue(), in)) {
                    throw new InvalidInputException("output " + outs.get(i).getValue()
                            + " is also an input; choose another path");
                }
            }
        }
    }

    /**
     * Refuses, before any work, the path mistakes that would otherwise surface late or as a bare
     * "I/O error": an input that is a directory, an output that is one or whose directory is missing.
     */
    private static void checkInput(String option, Path p) {
        if (Files.isDirectory(p)) {
            throw new InvalidInputException(option + " " + p + " is a directory, not a file");
        }
    }

    /**
     * An output must be a new path or a regular file (through a link, its target): a device, FIFO, socket or
     * directory is refused before anything is computed, since writing would replace it or hang on it.
     */
    static void checkOutput(String option, Path p) {
        checkInput(option, p);
        if (Files.exists(p) && !Files.isRegularFile(p)) {
            throw new InvalidInputException(option + " " + p + " is not a regular file (a device, FIFO or socket): "
                    + "clrnn writes to regular files and new paths only");
        }
        Path dir = p.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new InvalidInputException(option + " " + p + ": directory " + dir + " does not exist");
        }
    }

    /**
     * Writes every file (each atomically); if one cannot be written, those already written go back to what
     * they were (absent, or their old bytes), so a failed run never leaves new files beside old or missing ones.
     */
    static void writeAll(Map<Path, Tensor> files) throws IOException {
        Map<Path, Path> backups = new LinkedHashMap<>(); // written file -> its old bytes, or null
        try {
            for (Map.Entry<Path, Tensor> f : files.entrySet()) {
                // through a link to a regular file: its target is rewritten, the link stays
                Path target = Files.exists(f.getKey()) ? f.getKey().toRealPath() : f.getKey().toAbsolutePath();
                Path backup = null;
                if (Files.exists(target)) {
                    backup = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".bak");
                    Files.copy(target, backup, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
                }
                backups.put(target, backup);
                Npy.write(target, f.getValue());
            }
        } catch (IOException | RuntimeException e) {
            for (Map.Entry<Path, Path> b : backups.entrySet()) {
                try {
                    if (b.getValue() == null) {
                        Files.deleteIfExists(b.getKey());
                    } else {
                        Files.move(b.getValue(), b.getKey(), StandardCopyOption.REPLACE_EXISTING,
                                StandardCopyOption.ATOMIC_MOVE);
                        b.setValue(null);
                    }
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        } finally {
            for (Path backup : backups.values()) {
                if (backup != null) {
                    Files.deleteIfExists(backup);
                }
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
