// What one time step of one direction needs to know, shared by the block instantiations (block.cl) and
// the recurrence kernels (recurrence.cl). Needs common.cl and cell.cl in front of it.
//
// Rows are packed as PyTorch packs a PackedSequence: batch rows sorted by length, longest first, so that
// at step t exactly the rows b < batch_sizes[t] are active, and row (t, b) of X, P and every layer's
// output sits at table[t] + b; table[t + 1] - table[t] is batch_sizes[t]. Without lengths every row is
// active at every step and the rows are plain time-major. Padded steps take neither memory nor work.
//
// Shapes (per layer), with H the hidden size, H_out what h holds (PyTorch's: proj_size when an LSTM projects,
// else H) and Hp, Pp the two padded to whole unit blocks:
//  P:     (rows, ldp)   the input projection, columns d*G*Hp + unit block*G*U + gate*U + unit (U = NVR*VEC)
//  W:     W_hh^T, (D, H_out, G*Hp) in panels of PANEL_R columns, in the same column order
//  Y:     (rows, ldy = D*H_out)   the layer's output; h_{t-1} is read back from it
//  h0/hn: (D, B, H_out)   c0/c: (D, B, H), c being the running cell state that ends as c_n
//  Whr:   W_hr^T, (D, H, Pp) in panels of PANEL_HR columns; scratch: (2, D, B, Hp)
//  bhn:   (D, Hp) GRU's b_hn; peep: (D, 3, Hp) ONNX's p_i, p_f, p_o

#ifndef TB
#define TB 4 // batch rows per register block, a power of two up to 16
#endif
#ifndef NVR
#define NVR 1 // vectors of VEC hidden units per register block
#endif
#ifndef PANEL_R
#define PANEL_R (G * NVR * VEC) // columns per panel of W_hh^T: one unit block (CPUs), or G*Hp (row-major, GPUs)
#endif
#ifndef PANEL_HR
#define PANEL_HR (NVR * VEC) // columns per panel of W_hr^T
#endif
#ifndef PANEL_P
#define PANEL_P 1 // columns per panel of W_ih^T (FUSED only)
#endif
#ifndef FUSED
#define FUSED 0 // 1: the recurrence does the input projection itself, reading A, W_ih^T and the bias
#endif
#ifndef W_LOCAL
#define W_LOCAL 0 // 1: W_hh^T of the work-group's direction is copied into local memory first (rnn_group)
#endif

#if FUSED && TWO_PHASE
#error "the fused projection serves single-phase cells only"
#endif

#if W_LOCAL
#define WHH_PTR __local const float *
#define WHH_LOADV(p, e) vloadV(0, (p) + (e))
#define W_DIR(d) 0L
#else
#define WHH_PTR __global const WTYPE *
#define WHH_LOADV(p, e) WLOADV(p, e)
#define W_DIR(d) ((long)(d) * st->H_out * G * st->Hp)
#endif

typedef struct {
    int d;          // direction
    long row;       // packed row of (t, 0)
    long row_p;     // packed row of (t_prev, 0), t_prev being the step before t in this direction's order
    int bs;         // rows active at t
    int bs_p;       // rows active at t_prev (0 when t is the first step): b < bs_p reads h_{t-1} from Y
    int bs_n;       // rows active at the step after t (0 when t is the last): b >= bs_n ends at t
    int B, D, H, Hp, H_out, Pp, ldp, ldy, K;
    __global const float *P;
    WHH_PTR W;
    __global float *Y;
    __global const float *h0;
    __global float *hn;
    __global const float *c0;
    __global float *c;
    __global float *scratch;
    __global const WTYPE *Whr;
    __global const float *bhn;
    __global const float *peep;
    __global const float *A;
    __global const WTYPE *Wih;
    __global const float *bias;
} Step;

int active_rows(__global const int *table, int T, int t) {
    return t < 0 || t >= T ? 0 : table[t + 1] - table[t];
}

// Moves st to step s of its direction's walk: forward t = s, backward t = T - 1 - s.
void set_step(Step *st, int s, int T, int reverse, __global const int *table) {
    const int t = reverse ? T - 1 - s : s;
    const int t_prev = reverse ? t + 1 : t - 1;
    const int t_next = reverse ? t - 1 : t + 1;
    st->row = table[t];
    st->bs = active_rows(table, T, t);
    st->bs_p = active_rows(table, T, t_prev);
    st->bs_n = active_rows(table, T, t_next);
    st->row_p = st->bs_p > 0 ? table[t_prev] : 0;
}

// h_{t-1} of row b: the previous step's output, or h_0 where t is the row's first step in this direction.
__global const float *h_prev_row(const Step *st, int b) {
    return b < st->bs_p ? st->Y + (st->row_p + b) * st->ldy + st->d * st->H_out
                        : st->h0 + (long)(st->d * st->B + b) * st->H_out;
}

// Where column c of row k sits in a matrix stored in panels of `panel` columns, `rows` deep: the order of
// WeightLayout's wihIndex, whhIndex and whrIndex.
#define PANEL_AT(c, k, rows, panel) \
    ((long)((c) / (panel)) * (rows) * (panel) + (long)(k) * (panel) + (c) % (panel))

// h, VEC units from j0 of row b: its output at this step, and its h_n when this is the row's last step.
void store_h(const Step *st, int b, int j0, floatV h) {
    store_row(h, j0, st->H_out, st->Y + (st->row + b) * st->ldy + st->d * st->H_out + j0);
    if (b >= st->bs_n) {
        store_row(h, j0, st->H_out, st->hn + ((long)st->d * st->B + b) * st->H_out + j0);
    }
}

// A vector of VEC columns c.. of row k of W_ih^T, packed in panels of PANEL_P columns, K rows deep.
floatV wih_vector(__global const WTYPE *Wih, int K, int k, long c) {
    if (PANEL_P % VEC == 0) {
        return WLOADV(Wih, PANEL_AT(c, k, K, PANEL_P));
    }
    float lanes[VEC];
    for (int l = 0; l < VEC; l++) {
        lanes[l] = WLOAD1(Wih, PANEL_AT(c + l, k, K, PANEL_P));
    }
    return vloadV(0, lanes);
}
