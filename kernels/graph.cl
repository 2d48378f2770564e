// The operators around a network's recurrent core (ONNX's Gemm, MatMul, Add, Softmax, LayerNormalization
// and the rest), one kernel per kind of work. Float32 throughout; every tensor is a buffer plus an offset
// in floats. Shapes of up to 8 axes travel as int8 arguments (dims, and strides where 0 broadcasts an
// axis); the host merges adjacent axes first, so most launches index one or two axes.
// Compiles alone: the host passes nothing but these kernels' arguments.

// Unary operators: op codes shared with GraphKernels.Unary (which reads them from here by name).
#define U_RELU 0
#define U_TANH 1
#define U_SIGMOID 2
#define U_LEAKY_RELU 3
#define U_ELU 4
#define U_GELU 5
#define U_GELU_TANH 6
#define U_ERF 7
#define U_SOFTPLUS 8
#define U_CLIP 9
#define U_NEG 10
#define U_EXP 11
#define U_LOG 12
#define U_SQRT 13
#define U_ABS 14
#define U_RECIPROCAL 15
#define U_POW 16
#define U_SQUARE 17
#define U_AFFINE 18

// Binary operators: op codes shared with GraphKernels.Binary.
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAX 5
#define B_MIN 6

// Reductions: op codes shared with GraphKernels.Reduce.
#define R_SUM 0
#define R_MEAN 1
#define R_MAX 2
#define R_MIN 3
#define R_SUM_SQUARE 4
#define R_ARGMAX 5
#define R_ARGMIN 6

// NaN passes through every operator as it does in ONNX Runtime: comparisons, not fmax/fmin.
float unary_op(int op, float x, float a, float b) {
    switch (op) {
    case U_RELU: return x < 0.0f ? 0.0f : x;
    case U_TANH: return tanh(x);
    case U_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case U_LEAKY_RELU: return x < 0.0f ? a * x : x;
    case U_ELU: return x < 0.0f ? a * (exp(x) - 1.0f) : x;
    case U_GELU: return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
    case U_GELU_TANH: return 0.5f * x * (1.0f + tanh(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case U_ERF: return erf(x);
    case U_SOFTPLUS: return x > 20.0f ? x : log1p(exp(x));
    case U_CLIP: return x < a ? a : (x > b ? b : x);
    case U_NEG: return -x;
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_SQRT: return sqrt(x);
    case U_ABS: return fabs(x);
    case U_RECIPROCAL: return 1.0f / x;
    case U_POW: return pow(x, a);
    case U_SQUARE: return x * x;
    case U_AFFINE: return a * x + b;
    default: return x;
    }
}

float binary_op(int op, float x, float y) {
    switch (op) {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_POW: return y == 2.0f ? x * x : pow(x, y);
    case B_MAX: return x < y || isnan(y) ? y : x;
    case B_MIN: return x > y || isnan(y) ? y : x;
    default: return x;
    }
}

// The offset, under strides st, of element i of a C-order tensor of dims: both given innermost axis
// first (the host reverses them), so that every component is named, not indexed (no private array).
#define AXIS_(c) if (rank > c) { off += (i % dims.s##c) * st.s##c; i /= dims.s##c; }
int offset_of(int i, int rank, int8 dims, int8 st) {
    int off = 0;
    AXIS_(0) AXIS_(1) AXIS_(2) AXIS_(3) AXIS_(4) AXIS_(5) AXIS_(6) AXIS_(7)
    return off;
}

__kernel void unary(int n, int op, float alpha, float beta,
                    __global const float *X, int x_off, __global float *Y, int y_off) {
    int i = get_global_id(0);
    if (i < n) {
        Y[y_off + i] = unary_op(op, X[x_off + i], alpha, beta);
    }
}

// Y = op(A, B) over up to three axes (d0 innermost), A and B read through their strides (0 on a
// broadcast axis): what the host's merging leaves of almost every broadcast.
__kernel void binary3(int d0, int d1, int d2, int op,
                      __global const float *A, int a_off, int a0, int a1, int a2,
                      __global const float *B, int b_off, int b0, int b1, int b2,
                      __global float *Y, int y_off) {
    int i = get_global_id(0);
    int j = get_global_id(1);
    int k = get_global_id(2);
    if (i < d0 && j < d1 && k < d2) {
        float a = A[a_off + i * a0 + j * a1 + k * a2];
        float b = B[b_off + i * b0 + j * b1 + k * b2];
        Y[y_off + (k * d1 + j) * d0 + i] = binary_op(op, a, b);
    }
}

// Y = op(A, B) over Y's dims (innermost first) when more than three axes are left after merging.
__kernel void binary(int n, int op, int rank, int8 dims, int8 a_st, int8 b_st,
                     __global const float *A, int a_off, __global const float *B, int b_off,
                     __global float *Y, int y_off) {
    int i = get_global_id(0);
    if (i < n) {
        float a = A[a_off + offset_of(i, rank, dims, a_st)];
        float b = B[b_off + offset_of(i, rank, dims, b_st)];
        Y[y_off + i] = binary_op(op, a, b);
    }
}

// Y[dst_off + i·y0 + j·y1 + k·y2] = X[src_off + i·x0 + j·x1 + k·x2]: Transpose, Slice, Expand and
// Concat's pieces, over up to three axes (d0 innermost).
__kernel void copy3(int d0, int d1, int d2, __global const float *X, int src_off, int x0, int x1, int x2,
                    __global float *Y, int dst_off, int y0, int y1, int y2) {
    int i = get_global_id(0);
    int j = get_global_id(1);
    int k = get_global_id(2);
    if (i < d0 && j < d1 && k < d2) {
        Y[dst_off + i * y0 + j * y1 + k * y2] = X[src_off + i * x0 + j * x1 + k * x2];
    }
}

// The same over four axes: a work-item per (j, k, l) walks the innermost axis itself (a row of a
// Transpose that keeps the last axis, say), so no index is divided.
__kernel void copy4(int d0, int d1, int d2, int d3, __global const float *X, int src_off, int x0, int x1, int x2,
                    int x3, __global float *Y, int dst_off, int y0, int y1, int y2, int y3) {
    int j = get_global_id(0);
    int k = get_global_id(1);
    int l = get_global_id(2);
    if (j < d1 && k < d2 && l < d3) {
        __global const float *x = X + src_off + j * x1 + k * x2 + l * x3;
        __global float *y = Y + dst_off + j * y1 + k * y2 + l * y3;
        for (int i = 0; i < d0; i++) {
            y[i * y0] = x[i * x0];
        }
    }
}

// The same over more axes (innermost first).
__kernel void strided_copy(int n, int rank, int8 dims, int8 src_st, int8 dst_st,
                           __global const float *X, int src_off, __global float *Y, int dst_off) {
    int i = get_global_id(0);
    if (i < n) {
        Y[dst_off + offset_of(i, rank, dims, dst_st)] = X[src_off + offset_of(i, rank, dims, src_st)];
    }
}

// Gather along one axis: Y[o, j, :] = X[o, idx[j], :], one row of `inner` floats per work-item; the host
// checked every index and made it non-negative (an embedding lookup is outer 1, inner the embedding width).
__kernel void gather(int outer, int count, int inner, int dim,
                     __global const float *X, int x_off, __global const int *idx, __global float *Y) {
    int j = get_global_id(0);
    int o = get_global_id(1);
    if (j >= count || o >= outer) {
        return;
    }
    __global const float *src = X + x_off + ((long) o * dim + idx[j]) * inner;
    __global float *dst = Y + ((long) o * count + j) * inner;
    for (int i = 0; i < inner; i++) {
        dst[i] = src[i];
    }
}

// Y[b, m, n] = alpha * sum_k A[b, m, k] B[b, k, n] + beta * C[m, n] (C may be absent: has_c 0), then
// the fused activation act (an op code of unary_op, or -1). Strides say where each operand's rows,
// columns and batches lie, so transA, transB, broadcast batches and broadcast C need no copies. Each
// work-item makes WN consecutive columns of one row: B's rows are read WN at a time when contiguous.
#define WN 8
__kernel void matmul(int M, int N, int K,
                     __global const float *A, int a_off, int a_m, int a_k, int a_b,
                     __global const float *B, int b_off, int b_k, int b_n, int b_b,
                     __global const float *C, int c_off, int c_m, int c_n, float beta, int has_c,
                     float alpha, int act, float act_alpha, float act_beta,
                     __global float *Y, int y_off, int y_b) {
    int nb = get_global_id(0) * WN;
    int m = get_global_id(1);
    int b = get_global_id(2);
    if (m >= M || nb >= N) {
        return;
    }
    __global const float *a = A + a_off + (long) b * a_b + (long) m * a_m;
    __global const float *bm = B + b_off + (long) b * b_b;
    float acc[WN];
    for (int j = 0; j < WN; j++) {
        acc[j] = 0.0f;
    }
    if (b_n == 1 && nb + WN <= N) {
        for (int k = 0; k < K; k++) {
            float av = a[(long) k * a_k];
            float8 bv = vload8(0, bm + (long) k * b_k + nb);
            acc[0] = fma(av, bv.s0, acc[0]);
            acc[1] = fma(av, bv.s1, acc[1]);
            acc[2] = fma(av, bv.s2, acc[2]);
            acc[3] = fma(av, bv.s3, acc[3]);
            acc[4] = fma(av, bv.s4, acc[4]);
            acc[5] = fma(av, bv.s5, acc[5]);
            acc[6] = fma(av, bv.s6, acc[6]);
            acc[7] = fma(av, bv.s7, acc[7]);
        }
    } else {
        int cols = min(WN, N - nb);
        for (int k = 0; k < K; k++) {
            float av = a[(long) k * a_k];
            __global const float *brow = bm + (long) k * b_k + (long) nb * b_n;
            for (int j = 0; j < cols; j++) {
                acc[j] = fma(av, brow[(long) j * b_n], acc[j]);
            }
        }
    }
    int cols = min(WN, N - nb);
    __global float *y = Y + y_off + (long) b * y_b + (long) m * N + nb;
    for (int j = 0; j < cols; j++) {
        float v = alpha * acc[j];
        if (has_c) {
            v += beta * C[c_off + (long) m * c_m + (long) (nb + j) * c_n];
        }
        y[j] = act >= 0 ? unary_op(act, v, act_alpha, act_beta) : v;
    }
}

// A dense layer: Y (M, N) = A (M, K) · W (K, ldw) + bias, then the activation act (-1 for none). W is the
// weight packed once at load, its N columns padded with zeros to ldw (a multiple of DENSE_COLS), and so is
// the bias. Each work-item makes a DENSE_ROWS x 16 tile: one row of W, 16 wide (an AVX-512 register), against
// DENSE_ROWS broadcast elements of A per k; 8 rows keep 8 independent FMA chains in flight, what a CPU core
// with two FMA units of 4 cycles' latency needs (4 x 8 tiles ran at a third of the projection's speed).
#define DENSE_ROWS 8
#define DENSE_COLS 16
__kernel void dense(int M, int N, int K, __global const float *A, int a_off, int lda,
                    __global const float *W, int w_off, int ldw, __global const float *bias, int b_off, int has_bias,
                    int act, float act_alpha, float act_beta, __global float *Y, int y_off) {
    int n0 = get_global_id(0) * DENSE_COLS;
    int m0 = get_global_id(1) * DENSE_ROWS;
    if (n0 >= N || m0 >= M) {
        return;
    }
    // rows past M read row M-1 again (in bounds) and are never stored
    __global const float *a[DENSE_ROWS];
    float16 c[DENSE_ROWS];
    float16 b = has_bias ? vload16(0, bias + b_off + n0) : (float16)(0.0f);
    #pragma unroll
    for (int r = 0; r < DENSE_ROWS; r++) {
        a[r] = A + a_off + (long) min(m0 + r, M - 1) * lda;
        c[r] = b;
    }
    __global const float *w = W + w_off + n0;
    for (int k = 0; k < K; k++) {
        float16 wk = vload16(0, w + (long) k * ldw);
        #pragma unroll
        for (int r = 0; r < DENSE_ROWS; r++) {
            c[r] = fma((float16)(a[r][k]), wk, c[r]);
        }
    }
    int cols = min(DENSE_COLS, N - n0);
    for (int r = 0; r < DENSE_ROWS && m0 + r < M; r++) {
        float v[DENSE_COLS];
        vstore16(c[r], 0, v);
        __global float *y = Y + y_off + (long) (m0 + r) * N + n0;
        for (int j = 0; j < cols; j++) {
            y[j] = act >= 0 ? unary_op(act, v[j], act_alpha, act_beta) : v[j];
        }
    }
}

// Softmax (log_softmax when take_log) over the middle axis of (outer, len, inner), max-subtracted.
__kernel void softmax(int outer, int len, int inner, int take_log,
                      __global const float *X, int x_off, __global float *Y) {
    int i = get_global_id(0);
    int o = get_global_id(1);
    if (i >= inner || o >= outer) {
        return;
    }
    long base = (long) o * len * inner + i;
    __global const float *x = X + x_off + base;
    __global float *y = Y + base;
    float mx = -INFINITY;
    for (int k = 0; k < len; k++) {
        float v = x[(long) k * inner];
        mx = v > mx || isnan(v) ? v : mx;
    }
    float sum = 0.0f;
    for (int k = 0; k < len; k++) {
        sum += exp(x[(long) k * inner] - mx);
    }
    if (take_log) {
        float lse = log(sum);
        for (int k = 0; k < len; k++) {
            y[(long) k * inner] = x[(long) k * inner] - mx - lse;
        }
    } else {
        float inv = 1.0f / sum;
        for (int k = 0; k < len; k++) {
            y[(long) k * inner] = exp(x[(long) k * inner] - mx) * inv;
        }
    }
}

// Reductions over the middle axis of (outer, len, inner): R_ARGMAX and R_ARGMIN write the index as a float
// (exact below 2^24), the first one found unless last is set.
__kernel void reduce(int outer, int len, int inner, int op, int last,
                     __global const float *X, int x_off, __global float *Y) {
    int i = get_global_id(0);
    int o = get_global_id(1);
    if (i >= inner || o >= outer) {
        return;
    }
    __global const float *x = X + x_off + (long) o * len * inner + i;
    float acc = op == R_MAX || op == R_ARGMAX ? -INFINITY : (op == R_MIN || op == R_ARGMIN ? INFINITY : 0.0f);
    int at = 0;
    for (int k = 0; k < len; k++) {
        float v = x[(long) k * inner];
        switch (op) {
        case R_SUM: case R_MEAN: acc += v; break;
        case R_SUM_SQUARE: acc += v * v; break;
        case R_MAX: acc = v > acc || isnan(v) ? v : acc; break;
        case R_MIN: acc = v < acc || isnan(v) ? v : acc; break;
        case R_ARGMAX: if (v > acc || (last && v == acc) || (k == 0)) { acc = v; at = k; } break;
        case R_ARGMIN: if (v < acc || (last && v == acc) || (k == 0)) { acc = v; at = k; } break;
        }
    }
    Y[(long) o * inner + i] = op == R_MEAN ? acc / (float) len
            : (op == R_ARGMAX || op == R_ARGMIN ? (float) at : acc);
}

// LayerNormalization over the last `width` floats of each row: (x - mean) / sqrt(var + eps) * scale + bias,
// scale and bias read through s_st and b_st (0 for a single value broadcast); has_bias 0 when absent.
// One work-item per row, two passes (mean, then variance about it) as ONNX's reference computes it.
__kernel void layer_norm(int rows, int width, float eps,
                         __global const float *X, int x_off, __global const float *S, int s_off, int s_st,
                         __global const float *Bi, int b_off, int b_st, int has_bias, __global float *Y) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    __global const float *x = X + x_off + (long) r * width;
    __global float *y = Y + (long) r * width;
    float mean = 0.0f;
    for (int k = 0; k < width; k++) {
        mean += x[k];
    }
    mean /= (float) width;
    float var = 0.0f;
    for (int k = 0; k < width; k++) {
        float d = x[k] - mean;
        var += d * d;
    }
    float inv = 1.0f / sqrt(var / (float) width + eps);
    for (int k = 0; k < width; k++) {
        float v = (x[k] - mean) * inv * S[s_off + k * s_st];
        y[k] = has_bias ? v + Bi[b_off + k * b_st] : v;
    }
}
