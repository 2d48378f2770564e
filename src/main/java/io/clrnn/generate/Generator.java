package io.clrnn.generate;

import io.clrnn.base.InvalidInputException;

/**
 * Text from a language model, the recurrent state kept on the device between steps: the prompt runs as one forward,
 * then one step per token for every sample at once (the samples are one batch).
 */
public final class Generator {
    private Generator() {}

    /** Told each token as it is made: sample {@code sample}'s token {@code id}. */
    @FunctionalInterface
    public interface Listener {
        void token(int sample, int id);
    }

    /**
     * {@code length} tokens after {@code prompt}, for each of {@code samples} samples; {@code listener} (may be null)
     * hears each as it is made, step by step, samples in order.
     */
    public static int[][] generate(TokenModel model, Vocabulary vocab, int[] prompt, int length, int samples,
            Sampler sampler, Listener listener) {
        if (prompt.length == 0) {
            throw new InvalidInputException("the prompt is empty: the model needs at least one token to go on from");
        }
        if (length < 0) {
            throw new InvalidInputException("length must be 0 or more, not " + length);
        }
        if (samples < 1) {
            throw new InvalidInputException("the number of samples must be 1 or more, not " + samples);
        }
        model.start(samples);
        int[] ids = new int[samples * prompt.length];
        for (int s = 0; s < samples; s++) {
            System.arraycopy(prompt, 0, ids, s * prompt.length, prompt.length);
        }
        float[] logits = model.feed(ids, prompt.length);
        int width = model.vocabSize();
        if (width != vocab.size()) {
            throw new InvalidInputException("the model gives " + width + " logits a step, but the vocabulary has "
                    + vocab.size() + " tokens");
        }
        int[][] out = new int[samples][length];
        int[] step = new int[samples];
        for (int t = 0; t < length; t++) {
            for (int s = 0; s < samples; s++) {
                step[s] = sampler.next(logits, s * width, width);
                out[s][t] = step[s];
                if (listener != null) {
                    listener.token(s, step[s]);
                }
            }
            if (t + 1 < length) {
                logits = model.feed(step, 1);
            }
        }
        return out;
    }
}
