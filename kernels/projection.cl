// Input projection for all time steps of one layer at once: P = A · Wt + bias, as one register-blocked
// GEMM. Each work-item computes a TM x (NV*VEC) tile, broadcasting one element of A against NV vectors
// of Wt per k. The host pads M to TM and N to NV*VEC (Wt and bias zero-filled), so the inner loop has
// no edge checks; work-items past the tile grid return at once. Needs common.cl in front of it.

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
            const floatV aik = (floatV)(a[i][kk]);                                 \
            _Pragma("unroll") for (int v = 0; v < NV; v++) {                       \
                acc[i][v] = MADD(aik, wk[v], acc[i][v]);                           \
            }                                                                      \
        }                                                                          \
    } while (0)

// A:    (M, lda), first K columns used  // rows in the input's own order; the tile rows past M (padding) read
//                 row M - 1 instead, so that no read leaves A or touches memory nobody wrote
// Wt:   (K, ldn)  W_ih of every direction and gate, transposed and side by side, in the recurrence's
//                 column order (engine/WeightLayout). Stored in panels of PANEL columns, each K rows deep,
//                 so that a tile's columns are contiguous in k (one page at a time, not one page per k);
//                 a tile never straddles two panels.
// bias: (ldn)     the input-side bias of each column (b_ih, plus b_hh where the cell allows folding it)
// P:    (m_tiles*TM, ldn)
// Launched over tiles [m_first, m_first + m_tiles) of M: GPUs cut a large product into launches short
// enough for any watchdog.
__kernel void project(const int n_tiles, const int m_first, const int m_tiles, const int M, const int K, const int lda,
                      const int ldn, __global const float *restrict A, __global const WTYPE *restrict Wt,
                      __global const float *restrict bias, __global float *restrict P) {
    const int tn = get_global_id(0);
    const int tm = m_first + get_global_id(1);
    if (tn >= n_tiles || tm >= m_first + m_tiles) {
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

    __global const float *a[TM];
    #pragma unroll
    for (int i = 0; i < TM; i++) {
        a[i] = A + (size_t)min(m0 + i, M - 1) * lda;
    }
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

#ifndef LOCAL_TILES
#define LOCAL_TILES 1 // 0: leave project_local out, whose 8 KiB of local tiles some runtimes count against every
                      // kernel of the program (Oclgrind refused project on a device of 4 KiB)
#endif
#if LOCAL_TILES
#ifndef TSM
#define TSM 64 // rows of A per work-group tile (project_local)
#endif
#ifndef TSN
#define TSN 64 // columns of Wt per work-group tile
#endif
#ifndef TSK
#define TSK 16 // depth of the tiles staged in local memory
#endif
#ifndef WPTM
#define WPTM 4 // rows per work-item
#endif
#ifndef WPTN
#define WPTN 4 // columns per work-item
#endif
#define RTSM (TSM / WPTM)
#define RTSN (TSN / WPTN)

// The same product for GPUs, tiled in local memory: a work-group of RTSN x RTSM work-items stages a
// TSM x TSK tile of A and a TSK x TSN tile of Wt (row-major, PANEL = ldn), then each work-item computes
// WPTM x WPTN outputs, strided by RTSM and RTSN so that neighbouring work-items touch neighbouring
// addresses. N is padded to TSN by the host, and P's rows to TSM; A's rows past M read row M - 1, and K is
// not padded, so the last tiles are zero-filled.
// Launched over row tiles [m_first, m_first + m_tiles).
__kernel void project_local(const int n_tiles, const int m_first, const int m_tiles, const int M, const int K,
                            const int lda, const int ldn, __global const float *restrict A,
                            __global const WTYPE *restrict Wt,
                            __global const float *restrict bias, __global float *restrict P) {
    __local float As[TSK][TSM];
    __local float Bs[TSK][TSN];
    const int tidn = get_local_id(0);
    const int tidm = get_local_id(1);
    const int lid = tidm * RTSN + tidn;
    const int m0 = (m_first + get_group_id(1)) * TSM;
    const int n0 = get_group_id(0) * TSN;

    float acc[WPTM][WPTN];
    #pragma unroll
    for (int wn = 0; wn < WPTN; wn++) {
        const float b = bias[n0 + tidn + wn * RTSN];
        #pragma unroll
        for (int wm = 0; wm < WPTM; wm++) {
            acc[wm][wn] = b;
        }
    }
    for (int t = 0; t < K; t += TSK) {
        for (int l = lid; l < TSM * TSK; l += RTSM * RTSN) {
            const int row = l / TSK;
            const int kk = l % TSK;
            As[kk][row] = t + kk < K ? A[(size_t)min(m0 + row, M - 1) * lda + t + kk] : 0.0f;
        }
        for (int l = lid; l < TSK * TSN; l += RTSM * RTSN) {
            const int kk = l / TSN;
            const int col = l % TSN;
            Bs[kk][col] = t + kk < K ? WLOAD1(Wt, (size_t)(t + kk) * ldn + n0 + col) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        #pragma unroll
        for (int kk = 0; kk < TSK; kk++) {
            float b[WPTN];
            #pragma unroll
            for (int wn = 0; wn < WPTN; wn++) {
                b[wn] = Bs[kk][tidn + wn * RTSN];
            }
            #pragma unroll
            for (int wm = 0; wm < WPTM; wm++) {
                const float a = As[kk][tidm + wm * RTSM];
                #pragma unroll
                for (int wn = 0; wn < WPTN; wn++) {
                    acc[wm][wn] = MADD(a, b[wn], acc[wm][wn]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    #pragma unroll
    for (int wm = 0; wm < WPTM; wm++) {
        #pragma unroll
        for (int wn = 0; wn < WPTN; wn++) {
            P[(size_t)(m0 + tidm + wm * RTSM) * ldn + n0 + tidn + wn * RTSN] = acc[wm][wn];
        }
    }
}
#endif
