// What differs between recurrent cells, chosen by the host with CELL and a few flags: the gate count,
// which gates the recurrent product covers, the activations, and the update from gate pre-activations
// to the new state. Gates are in PyTorch's row-block order (LSTM i, f, g, o; GRU r, z, n); the host
// reorders ONNX weights. Needs common.cl in front of it.

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

// Activation ids: ACT_ and the name of Activation.Function, which the host reads from here by name.
#define ACT_TANH 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_AFFINE 3
#define ACT_LEAKY_RELU 4
#define ACT_THRESHOLDED_RELU 5
#define ACT_SCALED_TANH 6
#define ACT_HARD_SIGMOID 7
#define ACT_ELU 8
#define ACT_SOFTSIGN 9
#define ACT_SOFTPLUS 10

// Activation f of x, with ONNX's alpha a and beta b where f takes them (common.cl's act_*). f is always
// one of the constant ids below, so the compiler keeps only the one call it names.
floatV activation(const int f, const floatV x, const float a, const float b) {
    return f == ACT_RELU ? act_relu(x)
         : f == ACT_SIGMOID ? act_sigmoid(x)
         : f == ACT_AFFINE ? act_affine(x, a, b)
         : f == ACT_LEAKY_RELU ? act_leaky_relu(x, a)
         : f == ACT_THRESHOLDED_RELU ? act_thresholded_relu(x, a)
         : f == ACT_SCALED_TANH ? act_scaled_tanh(x, a, b)
         : f == ACT_HARD_SIGMOID ? act_hard_sigmoid(x, a, b)
         : f == ACT_ELU ? act_elu(x, a)
         : f == ACT_SOFTSIGN ? act_softsign(x)
         : f == ACT_SOFTPLUS ? act_softplus(x)
         : act_tanh(x);
}

// The cell's activation slots f, g, h (ONNX's; PyTorch's cells use f = sigmoid, g = h = tanh): each slot's
// id, alpha and beta (float literals), defined together (ACT_F_ID, ACT_F_ALPHA, ACT_F_BETA); and for a slot
// whose reverse direction takes another activation, that one's as ACT_F_REV_ID, ACT_F_REV_ALPHA, ACT_F_REV_BETA.
#ifndef ACT_F_ID
#define ACT_F_ID ACT_TANH
#define ACT_F_ALPHA 0.0f
#define ACT_F_BETA 0.0f
#endif
#ifndef ACT_G_ID
#define ACT_G_ID ACT_TANH
#define ACT_G_ALPHA 0.0f
#define ACT_G_BETA 0.0f
#endif
#ifndef ACT_H_ID
#define ACT_H_ID ACT_TANH
#define ACT_H_ALPHA 0.0f
#define ACT_H_BETA 0.0f
#endif

// ACT_F(d, x), ACT_G, ACT_H: the slot's activation of x in direction d. A slot that is the same in both
// directions leaves d alone, so that its code has no branch. (s is only ever pasted: G is also a macro.)
#define ACT_FWD(s, x) activation(ACT_##s##_ID, x, ACT_##s##_ALPHA, ACT_##s##_BETA)
#define ACT_BY_DIR(s, d, x) ((d) ? activation(ACT_##s##_REV_ID, x, ACT_##s##_REV_ALPHA, ACT_##s##_REV_BETA) \
                                 : activation(ACT_##s##_ID, x, ACT_##s##_ALPHA, ACT_##s##_BETA))
#ifdef ACT_F_REV_ID
#define ACT_F(d, x) ACT_BY_DIR(F, d, x)
#else
#define ACT_F(d, x) ACT_FWD(F, x)
#endif
#ifdef ACT_G_REV_ID
#define ACT_G(d, x) ACT_BY_DIR(G, d, x)
#else
#define ACT_G(d, x) ACT_FWD(G, x)
#endif
#ifdef ACT_H_REV_ID
#define ACT_H(d, x) ACT_BY_DIR(H, d, x)
#else
#define ACT_H(d, x) ACT_FWD(H, x)
#endif

// CLIP(x): ONNX's clip, x bounded to [-CLIP_VALUE, CLIP_VALUE] before every activation, when HAS_CLIP.
#ifndef HAS_CLIP
#define HAS_CLIP 0
#endif
#ifndef CLIP_VALUE
#define CLIP_VALUE 0.0f // a float literal, positive
#endif
#if HAS_CLIP
#define CLIP(x) ((x) < (floatV)(-CLIP_VALUE) ? (floatV)(-CLIP_VALUE) : (x) > (floatV)(CLIP_VALUE) ? (floatV)(CLIP_VALUE) : (x))
#else
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
