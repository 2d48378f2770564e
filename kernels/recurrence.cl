// The recurrence of one layer, every direction at once, for any cell (cell.cl): three ways to walk the
// time steps, all built on the register blocks of block.cl. Chosen on the host (engine/KernelPlanner):
//  - rnn_rows:  one work-item owns chunks of TB batch rows of one direction for a range of time steps and
//               computes every unit itself. Rows never talk to each other, so it needs no barrier: the
//               variant for CPUs, where a work-group is a loop and a barrier spills every accumulator.
//  - rnn_group: one work-group owns BG batch rows of one direction for a range of time steps; its
//               work-items share the unit blocks and meet at a barrier after each step (GPUs).
//  - rnn_step:  one launch per step (and phase), every row block and unit block in parallel (GPUs, when
//               too few rows would leave most of the chip idle in rnn_group).
//  - rnn_team:  the work-items of a direction split its unit blocks and take every row, meeting at a
//               barrier in global memory after each phase: one launch for the whole sequence that still
//               keeps every core busy when there are too few rows to split (CPUs, batch 1).

//
// Needs common.cl, cell.cl, step.cl and block.cl in front of it, block.cl once for each row count TB,
// TB/2, ..., 1 (see there).

#define VARIANT_ROWS 0
#define VARIANT_GROUP 1
#define VARIANT_STEP 2
#define VARIANT_TEAM 3
#ifndef VARIANT
#define VARIANT VARIANT_ROWS
#endif

// Phase A of one step for rows [b0, b0 + n), n <= TB, in blocks of TB, TB/2, ..., 1 rows: each size at
// most once, and only the sizes block.cl was pasted for (TB is a power of two up to 16).
void rows_a(const Step *st, int b0, int n, int jb) {
#if TB >= 16
    if (n >= 16) { block_a_16(st, b0, jb); b0 += 16; n -= 16; }
#endif
#if TB >= 8
    if (n >= 8) { block_a_8(st, b0, jb); b0 += 8; n -= 8; }
#endif
#if TB >= 4
    if (n >= 4) { block_a_4(st, b0, jb); b0 += 4; n -= 4; }
#endif
#if TB >= 2
    if (n >= 2) { block_a_2(st, b0, jb); b0 += 2; n -= 2; }
#endif
    if (n >= 1) { block_a_1(st, b0, jb); }
}

#if TWO_PHASE
// Phase B, the same way.
void rows_b(const Step *st, int b0, int n, int jb) {
#if TB >= 16
    if (n >= 16) { block_b_16(st, b0, jb); b0 += 16; n -= 16; }
#endif
#if TB >= 8
    if (n >= 8) { block_b_8(st, b0, jb); b0 += 8; n -= 8; }
#endif
#if TB >= 4
    if (n >= 4) { block_b_4(st, b0, jb); b0 += 4; n -= 4; }
#endif
#if TB >= 2
    if (n >= 2) { block_b_2(st, b0, jb); b0 += 2; n -= 2; }
#endif
    if (n >= 1) { block_b_1(st, b0, jb); }
}
#endif

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
    const int T, const int B, const int D, const int H, const int Hp, const int H_out, const int Pp,         \
    const int ldp, const int ldy, const int K, const int reverse_mask,                                       \
    __global const int *table, const long table_off, __global const float *P, __global const WTYPE *W,       \
    __global float *Y, __global const float *h0, const long h0_off, __global float *hn, const long hn_off,   \
    __global const float *c0, const long c0_off, __global float *c, const long c_off,                        \
    __global float *scratch, __global const WTYPE *Whr, __global const float *bhn,                          \
    __global const float *peep, __global const float *A, __global const WTYPE *Wih,                         \
    __global const float *bias

#define INIT_STEP(st, dir)                                                                                  \
    Step st;                                                                                                \
    st.d = (dir); st.B = B; st.D = D; st.H = H; st.Hp = Hp; st.H_out = H_out; st.Pp = Pp;                   \
    st.ldp = ldp; st.ldy = ldy; st.K = K;                                                                   \
    st.P = P; st.Y = Y; st.h0 = h0 + h0_off; st.hn = hn + hn_off; st.c0 = c0 + c0_off; st.c = c + c_off;    \
    st.scratch = scratch; st.Whr = Whr; st.bhn = bhn; st.peep = peep; st.A = A; st.Wih = Wih;               \
    st.bias = bias

// The j-th unit block of [first, end) that step s works on: forwards on even steps, backwards on odd
// ones. W_hh^T is read block after block, and a core's share of it is often a little larger than its
// cache; walking back over what the last step read last finds that part still cached, where walking
// forwards again would evict every block just before it is needed (T200 B1 H512 LSTM: 15% faster, GRU 25%).
int zigzag(int j, int first, int end, int s) {
    return (s & 1) ? end - 1 - (j - first) : j;
}

#if VARIANT == VARIANT_ROWS
// Global (items, D), local (1, 1), or a part of that range (a global offset): work-item i owns row chunks i,
// i + items, ... (TB rows each; sorted by length, so every item keeps work as rows finish) and runs steps
// [s_begin, s_end).
__kernel void rnn_rows(const int s_begin, const int s_end, const int items, STEP_PARAMS) {
    const int item = get_global_id(0);
    const int d = get_global_id(1);
    INIT_STEP(st, d);
    st.W = W;
    table += table_off;
    for (int s = s_begin; s < s_end; s++) {
        set_step(&st, s, T, (reverse_mask >> d) & 1, table);
        for (int j = 0; j < UNIT_BLOCKS_A; j++) {
            const int jb = zigzag(j, 0, UNIT_BLOCKS_A, s);
            for (int b0 = item * TB; b0 < st.bs; b0 += items * TB) {
                rows_a(&st, b0, min(TB, st.bs - b0), jb);
            }
        }
#if TWO_PHASE
        for (int j = 0; j < UNIT_BLOCKS_B; j++) {
            const int jb = zigzag(j, 0, UNIT_BLOCKS_B, s);
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
// w_local holds H_out*G*Hp floats when W_LOCAL.
__kernel void rnn_group(const int s_begin, const int s_end, const int BG, STEP_PARAMS, __local float *w_local) {
    const int lx = get_local_id(0);
    const int lsize = get_local_size(0);
    const int g0 = get_group_id(0) * BG;
    const int d = get_group_id(1);
    INIT_STEP(st, d);
    table += table_off;
#if W_LOCAL
    const long wsize = (long)H_out * G * Hp;
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

#if VARIANT == VARIANT_TEAM
#ifndef TEAM_SPINS
#define TEAM_SPINS (1u << 24) // polls of a waiting item before it gives up: about 30 ms on a 2020s CPU
#endif

// The first of `n` things that item i of `items` owns: contiguous shares, so that each item reads the
// same slice of W_hh^T at every step and that slice stays in its core's cache.
int share(int n, int i, int items) {
    return (int)((long)n * i / items);
}

// Arrives at the team's barrier and waits for `target` arrivals in all (counted since the engine made
// sync; the count wraps). Returns 0 once they are in, or 1 when the team gave up: an item that waited
// TEAM_SPINS polls sets sync[1], as every item of a launch must be running at once for the barrier to
// open, and OpenCL does not promise that. The host then runs the forward again another way.
// The atomics order the memory accesses around them: h written before arriving is seen after leaving.
int team_barrier(volatile __global uint *sync, uint target) {
    atomic_inc(sync);
    for (uint spins = 0; (int)(sync[0] - target) < 0; spins++) {
        if (sync[1] != 0 || spins == TEAM_SPINS) {
            atomic_xchg(sync + 1, 1u);
            return 1;
        }
    }
    atomic_or(sync, 0u); // acquire: nothing after the wait is read before it
    return 0;
}

// Global (items, D), local (1, 1); CPUs only, where a work-item is a thread of its own and memory is
// coherent. Item i of direction d owns unit blocks [share(UB, i), share(UB, i + 1)) of every row; the
// k-th barrier of this launch opens at sync_base + (k + 1) * items * D arrivals.
__kernel void rnn_team(const int s_begin, const int s_end, const uint sync_base, volatile __global uint *sync,
                       STEP_PARAMS) {
    const int item = get_global_id(0);
    const int items = get_global_size(0);
    const int d = get_global_id(1);
    const uint team = (uint)(items * get_global_size(1));
    INIT_STEP(st, d);
    st.W = W;
    table += table_off;
    const int a_first = share(UNIT_BLOCKS_A, item, items), a_end = share(UNIT_BLOCKS_A, item + 1, items);
#if TWO_PHASE
    const int b_first = share(UNIT_BLOCKS_B, item, items), b_end = share(UNIT_BLOCKS_B, item + 1, items);
#endif
    uint target = sync_base;
    for (int s = s_begin; s < s_end; s++) {
        set_step(&st, s, T, (reverse_mask >> d) & 1, table);
        for (int j = a_first; j < a_end; j++) {
            const int jb = zigzag(j, a_first, a_end, s);
            for (int b0 = 0; b0 < st.bs; b0 += TB) {
                rows_a(&st, b0, min(TB, st.bs - b0), jb);
            }
        }
        target += team;
        if (team_barrier(sync, target)) {
            return;
        }
#if TWO_PHASE
        for (int j = b_first; j < b_end; j++) {
            const int jb = zigzag(j, b_first, b_end, s);
            for (int b0 = 0; b0 < st.bs; b0 += TB) {
                rows_b(&st, b0, min(TB, st.bs - b0), jb);
            }
        }
        target += team;
        if (team_barrier(sync, target)) {
            return;
        }
#endif
    }
}
#endif
