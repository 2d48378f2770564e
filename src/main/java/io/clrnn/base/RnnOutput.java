package io.clrnn.base;

/**
 * What the module's forward returns.
 *
 * @param output {@code out}: (seq, batch, D*H_out), (batch, seq, D*H_out) with batch_first, or (seq, D*H_out)
 *               unbatched; zero at each sequence's padded steps; H_out is proj_size or hidden_size
 * @param hidden {@code h_n}: (layers*D, batch, H_out), or (layers*D, H_out) unbatched; never batch-first
 * @param cell   an LSTM's {@code c_n}: (layers*D, batch, hidden_size); null for RNN and GRU
 */
public record RnnOutput(Tensor output, Tensor hidden, Tensor cell) {
    public RnnOutput(Tensor output, Tensor hidden) {
        this(output, hidden, null);
    }
}
