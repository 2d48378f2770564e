// Input projection for all time steps of one layer at once: P = A · Wt + bias, as one register-blocked
// GEMM. Each work-item computes a TM x (NV*VEC) tile, broadcasting one element of A against NV vectors
// of Wt per k. The host pads M to TM and N to NV*VEC (Wt and bias zero-filled), so the inner loop has
// no edge checks; work-items past the tile grid return at once.

#ifndef TM
#define TM 4 // rows of A (time steps x batch) per work-item
#endif
#ifndef NV
#define NV 2 // vectors of VEC outputs per work-item along N
#endif
#ifndef PANEL
#define PANEL ldn // columns per panel of Wt; ldn means plain row-major (what GPUs coalesce best)
#endif

// One k step of the tile: NV vectors of row k of Wt, each multiplied by TM broadcast elements of A.
#define PROJECT_K(k_)                                                              \
    do {                                                                           \
        const int kk = (k_);                                                       \
        floatV wk[NV];                                                             \
        _Pragma("unroll") for (int v = 0; v < NV; v++) {                           \
            wk[v] = WLOADV(Wt, w0 + (size_t)kk * PANEL + v * VEC);                 \
        }                                                                          \
        _Pragma("unroll") for (int i = 0; i < TM; i++) {                           \
            const floatV aik = (floatV)(a[(size_t)i * lda + kk]);                  \
            _Pragma("unroll") for (int v = 0; v < NV; v++) {                       \
                acc[i][v] = MADD(aik, wk[v], acc[i][v]);                           \
            }                                                                      \
        }                                                                          \
    } while (0)

// A:    (m_tiles*TM, lda), first K columns used  // rows in the input's own order
// Wt:   (K, ldn)  W_ih of every direction and gate, transposed and side by side, in the recurrence's
//                 column order (engine/WeightLayout). Stored in panels of PANEL columns, each K rows deep,
//                 so that a tile's columns are contiguous in k (one page at a time, not one page per k);
//                 a tile never straddles two panels.
// bias: (ldn)     the input-side bias of each column (b_ih, plus b_hh where the cell allows folding it)
// P:    (m_tiles*TM, ldn)
__kernel void project(const int n_tiles, const int m_tiles, const int K, const int lda, const int ldn,
                      __global const float *restrict A, __global const WTYPE *restrict Wt,
                      __global const float *restrict bias, __global float *restrict P) {
    const int tn = get_global_id(0);
    const int tm = get_global_id(1);
    if (tn >= n_tiles || tm >= m_tiles) {
        return;
    }
    const int n0 = tn * (NV * VEC);
    const int m0 = tm * TM;

    floatV acc[TM][NV];
    #pragma unroll
    for (int v = 0; v < NV; v++) {
        const floatV b = vloadV(0, bias + n0 + v * VEC);
        #pragma unroll
        for (int i = 0; i < TM; i++) {
            acc[i][v] = b;
        }
    }

    __global const float *a = A + (size_t)m0 * lda;
    // element offsets, not pointers: arithmetic on a half pointer needs cl_khr_fp16
    const size_t w0 = (size_t)(n0 / PANEL) * K * PANEL + n0 % PANEL;
    int k = 0;
    // K unrolled by 4 by hand: the loads of the next k overlap the FMAs of this one.
    for (; k + 4 <= K; k += 4) {
        PROJECT_K(k);
        PROJECT_K(k + 1);
        PROJECT_K(k + 2);
        PROJECT_K(k + 3);
    }
    for (; k < K; k++) {
        PROJECT_K(k);
    }

    #pragma unroll
    for (int i = 0; i < TM; i++) {
        #pragma unroll
        for (int v = 0; v < NV; v++) {
            vstoreV(acc[i][v], 0, P + (size_t)(m0 + i) * ldn + n0 + v * VEC);
        }
    }
}
