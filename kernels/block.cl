// One time step of ROWS consecutive active batch rows [b0, b0 + ROWS) and one block of NVR*VEC units of
// direction st->d: the register-blocked heart of every recurrence variant. Needs common.cl, cell.cl and
// step.cl in front of it.
//
// The host pastes this file once per row count, each copy after its own #define ROWS (TB, TB/2, ..., 1),
// so that a batch of any size runs in blocks without computing rows that are not there, from one compiled
// program; each copy names its functions block_a_<ROWS> and block_b_<ROWS> and undefines ROWS at its end.
// (The arrays below need ROWS as a constant, and OpenCL C 1.2 has no way to stamp out one function per row
// count but the preprocessor over the whole text: a macro cannot hold #if, and a program built from strings
// has no file for #include to find.)
//
// BLOCK_A: the recurrent product over h_{t-1} for the gates GA, then the cell's update. Single-phase
// cells store h; two-phase cells leave their intermediate vector in scratch for BLOCK_B.

#ifndef ROWS
#define ROWS TB
#endif
#define BLOCK_A CAT(block_a_, ROWS)
#define BLOCK_B CAT(block_b_, ROWS)

// Independent accumulator chains: an FMA's latency is several cycles, so a block with few rows, gates and
// vectors (batch 1, say) would wait on its own results; KS partial sums over alternating k keep at least
// 8 chains in flight, and are added up after the loop.
#if ROWS * GA * NVR >= 8
#define KS 1
#elif ROWS * GA * NVR >= 4
#define KS 2
#else
#define KS 4
#endif
#if ROWS * NVR >= 8
#define KSB 1
#elif ROWS * NVR >= 4
#define KSB 2
#else
#define KSB 4
#endif

void BLOCK_A(const Step *st, const int b0, const int jb) {
    const int d = st->d;
    const int U = NVR * VEC;
    const int col = jb * G * U;                      // first column of this unit block within the direction
    const long pcol = (long)d * G * st->Hp + col;    // the same column in P and in W_ih^T

    __global const float *hp[ROWS];
    floatV acc[ROWS][GA][NVR];
#if CELL == CELL_GRU && LBR
    floatV xn[ROWS][NVR]; // the n gate's input part, kept apart from its recurrent part
#endif
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        hp[i] = h_prev_row(st, b0 + i);
        #pragma unroll
        for (int g = 0; g < GA; g++) {
            #pragma unroll
            for (int v = 0; v < NVR; v++) {
#if FUSED
                acc[i][g][v] = vloadV(0, st->bias + pcol + g * U + v * VEC);
#else
                acc[i][g][v] = vloadV(0, st->P + (st->row + b0 + i) * st->ldp + pcol + g * U + v * VEC);
#endif
            }
        }
#if CELL == CELL_GRU && LBR
        #pragma unroll
        for (int v = 0; v < NVR; v++) {
            xn[i][v] = acc[i][GATE_N][v];
            acc[i][GATE_N][v] = vloadV(0, st->bhn + (long)d * st->Hp + jb * U + v * VEC);
        }
#endif
    }

#if FUSED
    // The input projection of this step, for layers too small to pay for a launch of their own.
    for (int k = 0; k < st->K; k++) {
        floatV w[GA][NVR];
        #pragma unroll
        for (int g = 0; g < GA; g++) {
            #pragma unroll
            for (int v = 0; v < NVR; v++) {
                w[g][v] = wih_vector(st->Wih, st->K, k, pcol + g * U + v * VEC);
            }
        }
        #pragma unroll
        for (int i = 0; i < ROWS; i++) {
            const floatV a = (floatV)(st->A[(st->row + b0 + i) * st->K + k]);
            #pragma unroll
            for (int g = 0; g < GA; g++) {
                #pragma unroll
                for (int v = 0; v < NVR; v++) {
#if CELL == CELL_GRU && LBR
                    if (g == GATE_N) {
                        xn[i][v] = MADD(a, w[g][v], xn[i][v]);
                        continue;
                    }
#endif
                    acc[i][g][v] = MADD(a, w[g][v], acc[i][g][v]);
                }
            }
        }
    }
#endif

    const long wbase = W_DIR(d) + PANEL_AT(col, 0, st->H_out, PANEL_R);
    floatV part[KS][ROWS][GA][NVR]; // KS partial sums over alternating k; the first starts from acc
    #pragma unroll
    for (int q = 0; q < KS; q++) {
        #pragma unroll
        for (int i = 0; i < ROWS; i++) {
            #pragma unroll
            for (int g = 0; g < GA; g++) {
                #pragma unroll
                for (int v = 0; v < NVR; v++) {
                    part[q][i][g][v] = q == 0 ? acc[i][g][v] : (floatV)(0.0f);
                }
            }
        }
    }
    for (int k = 0; k < st->H_out; k += KS) {
        #pragma unroll
        for (int q = 0; q < KS; q++) {
            if (KS > 1 && k + q >= st->H_out) {
                break;
            }
            floatV w[GA][NVR];
            #pragma unroll
            for (int g = 0; g < GA; g++) {
                #pragma unroll
                for (int v = 0; v < NVR; v++) {
                    w[g][v] = WHH_LOADV(st->W, wbase + (long)(k + q) * PANEL_R + g * U + v * VEC);
                }
            }
            #pragma unroll
            for (int i = 0; i < ROWS; i++) {
                const floatV hk = (floatV)(hp[i][k + q]);
                #pragma unroll
                for (int g = 0; g < GA; g++) {
                    #pragma unroll
                    for (int v = 0; v < NVR; v++) {
                        part[q][i][g][v] = MADD(hk, w[g][v], part[q][i][g][v]);
                    }
                }
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        #pragma unroll
        for (int g = 0; g < GA; g++) {
            #pragma unroll
            for (int v = 0; v < NVR; v++) {
                acc[i][g][v] = part[0][i][g][v];
                #pragma unroll
                for (int q = 1; q < KS; q++) {
                    acc[i][g][v] += part[q][i][g][v];
                }
            }
        }
    }

    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        const int b = b0 + i;
        const long state = (long)d * st->B + b;      // index of this row's state vectors
        #pragma unroll
        for (int v = 0; v < NVR; v++) {
            const int j0 = jb * U + v * VEC;
            if (j0 >= st->H) {
                break;
            }
#if CELL == CELL_RNN
            store_h(st, b, j0, rnn_update(d, acc[i][0][v]));
#elif CELL == CELL_LSTM
            const bool first = b >= st->bs_p;
            const floatV c_prev = load_row(j0, st->H, (first ? st->c0 : st->c) + state * st->H + j0);
#if PEEPHOLE
            __global const float *p = st->peep + (long)d * 3 * st->Hp + j0;
            const floatV pi = vloadV(0, p), pf = vloadV(0, p + st->Hp), po = vloadV(0, p + 2 * st->Hp);
#else
            const floatV pi = (floatV)(0.0f), pf = pi, po = pi;
#endif
            floatV c;
            const floatV h = lstm_update(d, acc[i][0][v], acc[i][1][v], acc[i][2][v], acc[i][3][v], c_prev,
                                         pi, pf, po, &c);
            store_row(c, j0, st->H, st->c + state * st->H + j0);
#if PROJ
            vstoreV(h, 0, st->scratch + state * st->Hp + j0);
#else
            store_h(st, b, j0, h);
#endif
#elif CELL == CELL_GRU
            const floatV r = ACT_F(d, CLIP(acc[i][0][v]));
            const floatV z = ACT_F(d, CLIP(acc[i][1][v]));
            const floatV h_prev = load_row(j0, st->H_out, hp[i] + j0);
#if LBR
            const floatV n = ACT_G(d, CLIP(MADD(r, acc[i][GATE_N][v], xn[i][v])));
            store_h(st, b, j0, gru_update(n, z, h_prev));
#else
            vstoreV(r * h_prev, 0, st->scratch + state * st->Hp + j0);
            vstoreV(z, 0, st->scratch + ((long)st->D * st->B + state) * st->Hp + j0);
#endif
#endif
        }
    }
}

#if TWO_PHASE
// BLOCK_B: the second product of a two-phase cell, over the vector u that BLOCK_A left in scratch:
// LSTM with proj_size: h = W_hr u for output units jb*U..; GRU without linear_before_reset: the n gate
// over u = r * h_{t-1}, then h.
void BLOCK_B(const Step *st, const int b0, const int jb) {
    const int d = st->d;
    const int U = NVR * VEC;
    __global const float *u[ROWS];
    floatV acc[ROWS][NVR];
    const int K2 = st->H; // the length of u
#if CELL == CELL_LSTM
    const long wbase = (long)d * st->H * st->Pp + PANEL_AT(jb * U, 0, st->H, PANEL_HR);
#else
    const int col = jb * G * U + GATE_N * U;
    const long wbase = W_DIR(d) + PANEL_AT(col, 0, st->H_out, PANEL_R);
    const long pcol = (long)d * G * st->Hp + col;
#endif
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        u[i] = st->scratch + ((long)d * st->B + b0 + i) * st->Hp;
        #pragma unroll
        for (int v = 0; v < NVR; v++) {
#if CELL == CELL_LSTM
            acc[i][v] = (floatV)(0.0f);
#else
            acc[i][v] = vloadV(0, st->P + (st->row + b0 + i) * st->ldp + pcol + v * VEC);
#endif
        }
    }
    floatV part[KSB][ROWS][NVR];
    #pragma unroll
    for (int q = 0; q < KSB; q++) {
        #pragma unroll
        for (int i = 0; i < ROWS; i++) {
            #pragma unroll
            for (int v = 0; v < NVR; v++) {
                part[q][i][v] = q == 0 ? acc[i][v] : (floatV)(0.0f);
            }
        }
    }
    // k in steps of KSB, each partial sum taking one k; the last step may take fewer
    for (int k = 0; k < K2; k += KSB) {
        #pragma unroll
        for (int q = 0; q < KSB; q++) {
            if (KSB > 1 && k + q >= K2) {
                break;
            }
            floatV w[NVR];
            #pragma unroll
            for (int v = 0; v < NVR; v++) {
#if CELL == CELL_LSTM
                w[v] = WLOADV(st->Whr, wbase + (long)(k + q) * PANEL_HR + v * VEC);
#else
                w[v] = WHH_LOADV(st->W, wbase + (long)(k + q) * PANEL_R + v * VEC);
#endif
            }
            #pragma unroll
            for (int i = 0; i < ROWS; i++) {
                const floatV uk = (floatV)(u[i][k + q]);
                #pragma unroll
                for (int v = 0; v < NVR; v++) {
                    part[q][i][v] = MADD(uk, w[v], part[q][i][v]);
                }
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        #pragma unroll
        for (int v = 0; v < NVR; v++) {
            acc[i][v] = part[0][i][v];
            #pragma unroll
            for (int q = 1; q < KSB; q++) {
                acc[i][v] += part[q][i][v];
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        const int b = b0 + i;
        const long state = (long)d * st->B + b;
        #pragma unroll
        for (int v = 0; v < NVR; v++) {
            const int j0 = jb * U + v * VEC;
            if (j0 >= st->H_out) {
                break;
            }
#if CELL == CELL_LSTM
            const floatV h = acc[i][v];
#else
            const floatV n = ACT_G(d, CLIP(acc[i][v]));
            const floatV z = vloadV(0, st->scratch + ((long)st->D * st->B + state) * st->Hp + j0);
            const floatV h = gru_update(n, z, load_row(j0, st->H_out, h_prev_row(st, b) + j0));
#endif
            store_h(st, b, j0, h);
        }
    }
}
#endif

#undef KS
#undef KSB
#undef BLOCK_A
#undef BLOCK_B
#undef ROWS
