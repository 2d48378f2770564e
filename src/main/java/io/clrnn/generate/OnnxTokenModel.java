package io.clrnn.generate;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.onnx.IntTensor;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxModel.Port;
import io.clrnn.onnx.OnnxSession;
import io.clrnn.onnx.OnnxStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An exported language model: a graph whose one input is token ids, (batch, seq) or (seq, batch), and whose first
 * output is logits, (batch, seq, vocab) or (seq, batch, vocab) alike; fed through an {@link OnnxStream}, so every
 * recurrent node's state stays on the device between steps. Which axis is time the caller says, or the input's
 * declared dimension names do (torch.onnx.export's dynamic_axes, e.g. {@code seq} first); else batch comes first.
 */
public final class OnnxTokenModel implements TokenModel {
    private final OnnxSession session;
    private final String input;
    private final String output;
    private final boolean timeMajor;
    private OnnxStream stream;
    private int vocab = -1;

    /** {@code timeMajor} null: as the input's dimension names say. */
    public OnnxTokenModel(OnnxSession session, Boolean timeMajor) {
        this.session = session;
        OnnxModel model = session.model();
        List<Port> inputs = model.inputs();
        if (inputs.size() != 1 || inputs.get(0).isFloat()) {
            throw new InvalidInputException("a language model's graph takes one input, integer token ids; this one "
                    + "takes " + inputs.stream().map(p -> p.name() + " (" + p.type() + ")").toList());
        }
        Port ids = inputs.get(0);
        if (ids.dims() != null && ids.dims().size() != 2) {
            throw new InvalidInputException("the graph's input " + ids.name() + " is " + ids.shape()
                    + "; a language model takes token ids (batch, seq)");
        }
        this.input = ids.name();
        this.output = model.outputs().get(0).name();
        this.timeMajor = timeMajor != null ? timeMajor : ids.dims() != null && (timeLike(ids.dims().get(0))
                || batchLike(ids.dims().get(1)) && !batchLike(ids.dims().get(0)));
        session.stream(1).close(); // refused now, in one line, if the graph cannot be fed a step at a time
    }

    private static boolean timeLike(String dim) {
        String d = dim.toLowerCase(Locale.ROOT);
        return d.contains("seq") || d.contains("time") || d.contains("step") || d.contains("len");
    }

    private static boolean batchLike(String dim) {
        return dim.toLowerCase(Locale.ROOT).contains("batch");
    }

    public boolean timeMajor() {
        return timeMajor;
    }

    @Override
    public void start(int batch) {
        if (stream != null) {
            stream.close();
        }
        stream = session.stream(batch);
    }

    @Override
    public float[] feed(int[] ids, int steps) {
        int batch = stream.batch();
        long[] data = new long[ids.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                data[timeMajor ? t * batch + b : b * steps + t] = ids[b * steps + t];
            }
        }
        IntTensor x = timeMajor ? IntTensor.of(data, steps, batch) : IntTensor.of(data, batch, steps);
        Tensor logits = stream.run(Map.of(), Map.of(input, x)).get(output);
        int[] want = timeMajor ? new int[] {steps, batch, -1} : new int[] {batch, steps, -1};
        if (logits.rank() != 3 || logits.size(0) != want[0] || logits.size(1) != want[1]) {
            throw new InvalidInputException("the graph's output " + output + " is " + Tensor.format(logits.shape())
                    + " for ids " + Tensor.format(x.shape()) + "; a language model gives logits "
                    + (timeMajor ? "(seq, batch, vocab)" : "(batch, seq, vocab)"));
        }
        vocab = logits.size(2);
        float[] last = new float[batch * vocab];
        for (int b = 0; b < batch; b++) {
            int row = timeMajor ? (steps - 1) * batch + b : b * steps + steps - 1;
            System.arraycopy(logits.data(), row * vocab, last, b * vocab, vocab);
        }
        return last;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public void close() {
        if (stream != null) {
            stream.close();
            stream = null;
        }
    }
}
