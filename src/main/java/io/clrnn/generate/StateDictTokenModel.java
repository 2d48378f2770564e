package io.clrnn.generate;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.RnnOptions;
import io.clrnn.RnnState;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.format.WeightFile;
import io.clrnn.model.ModuleKeys;
import io.clrnn.model.RnnConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A language model from a state_dict: {@code nn.Embedding -> nn.RNN/LSTM/GRU -> nn.Linear}, the recurrent module on
 * the device with its state kept there ({@link RnnState}), the embedding lookup and the head (one row of logits per
 * stream and step) on the host. The module is found as {@code clrnn run} finds it (the only one, or by prefix); the
 * embedding is the one 2-D tensor outside it whose rows are the module's input_size wide, the head the one
 * {@code .weight} whose rows are its output wide with a {@code .bias} beside it, unless named.
 */
public final class StateDictTokenModel implements TokenModel {
    private final Rnn rnn;
    private final Tensor embedding;
    private final Tensor head;
    private final Tensor bias;
    private RnnState state;

    private StateDictTokenModel(Rnn rnn, Tensor embedding, Tensor head, Tensor bias) {
        this.rnn = rnn;
        this.embedding = embedding;
        this.head = head;
        this.bias = bias;
    }

    /** {@code embeddingKey} and {@code headKey} (the head's weight) may be null: found by their shapes. */
    public static StateDictTokenModel load(Device device, Path path, RnnOptions options, String embeddingKey,
            String headKey) throws IOException {
        WeightFile file = WeightFile.open(path);
        List<String> keys = file.entries().stream().map(WeightFile.Entry::name).toList();
        ModuleKeys.Module module = ModuleKeys.find(keys, options.prefix());
        Rnn rnn = Rnn.load(device, path, options);
        try {
            RnnConfig c = rnn.config();
            String file0 = String.valueOf(path.getFileName());
            String emb = embeddingKey != null ? embeddingKey : only(file, module, file0, "an embedding (2-D, rows of "
                    + c.inputSize() + ")", e -> e.shape().length == 2 && e.shape()[1] == c.inputSize()
                    && !keys.contains(bias(e.name())), "--embedding");
            String fc = headKey != null ? headKey : only(file, module, file0, "a head (a 2-D .weight with rows of "
                    + c.outputSize() + " and a .bias)", e -> e.shape().length == 2 && e.shape()[1] == c.outputSize()
                    && e.name().endsWith(".weight") && keys.contains(bias(e.name())), "--head");
            Tensor embedding = file.tensor(emb);
            Tensor head = file.tensor(fc);
            if (embedding.rank() != 2 || embedding.size(1) != c.inputSize()) {
                throw new InvalidInputException(file0 + ": the embedding " + emb + " is " + Tensor.format(
                        embedding.shape()) + "; " + c + " takes rows of " + c.inputSize());
            }
            if (head.rank() != 2 || head.size(1) != c.outputSize()) {
                throw new InvalidInputException(file0 + ": the head " + fc + " is " + Tensor.format(head.shape()) + "; "
                        + c + " gives rows of " + c.outputSize());
            }
            Tensor b = keys.contains(bias(fc)) ? file.tensor(bias(fc)) : null;
            if (b != null && (b.rank() != 1 || b.size(0) != head.size(0))) {
                throw new InvalidInputException(file0 + ": the head's bias " + bias(fc) + " is "
                        + Tensor.format(b.shape()) + ", not [" + head.size(0) + "]");
            }
            if (c.numDirections() != 1) {
                throw new InvalidInputException(c + " is bidirectional: a language model reads its text one way");
            }
            return new StateDictTokenModel(rnn, embedding, head, b);
        } catch (RuntimeException e) {
            rnn.close();
            throw e;
        }
    }

    private static String bias(String weight) {
        return weight.endsWith(".weight") ? weight.substring(0, weight.length() - ".weight".length()) + ".bias" : "";
    }

    private static String only(WeightFile file, ModuleKeys.Module module, String name, String what,
            java.util.function.Predicate<WeightFile.Entry> fits, String option) {
        List<String> found = new ArrayList<>();
        for (WeightFile.Entry e : file.entries()) {
            if (!module.owns(e.name()) && fits.test(e)) {
                found.add(e.name());
            }
        }
        if (found.size() != 1) {
            throw new InvalidInputException(name + " holds " + (found.isEmpty() ? "no" : found.size()) + " tensors "
                    + "that could be " + what + (found.isEmpty() ? "" : ": " + found) + "; name it with " + option);
        }
        return found.get(0);
    }

    @Override
    public void start(int batch) {
        if (state != null) {
            state.close();
        }
        state = rnn.newState(batch);
    }

    @Override
    public float[] feed(int[] ids, int steps) {
        int batch = state.batch();
        int width = embedding.size(1);
        int vocab = embedding.size(0);
        boolean batchFirst = rnn.config().batchFirst();
        float[] x = new float[ids.length * width];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                int id = ids[b * steps + t];
                if (id < 0 || id >= vocab) {
                    throw new InvalidInputException("token id " + id + " is outside the embedding's " + vocab + " rows");
                }
                int row = batchFirst ? b * steps + t : t * batch + b;
                System.arraycopy(embedding.data(), id * width, x, row * width, width);
            }
        }
        Tensor y = rnn.forward(batchFirst ? Tensor.of(x, batch, steps, width) : Tensor.of(x, steps, batch, width), state);
        int h = head.size(1);
        int v = head.size(0);
        float[] logits = new float[batch * v];
        float[] w = head.data();
        for (int b = 0; b < batch; b++) {
            int row = (batchFirst ? b * steps + steps - 1 : (steps - 1) * batch + b) * h;
            for (int o = 0; o < v; o++) {
                double sum = bias == null ? 0 : bias.data()[o];
                for (int k = 0; k < h; k++) {
                    sum += (double) w[o * h + k] * y.data()[row + k];
                }
                logits[b * v + o] = (float) sum;
            }
        }
        return logits;
    }

    @Override
    public int vocabSize() {
        return head.size(0);
    }

    @Override
    public void close() {
        if (state != null) {
            state.close();
            state = null;
        }
        rnn.close();
    }
}
