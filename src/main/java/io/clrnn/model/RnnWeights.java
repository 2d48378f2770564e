package io.clrnn.model;

import io.clrnn.InvalidInputException;
import io.clrnn.RnnOptions;
import io.clrnn.Tensor;
import io.clrnn.format.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** A {@code torch.nn.RNN}'s config with its parameters, keyed by their state_dict names. */
public final class RnnWeights {
    private static final Pattern KEY = Pattern.compile("(weight|bias)_(ih|hh)_l(\\d+)(_reverse)?");

    private final RnnConfig config;
    private final Map<String, Tensor> params;

    private RnnWeights(RnnConfig config, Map<String, Tensor> params) {
        this.config = config;
        this.params = Collections.unmodifiableMap(params);
    }

    /** Reads a state_dict saved with {@code safetensors.torch.save_file(rnn.state_dict(), path)}. */
    public static RnnWeights load(Path path, RnnOptions options) throws IOException {
        return fromStateDict(Safetensors.read(path), options);
    }

    /**
     * Infers input_size, hidden_size, num_layers, bias and bidirectional from the keys and shapes,
     * then checks the whole state_dict against that module as {@code load_state_dict} does.
     */
    public static RnnWeights fromStateDict(Map<String, Tensor> stateDict, RnnOptions options) {
        Tensor ih0 = stateDict.get("weight_ih_l0");
        Tensor hh0 = stateDict.get("weight_hh_l0");
        if (ih0 == null || hh0 == null || ih0.rank() != 2) {
            List<String> missing = new ArrayList<>();
            if (ih0 == null) {
                missing.add("weight_ih_l0");
            }
            if (hh0 == null) {
                missing.add("weight_hh_l0");
            }
            throw new InvalidInputException(missing.isEmpty()
                    ? "weight_ih_l0 must be 2-D (hidden_size, input_size), got shape " + Tensor.format(ih0.shape())
                    : "Error(s) in loading state_dict for RNN: Missing key(s) in state_dict: " + quoted(missing)
                            + ". (is this the state_dict of a torch.nn.RNN?)");
        }
        int layers = 0;
        boolean bidirectional = false;
        boolean bias = false;
        for (String key : stateDict.keySet()) {
            Matcher m = KEY.matcher(key);
            if (m.matches()) {
                layers = Math.max(layers, Integer.parseInt(m.group(3)) + 1);
                bidirectional |= m.group(4) != null;
                bias |= m.group(1).equals("bias");
            }
        }
        // hidden_size from weight_hh_l0 (so a wrong weight_ih_l0 is the one reported), or from
        // weight_ih_l0 when weight_hh_l0 is a scalar; a wrong weight_hh_l0 is then a size mismatch.
        int hidden = hh0.rank() >= 1 ? hh0.size(0) : ih0.size(0);
        RnnConfig config = new RnnConfig(ih0.size(1), hidden, layers, bias, bidirectional, options);
        return of(config, stateDict);
    }

    /** Checks {@code stateDict} against {@code config} with PyTorch's wording, keeping state_dict order. */
    public static RnnWeights of(RnnConfig config, Map<String, Tensor> stateDict) {
        Map<String, int[]> expected = config.parameterShapes();
        List<String> missing = expected.keySet().stream().filter(k -> !stateDict.containsKey(k)).toList();
        List<String> unexpected = stateDict.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        // load_state_dict's order: missing keys, then unexpected ones, then size mismatches.
        List<String> errors = new ArrayList<>();
        if (!missing.isEmpty()) {
            errors.add("Missing key(s) in state_dict: " + quoted(missing) + ".");
        }
        if (!unexpected.isEmpty()) {
            errors.add("Unexpected key(s) in state_dict: " + quoted(unexpected) + ".");
        }
        Map<String, Tensor> params = new LinkedHashMap<>();
        expected.forEach((name, shape) -> {
            Tensor t = stateDict.get(name);
            if (t != null && !Arrays.equals(t.shape(), shape)) {
                errors.add("size mismatch for " + name + ": copying a param with shape " + Tensor.format(t.shape())
                        + " from checkpoint, the shape in current model is " + Tensor.format(shape) + ".");
            }
            params.put(name, t);
        });
        if (!errors.isEmpty()) {
            throw new InvalidInputException("Error(s) in loading state_dict for RNN: " + String.join(" ", errors));
        }
        return new RnnWeights(config, params);
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

    /** Writes the parameters as a safetensors state_dict that {@code safetensors.torch.load_file} reads. */
    public void save(Path path) throws IOException {
        Safetensors.write(path, params, Map.of("format", "pt"));
    }

    public RnnConfig config() {
        return config;
    }

    /** The same parameters under other options (activation, batch_first). */
    public RnnWeights withOptions(RnnOptions options) {
        return new RnnWeights(config.withOptions(options), params);
    }

    /** state_dict view, in PyTorch's order. */
    public Map<String, Tensor> stateDict() {
        return params;
    }

    /** weight_ih_l{layer}[_reverse]: (hidden, layer input). */
    public Tensor weightIh(int layer, int direction) {
        return params.get(RnnConfig.paramName("weight_ih", layer, direction));
    }

    /** weight_hh_l{layer}[_reverse]: (hidden, hidden). */
    public Tensor weightHh(int layer, int direction) {
        return params.get(RnnConfig.paramName("weight_hh", layer, direction));
    }

    /** bias_ih + bias_hh of a layer and direction, (hidden); zeros without bias. */
    public float[] combinedBias(int layer, int direction) {
        float[] sum = new float[config.hiddenSize()];
        if (config.bias()) {
            float[] ih = params.get(RnnConfig.paramName("bias_ih", layer, direction)).data();
            float[] hh = params.get(RnnConfig.paramName("bias_hh", layer, direction)).data();
            for (int j = 0; j < sum.length; j++) {
                sum[j] = ih[j] + hh[j];
            }
        }
        return sum;
    }

    /** bias_ih or bias_hh (kind "ih"/"hh"), or null without bias. */
    public Tensor bias(String kind, int layer, int direction) {
        return config.bias() ? params.get(RnnConfig.paramName("bias_" + kind, layer, direction)) : null;
    }

    private static String quoted(List<String> keys) {
        return keys.stream().map(k -> "\"" + k + "\"").collect(Collectors.joining(", "));
    }
}
