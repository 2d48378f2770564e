package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A recurrent module's config with its parameters, keyed by their state_dict names
 * ({@code weight_ih_l0}, ...; gate blocks stacked along rows in PyTorch's order).
 */
public final class RnnWeights {
    private final RnnConfig config;
    private final Map<String, Tensor> params;

    private RnnWeights(RnnConfig config, Map<String, Tensor> params) {
        this.config = config;
        this.params = Collections.unmodifiableMap(params);
    }

    /** Each tensor's shape, by name, in the map's order. */
    public static Map<String, int[]> shapes(Map<String, Tensor> tensors) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        tensors.forEach((name, t) -> shapes.put(name, t.shape()));
        return shapes;
    }

    /** Checks {@code stateDict} against {@code config} with PyTorch's wording, keeping state_dict order. */
    public static RnnWeights of(RnnConfig config, Map<String, Tensor> stateDict) {
        check(config, shapes(stateDict));
        Map<String, Tensor> params = new LinkedHashMap<>();
        config.parameterShapes().keySet().forEach(name -> params.put(name, stateDict.get(name)));
        return new RnnWeights(config, params);
    }

    /**
     * load_state_dict's checks, on keys and shapes: missing keys, then unexpected ones, then size mismatches; a file's
     * index is checked so before any tensor is read.
     */
    public static void check(RnnConfig config, Map<String, int[]> shapes) {
        Map<String, int[]> expected = config.parameterShapes();
        List<String> missing = expected.keySet().stream().filter(k -> !shapes.containsKey(k)).toList();
        List<String> unexpected = shapes.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        List<String> errors = new ArrayList<>();
        if (!missing.isEmpty()) {
            errors.add("Missing key(s) in state_dict: " + ModuleKeys.quoted(missing) + ".");
        }
        if (!unexpected.isEmpty()) {
            errors.add("Unexpected key(s) in state_dict: " + ModuleKeys.quoted(unexpected) + ".");
        }
        expected.forEach((name, shape) -> {
            int[] got = shapes.get(name);
            if (got != null && !Arrays.equals(got, shape) && errors.size() < ModuleKeys.LISTED) {
                errors.add("size mismatch for " + name + ": copying a param with shape " + Tensor.format(got)
                        + " from checkpoint, the shape in current model is " + Tensor.format(shape) + ".");
            }
        });
        if (!errors.isEmpty()) {
            throw new InvalidInputException("Error(s) in loading state_dict for " + config.mode().moduleName() + ": "
                    + String.join(" ", errors));
        }
    }

    /** Fresh parameters as PyTorch initialises them: uniform in ±1/sqrt(hidden_size), from {@code seed}. */
    public static RnnWeights init(RnnConfig config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double k = 1.0 / Math.sqrt(config.hiddenSize());
        Map<String, Tensor> params = new LinkedHashMap<>();
        config.parameterShapes().forEach((name, shape) -> {
            Tensor t = Tensor.zeros(shape);
            float[] data = t.data();
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) random.nextDouble(-k, k);
            }
            params.put(name, t);
        });
        return new RnnWeights(config, params);
    }

    public RnnConfig config() {
        return config;
    }

    /** The same parameters under another config of the same shapes (batch_first, an RNN's nonlinearity, ...). */
    public RnnWeights withConfig(RnnConfig other) {
        return of(other, params);
    }

    /** state_dict view, in PyTorch's order. */
    public Map<String, Tensor> stateDict() {
        return params;
    }

    /** weight_ih_l{layer}[_reverse]: (gates*hidden, layer input), gate blocks along rows. */
    public Tensor weightIh(int layer, int direction) {
        return params.get(RnnConfig.paramName("weight_ih", layer, direction));
    }

    /** weight_hh_l{layer}[_reverse]: (gates*hidden, proj_size or hidden). */
    public Tensor weightHh(int layer, int direction) {
        return params.get(RnnConfig.paramName("weight_hh", layer, direction));
    }

    /** weight_hr_l{layer}[_reverse]: (proj_size, hidden), or null without projection. */
    public Tensor weightHr(int layer, int direction) {
        return params.get(RnnConfig.paramName("weight_hr", layer, direction));
    }

    /** ONNX's peepholes of an LSTM, (3*hidden) as p_i, p_f, p_o; or null. */
    public Tensor peephole(int layer, int direction) {
        return params.get(RnnConfig.paramName("weight_peephole", layer, direction));
    }

    /** bias_ih or bias_hh (kind "ih"/"hh"), or null without bias. */
    public Tensor bias(String kind, int layer, int direction) {
        return config.bias() ? params.get(RnnConfig.paramName("bias_" + kind, layer, direction)) : null;
    }
}
