// The recurrence of one layer, every direction at once, for any cell (cell.cl): three ways to walk the
// time steps, all built on the register blocks of block.cl. Chosen on the host (engine/KernelPlan):
//  - rnn_rows:  one work-item owns chunks of TB batch rows of one direction for a range of time steps and
//               computes every unit itself. Rows never talk to each other, so it needs no barrier: the
//               variant for CPUs, where a work-group is a loop and a barrier spills every accumulator.
//  - rnn_group: one work-group owns BG batch rows of one direction for a range of time steps; its
//               work-items share the unit blocks and meet at a barrier after each step (GPUs).
//  - rnn_step:  one launch per step (and phase), every row block and unit block in parallel (GPUs, when
//               too few rows would leave most of the chip idle in rnn_group).

#ifndef VARIANT
#define VARIANT 0
#endif
#define VARIANT_ROWS 0
#define VARIANT_GROUP 1
#define VARIANT_STEP 2

// rows_a(st, b0, n, jb) and rows_b: phase A (or B) of one step for rows [b0, b0 + n), n <= TB, in blocks
// of TB, TB/2, ..., 1 rows; the host writes them beside the block instantiations they call.

// Unit blocks of the first and second phase: hidden units, or LSTM's projected outputs.
#define UNIT_BLOCKS_A (Hp / (NVR * VEC))
#if CELL == CELL_LSTM
#define UNIT_BLOCKS_B (Pp / (NVR * VEC))
#else
#define UNIT_BLOCKS_B (Hp / (NVR * VEC))
#endif

// The arguments every recurrence kernel takes after its own (see step.cl for the shapes); the host sets
// them by name.
#define STEP_PARAMS                                                                                           \
    const int T, const int B, const int D, const int H, const int Hp, const int Hin, const int Pp,           \
    const int ldp, const int ldy, const int K, const int reverse_mask,                                       \
    __global const int *table, const long table_off, __global const float *P, __global const WTYPE *W,       \
    __global float *Y, __global const float *h0, const long h0_off, __global float *hn, const long hn_off,   \
    __global const float *c0, const long c0_off, __global float *c, const long c_off,                        \
    __global float *scratch, __global const WTYPE *Whr, __global const float *bhn,                          \
    __global const float *peep, __global const float *A, __global const WTYPE *Wih,                         \
    __global const float *bias

#define INIT_STEP(st, dir)                                                                                  \
    Step st;                                                                                                \
    st.d = (dir); st.B = B; st.D = D; st.H = H; st.Hp = Hp; st.Hin = Hin; st.Pp = Pp;                       \
    st.ldp = ldp; st.ldy = ldy; st.K = K;                                                                   \
    st.P = P; st.Y = Y; st.h0 = h0 + h0_off; st.hn = hn + hn_off; st.c0 = c0 + c0_off; st.c = c + c_off;    \
    st.scratch = scratch; st.Whr = Whr; st.bhn = bhn; st.peep = peep; st.A = A; st.Wih = Wih;               \
    st.bias = bias

#if VARIANT == VARIANT_ROWS
// Global (items, D), local (1, 1). Work-item i owns row chunks i, i + items, ... (TB rows each; sorted by
// length, so every item keeps work as rows finish) and runs steps [s_begin, s_end).
__kernel void rnn_rows(const int s_begin, const int s_end, STEP_PARAMS) {
    const int item = get_global_id(0);
    const int items = get_global_size(0);
    const int d = get_global_id(1);
    INIT_STEP(st, d);
    st.W = W;
    table += table_off;
    for (int s = s_begin; s < s_end; s++) {
        set_step(&st, s, T, (reverse_mask >> d) & 1, table);
        for (int jb = 0; jb < UNIT_BLOCKS_A; jb++) {
            for (int b0 = item * TB; b0 < st.bs; b0 += items * TB) {
                rows_a(&st, b0, min(TB, st.bs - b0), jb);
            }
        }
#if TWO_PHASE
        for (int jb = 0; jb < UNIT_BLOCKS_B; jb++) {
            for (int b0 = item * TB; b0 < st.bs; b0 += items * TB) {
                rows_b(&st, b0, min(TB, st.bs - b0), jb);
            }
        }
#endif
    }
}
#endif

#if VARIANT == VARIANT_GROUP
// Global (groups * local, D), local (L, 1). Work-group g owns rows [g*BG, (g+1)*BG) and runs steps
// [s_begin, s_end); its work-items take (row chunk, unit block) pairs in turn, neighbours taking
// neighbouring unit blocks so that their W_hh^T reads coalesce. Y is written and read back within the
// group only, so a global-memory barrier between steps is all the synchronisation needed.
// w_local holds Hin*G*Hp floats when W_LOCAL.
__kernel void rnn_group(const int s_begin, const int s_end, const int BG, STEP_PARAMS, __local float *w_local) {
    const int lx = get_local_id(0);
    const int lsize = get_local_size(0);
    const int g0 = get_group_id(0) * BG;
    const int d = get_group_id(1);
    INIT_STEP(st, d);
    table += table_off;
#if W_LOCAL
    const long wsize = (long)Hin * G * Hp;
    for (long i = lx; i < wsize; i += lsize) {
        w_local[i] = WLOAD1(W, (long)d * wsize + i);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    st.W = w_local;
#else
    st.W = W;
#endif
    for (int s = s_begin; s < s_end; s++) {
        set_step(&st, s, T, (reverse_mask >> d) & 1, table);
        const int rows = min(BG, st.bs - g0); // the same for the whole group: skipping is uniform
        if (rows <= 0) {
            continue;
        }
        const int chunks = (rows + TB - 1) / TB;
        for (int w = lx; w < chunks * UNIT_BLOCKS_A; w += lsize) {
            const int b0 = g0 + (w / UNIT_BLOCKS_A) * TB;
            rows_a(&st, b0, min(TB, g0 + rows - b0), w % UNIT_BLOCKS_A);
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
#if TWO_PHASE
        for (int w = lx; w < chunks * UNIT_BLOCKS_B; w += lsize) {
            const int b0 = g0 + (w / UNIT_BLOCKS_B) * TB;
            rows_b(&st, b0, min(TB, g0 + rows - b0), w % UNIT_BLOCKS_B);
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
#endif
    }
}
#endif

#if VARIANT == VARIANT_STEP
// Global (unit blocks, row chunks, D), padded to the local size. Runs phase `phase` of step s.
__kernel void rnn_step(const int s, const int phase, STEP_PARAMS) {
    const int jb = get_global_id(0);
    const int b0 = get_global_id(1) * TB;
    const int d = get_global_id(2);
    INIT_STEP(st, d);
    st.W = W;
    table += table_off;
    set_step(&st, s, T, (reverse_mask >> d) & 1, table);
    if (b0 >= st.bs) {
        return;
    }
    if (phase == 0 && jb < UNIT_BLOCKS_A) {
        rows_a(&st, b0, min(TB, st.bs - b0), jb);
    }
#if TWO_PHASE
    if (phase == 1 && jb < UNIT_BLOCKS_B) {
        rows_b(&st, b0, min(TB, st.bs - b0), jb);
    }
#endif
}
#endif
