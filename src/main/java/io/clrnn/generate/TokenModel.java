package io.clrnn.generate;

/**
 * A language model run a step at a time with its state kept between calls: token ids in, each stream's logits for
 * the next token out. {@link OnnxTokenModel} runs an exported graph; {@link StateDictTokenModel} an Embedding, a
 * recurrent module and a Linear head from a state_dict.
 */
public interface TokenModel extends AutoCloseable {
    /** Starts {@code batch} streams from zero states. */
    void start(int batch);

    /**
     * The next {@code steps} tokens of every stream ({@code ids}: batch rows of {@code steps}, row after row);
     * returns the logits after each stream's last one, batch rows of {@link #vocabSize()}.
     */
    float[] feed(int[] ids, int steps);

    /** Logits per step. */
    int vocabSize();

    @Override
    void close();
}
