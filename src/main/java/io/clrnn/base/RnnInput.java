package io.clrnn.base;

/**
 * One forward's inputs: {@code x}, and optionally the initial states and each sequence's length.
 *
 * @param x       (seq, batch, input_size), (batch, seq, input_size) with batch_first, or (seq, input_size)
 * @param h0      h_0, (layers*D, batch, proj_size or hidden_size) or 2-D unbatched; null: zeros
 * @param c0      an LSTM's c_0, (layers*D, batch, hidden_size); given together with h0, or neither
 * @param lengths each sequence's length, 1..seq in any order, as PyTorch's pack_padded_sequence takes
 *                them (enforce_sorted=False); null: every sequence is seq long
 */
public record RnnInput(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
    public static RnnInput of(Tensor x) {
        return new RnnInput(x, null, null, null);
    }

    public RnnInput h0(Tensor value) {
        return new RnnInput(x, value, c0, lengths);
    }

    public RnnInput c0(Tensor value) {
        return new RnnInput(x, h0, value, lengths);
    }

    public RnnInput lengths(int... value) {
        return new RnnInput(x, h0, c0, value == null ? null : value.clone());
    }
}
