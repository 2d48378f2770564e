/**
 * The ground floor every other package builds on, using nothing of clrnn itself: {@link io.clrnn.base.Tensor},
 * a forward's {@link io.clrnn.base.RnnInput} and {@link io.clrnn.base.RnnOutput}, {@link io.clrnn.base.WeightsDtype}
 * and the half-precision conversions ({@link io.clrnn.base.Half}), and the exceptions clrnn throws on purpose
 * ({@link io.clrnn.base.ClrnnException}, {@link io.clrnn.base.InvalidInputException}). The module that runs
 * them, {@link io.clrnn.Rnn}, is the top, in {@code io.clrnn}.
 */
package io.clrnn.base;
