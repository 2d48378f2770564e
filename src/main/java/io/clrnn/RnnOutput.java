package io.clrnn;

/**
 * What {@code torch.nn.RNN.forward} returns.
 *
 * @param output {@code out}: (seq, batch, D*hidden), (batch, seq, D*hidden) with batch_first, or (seq, D*hidden) unbatched
 * @param hidden {@code h_n}: (layers*D, batch, hidden), or (layers*D, hidden) unbatched; never batch-first
 */
public record RnnOutput(Tensor output, Tensor hidden) {}
