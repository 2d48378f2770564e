package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.format.Safetensors;
import io.clrnn.format.WeightFile;
import io.clrnn.model.CellType;
import io.clrnn.model.Direction;
import io.clrnn.model.ModuleKeys;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recurrent module's weights to and from PyTorch's state_dicts, as {@code load_state_dict} takes them: the module
 * found among a file's or a map's keys, its config inferred from their shapes, completed by the options a
 * state_dict does not record ({@link RnnOptions}), and checked in PyTorch's words.
 */
public final class StateDict {
    private StateDict() {}

    /**
     * Reads the module's state_dict from a weights file of any format clrnn reads (safetensors, torch.save;
     * told apart by content): a bare module's, a whole model's (the module found by its prefix) or a
     * training checkpoint's. Only the module's own tensors are decoded.
     */
    public static RnnWeights load(Path path, RnnOptions options) throws IOException {
        WeightFile file = WeightFile.open(path);
        ModuleKeys.Module module = ModuleKeys.find(file.entries().stream().map(WeightFile.Entry::name).toList(),
                options.prefix());
        // The key set and every shape are checked from the file's index first: a tensor the module does not
        // have (a huge extra key, say) is refused without ever being inflated or decoded.
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (WeightFile.Entry e : file.entries()) {
            if (module.owns(e.name())) {
                shapes.put(e.name().substring(module.prefix().length()), e.shape());
            }
        }
        RnnConfig config;
        try {
            config = options.applyTo(infer(shapes, options));
            RnnWeights.check(config, shapes);
        } catch (InvalidInputException e) {
            // checked before any tensor was read: the message names the file, as a decoding error would
            throw new InvalidInputException(path.getFileName() + ": " + e.getMessage(), e);
        }
        checkFitsInMemory(path, shapes, Runtime.getRuntime().maxMemory());
        Map<String, Tensor> own = new LinkedHashMap<>();
        for (String name : shapes.keySet()) {
            own.put(name, file.tensor(module.prefix() + name));
        }
        return RnnWeights.of(config, own);
    }

    /**
     * Refuses, before anything is read, a module whose tensors would take more than half the memory this JVM may
     * use as float32: a file that declares huge shapes (deflated zeros take a thousandth of that on disk) gets a
     * line naming it and the memory, not an OutOfMemoryError after seconds of inflating.
     */
    static void checkFitsInMemory(Path path, Map<String, int[]> shapes, long heap) {
        long floats = 0;
        for (int[] shape : shapes.values()) {
            floats += Tensor.numel(shape);
        }
        if (floats * 4 > heap / 2) {
            throw new InvalidInputException(String.format(java.util.Locale.ROOT, "%s: the module's tensors take "
                    + "%.1f GiB as float32, more than half of the memory this JVM may use (%.1f GiB); give it more "
                    + "(-Xmx, or CLRNN_JAVA_OPTS for the command line)", path.getFileName(), floats * 4 / 1073741824.0,
                    heap / 1073741824.0));
        }
    }

    /**
     * Finds the recurrent module in {@code stateDict} (see {@link ModuleKeys}), infers its mode,
     * input_size, hidden_size, proj_size, num_layers, bias and bidirectional from the keys and shapes, then
     * checks its keys as {@code load_state_dict} does.
     */
    public static RnnWeights of(Map<String, Tensor> stateDict, RnnOptions options) {
        ModuleKeys.Module module = ModuleKeys.find(stateDict.keySet(), options.prefix());
        return fromModule(module.params(stateDict), options);
    }

    private static RnnWeights fromModule(Map<String, Tensor> own, RnnOptions options) {
        return RnnWeights.of(options.applyTo(infer(RnnWeights.shapes(own), options)), own);
    }

    /** The module the keys and shapes describe (only weight_ih_l0, weight_hh_l0 and weight_hr_l0 are read). */
    private static RnnConfig infer(Map<String, int[]> sd, RnnOptions options) {
        int[] ih = sd.get("weight_ih_l0");
        int[] hh = sd.get("weight_hh_l0");
        int[] hr = sd.get("weight_hr_l0");
        String moduleName = options.mode() != null ? options.mode().moduleName() : "RNN";
        if (ih == null || hh == null) {
            List<String> missing = new ArrayList<>();
            if (ih == null) {
                missing.add("weight_ih_l0");
            }
            if (hh == null) {
                missing.add("weight_hh_l0");
            }
            throw new InvalidInputException("Error(s) in loading state_dict for " + moduleName
                    + ": Missing key(s) in state_dict: " + ModuleKeys.quoted(missing)
                    + ". (is this the state_dict of a torch.nn.RNN, LSTM or GRU?)");
        }
        if (ih.length != 2) {
            throw new InvalidInputException("weight_ih_l0 must be 2-D (gates*hidden_size, input_size), got shape "
                    + Tensor.format(ih));
        }
        if (hh.length != 2) {
            throw new InvalidInputException("weight_hh_l0 must be 2-D (gates*hidden_size, hidden_size), got shape "
                    + Tensor.format(hh));
        }
        if (hr != null && (hr.length != 2 || hr[0] != hh[1])) {
            throw new InvalidInputException("weight_hr_l0 must be 2-D (proj_size, hidden_size) with proj_size = "
                    + "weight_hh_l0.size(1) = " + hh[1] + ", got shape " + Tensor.format(hr));
        }
        // weight_hh_l0 is (G*hidden, hidden), or (4*hidden, proj) with weight_hr_l0 (proj, hidden): the gate
        // count G that makes it so says the cell. Where none does, the weights are an RNN's (or the mode
        // asked for) of the wrong size, which the checks below report in load_state_dict's words.
        int rows = hh[0];
        CellType inferred = hr != null ? CellType.LSTM : null;
        for (CellType t : new CellType[] {CellType.RNN_TANH, CellType.GRU, CellType.LSTM}) {
            if (inferred == null && rows == t.gates() * hh[1]) {
                inferred = t;
            }
        }
        CellType mode = options.modeFor(inferred != null ? inferred : CellType.RNN_TANH);
        if (inferred != null && mode.gates() != inferred.gates()) {
            throw new InvalidInputException("--mode " + mode.cliName() + " does not fit the weights: weight_hh_l0 has "
                    + rows + " rows, " + inferred.gates() + " times hidden_size " + rows / inferred.gates() + " ("
                    + inferred.moduleName() + ")");
        }
        if (rows == 0 || rows % mode.gates() != 0) {
            throw new InvalidInputException("weight_hh_l0 has " + rows + " rows, which is not " + mode.gates()
                    + " times a hidden_size (" + mode.moduleName() + ")");
        }
        int hidden = hr != null ? hr[1] : rows / mode.gates();
        int layers = 0;
        while (sd.containsKey(RnnConfig.paramName("weight_ih", layers, 0))) {
            layers++;
        }
        boolean bidirectional = sd.containsKey("weight_ih_l0_reverse") || sd.containsKey("weight_hh_l0_reverse");
        boolean bias = sd.containsKey("bias_ih_l0") || sd.containsKey("bias_hh_l0");
        return new RnnConfig(mode, ih[1], hidden, layers, bias, false, 0,
                bidirectional ? Direction.BIDIRECTIONAL : Direction.FORWARD, hr != null ? hr[0] : 0, null);
    }

    /** Writes {@code weights}' parameters as a safetensors state_dict that {@code safetensors.torch.load_file} reads. */
    public static void save(RnnWeights weights, Path path) throws IOException {
        RnnConfig config = weights.config();
        if (!config.cell().isPytorch(config.mode()) || config.direction() == Direction.REVERSE) {
            throw new InvalidInputException(config + " has no torch.nn equivalent; its weights cannot be saved "
                    + "as a PyTorch state_dict");
        }
        Safetensors.write(path, weights.stateDict(), Map.of("format", "pt"));
    }

}
