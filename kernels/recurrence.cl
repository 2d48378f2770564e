// The recurrence of one layer, fused with bias and activation: h_t = act(P_t + W_hh · h_{t-1}).
// P already holds x_t · W_ih^T + b_ih + b_hh (projection.cl). Direction d reads and writes columns
// [d*H, (d+1)*H) of P and Y; the reverse direction walks time backwards. Each work-item computes
// TB batch rows x VEC hidden units, broadcasting h_{t-1}[b][k] against a vector of W_hh^T row k.
//
// Three variants, chosen on the host (engine/KernelPlan):
//  - rnn_rows: one work-item owns a block of batch rows of one direction for a whole range of time
//    steps and computes every hidden unit itself. Batch rows never talk to each other, so it needs no
//    barrier: the variant for CPUs, where a work-group is a loop and barriers break register blocking;
//  - rnn_sequence: one work-group holds a block of batch rows of one direction and loops over a
//    whole range of time steps, keeping h in local memory (and W_hh too when W_LOCAL=1): for GPUs;
//  - rnn_step: one time step of both directions per launch, for layers a work-group cannot hold.
//
// Shapes (row(t, b) = t*row_t + b*row_b, the input's own row order):
//  P:  (rows, ldp)            Wt: W_hh^T per direction (D, H, Hp) in panels, columns j >= H zero:
//                             element (d, k, j) at W_AT(d, k, j), so a work-item's columns are contiguous
//  Y:  (rows, D*H)            h0, hn: (L*D, B, H) from float h0_off / hn_off on: this layer's first state
//  (h0 may share a buffer with X and hn with the last layer's Y, so each moves in one transfer)

#ifndef TB
#define TB 4 // batch rows per work-item
#endif
#ifndef NVR
#define NVR 1 // vectors of VEC hidden units per work-item in rnn_rows
#endif
#ifndef PANEL_R
#define PANEL_R Hp // columns per panel of W_hh^T; Hp means plain row-major (what GPUs coalesce best)
#endif
// Offset of W_hh^T[d][k][j]: panel j / PANEL_R holds rows k = 0..H-1 of PANEL_R consecutive columns.
#define W_AT(d, k, j) ((size_t)(d) * H * Hp + (size_t)((j) / PANEL_R) * H * PANEL_R + (size_t)(k) * PANEL_R \
                       + (j) % PANEL_R)

#ifndef W_LOCAL
#define W_LOCAL 0 // 1: copy W_hh^T of the direction into local memory first (dedicated local memory only)
#endif

// Writes the first min(VEC, H - j0) lanes of v to dst.
void store_row(floatV v, int j0, int H, __global float *dst) {
    if (j0 + VEC <= H) {
        vstoreV(v, 0, dst);
    } else {
        store_partial(v, H - j0, dst);
    }
}

__kernel void rnn_step(const int s, const int T, const int B, const int H, const int Hp,
                       const int row_t, const int row_b, const int ldp, const int h0_off, const int hn_off,
                       __global const float *restrict P, __global const float *restrict Wt,
                       __global float *restrict Y, __global const float *restrict h0,
                       __global float *restrict hn) {
    const int j0 = get_global_id(0) * VEC;
    const int b0 = get_global_id(1) * TB;
    const int d = get_global_id(2);
    if (j0 >= H || b0 >= B) {
        return;
    }
    const int D = get_global_size(2);
    const int ldy = D * H;
    const int t = d ? T - 1 - s : s;
    const int t_prev = d ? t + 1 : t - 1;

    __global const float *h_prev[TB];
    floatV acc[TB];
    #pragma unroll
    for (int i = 0; i < TB; i++) {
        const int b = min(b0 + i, B - 1); // rows past B compute a copy of the last row, never stored
        h_prev[i] = s == 0 ? h0 + h0_off + (size_t)(d * B + b) * H
                           : Y + (size_t)(t_prev * row_t + b * row_b) * ldy + d * H;
        acc[i] = vloadV(0, P + (size_t)(t * row_t + b * row_b) * ldp + d * H + j0);
    }

    __global const float *w = Wt + W_AT(d, 0, j0);
    for (int k = 0; k < H; k++) {
        const floatV wk = vloadV(0, w + (size_t)k * PANEL_R);
        #pragma unroll
        for (int i = 0; i < TB; i++) {
            acc[i] = fma((floatV)(h_prev[i][k]), wk, acc[i]);
        }
    }

    #pragma unroll

    for (int i = 0; i < TB && b0 + i < B; i++) {
        const int b = b0 + i;
        const floatV h = ACTIVATE(acc[i]);
        store_row(h, j0, H, Y + (size_t)(t * row_t + b * row_b) * ldy + d * H + j0);
        if (s == T - 1) {
            store_row(h, j0, H, hn + hn_off + (size_t)(d * B + b) * H + j0);
        }
    }
}

// Local size (Hp/VEC, BG/TB, 1); global (Hp/VEC, blocks*BG/TB, D). Runs steps [s_begin, s_end).
// h_buf holds 2*BG*Hp floats (this step's and the next step's h); w_buf H*Hp floats when W_LOCAL.
__kernel void rnn_sequence(const int s_begin, const int s_end, const int T, const int B, const int H,
                           const int Hp, const int row_t, const int row_b, const int ldp, const int h0_off, const int hn_off,
                           __global const float *restrict P, __global const float *restrict Wt,
                           __global float *restrict Y, __global const float *restrict h0,
                           __global float *restrict hn, __local float *h_buf, __local float *w_buf) {
    const int lx = get_local_id(0);
    const int ly = get_local_id(1);
    const int lsize = get_local_size(0) * get_local_size(1);
    const int lid = ly * get_local_size(0) + lx;
    const int BG = get_local_size(1) * TB;
    const int g0 = get_group_id(1) * BG; // first batch row of this work-group
    const int j0 = lx * VEC;
    const int r0 = ly * TB;              // first row of this work-item within the group
    const int d = get_global_id(2);
    const int D = get_global_size(2);
    const int ldy = D * H;

#if W_LOCAL
    __global const float *wg = Wt + (size_t)d * H * Hp;
    for (int i = lid; i < H * Hp; i += lsize) {
        w_buf[i] = wg[i];
    }
    __local const float *w = w_buf + W_AT(0, 0, j0);
#else
    __global const float *w = Wt + W_AT(d, 0, j0);
#endif

    // h before the first step of the range: h0, or what the previous launch wrote into Y
    {
        const int t_first = d ? T - 1 - s_begin : s_begin;
        const int t_prev = d ? t_first + 1 : t_first - 1;
        for (int i = lid; i < BG * H; i += lsize) {
            const int r = i / H;
            const int k = i - r * H;
            const int b = min(g0 + r, B - 1);
            h_buf[r * Hp + k] = s_begin == 0 ? h0[h0_off + (size_t)(d * B + b) * H + k]
                                             : Y[(size_t)(t_prev * row_t + b * row_b) * ldy + d * H + k];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    int cur = 0;
    for (int s = s_begin; s < s_end; s++) {
        const int t = d ? T - 1 - s : s;
        __local const float *h_prev = h_buf + cur * BG * Hp + r0 * Hp;
        __local float *h_next = h_buf + (1 - cur) * BG * Hp + r0 * Hp;

        floatV acc[TB];
        #pragma unroll
        for (int i = 0; i < TB; i++) {
            const int b = min(g0 + r0 + i, B - 1);
            acc[i] = vloadV(0, P + (size_t)(t * row_t + b * row_b) * ldp + d * H + j0);
        }
        for (int k = 0; k < H; k++) {
            const floatV wk = vloadV(0, w + k * PANEL_R);
            #pragma unroll
            for (int i = 0; i < TB; i++) {
                acc[i] = fma((floatV)(h_prev[i * Hp + k]), wk, acc[i]);
            }
        }
        #pragma unroll
        for (int i = 0; i < TB; i++) {
            const int b = g0 + r0 + i;
            const floatV h = ACTIVATE(acc[i]);
            vstoreV(h, 0, h_next + i * Hp + j0);
            if (b < B) {
                store_row(h, j0, H, Y + (size_t)(t * row_t + b * row_b) * ldy + d * H + j0);
                if (s == T - 1) {
                    store_row(h, j0, H, hn + hn_off + (size_t)(d * B + b) * H + j0);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        cur = 1 - cur;
    }
}

#ifndef FUSED
#define FUSED 0 // 1: rnn_rows also does the input projection, reading A, W_ih^T and the bias instead of P
#endif
#ifndef PANEL_P
#define PANEL_P 1 // columns per panel of W_ih^T (FUSED only)
#endif
#ifndef WIH_ALIGNED
#define WIH_ALIGNED 1 // 1: every vector of VEC columns of W_ih^T lies inside one panel (FUSED only)
#endif

// A vector of VEC columns c.. of row k of W_ih^T, packed in panels of PANEL_P columns, K rows deep.
floatV wih_vector(__global const float *Wih, int K, int k, int c) {
#if WIH_ALIGNED
    return vloadV(0, Wih + (size_t)(c / PANEL_P) * K * PANEL_P + (size_t)k * PANEL_P + c % PANEL_P);
#else
    float lanes[VEC];
    for (int l = 0; l < VEC; l++) {
        lanes[l] = Wih[(size_t)((c + l) / PANEL_P) * K * PANEL_P + (size_t)k * PANEL_P + (c + l) % PANEL_P];
    }
    return vloadV(0, lanes);
#endif
}

// Local size (1, 1); global (items, D). Work-item i owns batch rows [i*rows, (i+1)*rows) of direction d
// and runs steps [s_begin, s_end), TB rows x NVR*VEC hidden units at a time; Hp is a multiple of NVR*VEC.
// h_{t-1} is read back from Y (or h0), rows this work-item wrote itself one step earlier.
// With FUSED=1 it starts each step from bias + A_t · W_ih^T itself: for problems so small that a
// separate projection launch costs more than the arithmetic.
__kernel void rnn_rows(const int s_begin, const int s_end, const int T, const int B, const int H, const int Hp,
                       const int row_t, const int row_b, const int ldp, const int h0_off, const int hn_off, const int rows,
                       const int K, const int lda,
                       __global const float *restrict P, __global const float *restrict Wt,
                       __global float *restrict Y, __global const float *restrict h0,
                       __global float *restrict hn, __global const float *restrict A,
                       __global const float *restrict Wih, __global const float *restrict bias) {
    const int b_first = get_global_id(0) * rows;
    const int b_end = min(B, b_first + rows);
    const int d = get_global_id(1);
    const int ldy = get_global_size(1) * H;
    __global const float *w = Wt + W_AT(d, 0, 0);

    for (int s = s_begin; s < s_end; s++) {
        const int t = d ? T - 1 - s : s;
        const int t_prev = d ? t + 1 : t - 1;
        for (int j0 = 0; j0 < H; j0 += NVR * VEC) {
            __global const float *wj = w + W_AT(0, 0, j0); // this block's columns, row k at wj + k * PANEL_R
            for (int b0 = b_first; b0 < b_end; b0 += TB) {
                __global const float *h_prev[TB];
                floatV acc[TB][NVR];
                #pragma unroll
                for (int i = 0; i < TB; i++) {
                    const int b = min(b0 + i, b_end - 1); // rows past the block repeat its last row, never stored
                    h_prev[i] = s == 0 ? h0 + h0_off + (size_t)(d * B + b) * H
                                       : Y + (size_t)(t_prev * row_t + b * row_b) * ldy + d * H;
#if FUSED
                    #pragma unroll
                    for (int v = 0; v < NVR; v++) {
                        acc[i][v] = vloadV(0, bias + d * H + j0 + v * VEC);
                    }
#else
                    __global const float *p = P + (size_t)(t * row_t + b * row_b) * ldp + d * H + j0;
                    #pragma unroll
                    for (int v = 0; v < NVR; v++) {
                        acc[i][v] = vloadV(0, p + v * VEC);
                    }
#endif
                }
#if FUSED
                for (int k = 0; k < K; k++) {
                    floatV wk[NVR];
                    #pragma unroll
                    for (int v = 0; v < NVR; v++) {
                        wk[v] = wih_vector(Wih, K, k, d * H + j0 + v * VEC);
                    }
                    #pragma unroll
                    for (int i = 0; i < TB; i++) {
                        const int b = min(b0 + i, b_end - 1);
                        const floatV ak = (floatV)(A[(size_t)(t * row_t + b * row_b) * lda + k]);
                        #pragma unroll
                        for (int v = 0; v < NVR; v++) {
                            acc[i][v] = fma(ak, wk[v], acc[i][v]);
                        }
                    }
                }
#endif
                for (int k = 0; k < H; k++) {
                    floatV wk[NVR];
                    #pragma unroll
                    for (int v = 0; v < NVR; v++) {
                        wk[v] = vloadV(0, wj + (size_t)k * PANEL_R + v * VEC);
                    }
                    #pragma unroll
                    for (int i = 0; i < TB; i++) {
                        const floatV hk = (floatV)(h_prev[i][k]);
                        #pragma unroll
                        for (int v = 0; v < NVR; v++) {
                            acc[i][v] = fma(hk, wk[v], acc[i][v]);
                        }
                    }
                }
                #pragma unroll
                for (int i = 0; i < TB && b0 + i < b_end; i++) {
                    const int b = b0 + i;
                    __global float *y = Y + (size_t)(t * row_t + b * row_b) * ldy + d * H;
                    #pragma unroll
                    for (int v = 0; v < NVR && j0 + v * VEC < H; v++) {
                        const floatV h = ACTIVATE(acc[i][v]);
                        store_row(h, j0 + v * VEC, H, y + j0 + v * VEC);
                        if (s == T - 1) {
                            store_row(h, j0 + v * VEC, H, hn + hn_off + (size_t)(d * B + b) * H + j0 + v * VEC);
                        }
                    }
                }
            }
        }
    }
}
