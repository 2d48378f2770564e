// What differs between recurrent cells, chosen by the host with CELL and a few flags: the gate count,
// which gates the recurrent product covers, and the update from gate pre-activations to the new state.
// Gates are in PyTorch's row-block order (LSTM i, f, g, o; GRU r, z, n); the host reorders ONNX weights.
// The activations ACT_F, ACT_G, ACT_H (per direction d) and CLIP are defined by the host as well.

#define CELL_RNN 0
#define CELL_LSTM 1
#define CELL_GRU 2
#ifndef CELL
#define CELL CELL_RNN
#endif
#ifndef LBR
#define LBR 1 // GRU: linear_before_reset, r * (W_hn h + b_hn) as PyTorch computes it; 0: W_hn (r * h), ONNX's default
#endif
#ifndef PROJ
#define PROJ 0 // LSTM: 1 when h is W_hr (o * tanh(c)) (PyTorch's proj_size)
#endif
#ifndef PEEPHOLE
#define PEEPHOLE 0 // LSTM: ONNX peephole weights p_i, p_f, p_o
#endif
#ifndef INPUT_FORGET
#define INPUT_FORGET 0 // LSTM: ONNX input_forget, f = 1 - i
#endif
#ifndef ACT_F
#define ACT_F(d, x) act_tanh(x)
#endif
#ifndef ACT_G
#define ACT_G(d, x) act_tanh(x)
#endif
#ifndef ACT_H
#define ACT_H(d, x) act_tanh(x)
#endif
#ifndef CLIP
#define CLIP(x) (x)
#endif

#if CELL == CELL_LSTM
#define G 4
#elif CELL == CELL_GRU
#define G 3
#else
#define G 1
#endif

// GRU's n gate keeps its recurrent part apart from its input part: r multiplies only the former.
#define GATE_N 2
// Gates whose recurrent product runs in the first phase of a step; GRU without linear_before_reset
// needs r before it can form (r * h) for the n gate, which therefore runs in a second phase.
#if CELL == CELL_GRU && !LBR
#define GA 2
#else
#define GA G
#endif
// Cells whose step ends with a second product over a vector the first phase made.
#define TWO_PHASE ((CELL == CELL_LSTM && PROJ) || (CELL == CELL_GRU && !LBR))

floatV rnn_update(int d, floatV a) {
    return ACT_F(d, CLIP(a));
}

// The new c into *c; returns o * h(c), which is h unless the cell projects it.
floatV lstm_update(int d, floatV ai, floatV af, floatV ag, floatV ao, floatV c_prev, floatV pi, floatV pf,
                   floatV po, floatV *c) {
#if PEEPHOLE
    ai = MADD(pi, c_prev, ai);
    af = MADD(pf, c_prev, af);
#endif
    const floatV i = ACT_F(d, CLIP(ai));
#if INPUT_FORGET
    const floatV f = (floatV)(1.0f) - i;
#else
    const floatV f = ACT_F(d, CLIP(af));
#endif
    const floatV g = ACT_G(d, CLIP(ag));
    *c = MADD(f, c_prev, i * g);
#if PEEPHOLE
    ao = MADD(po, *c, ao);
#endif
    return ACT_F(d, CLIP(ao)) * ACT_H(d, *c);
}

// h' = (1 - z) * n + z * h, with n = g(x_n + r * hn_part); hn_part already holds b_hn.
floatV gru_update(floatV n, floatV z, floatV h_prev) {
    return MADD(z, h_prev - n, n);
}
