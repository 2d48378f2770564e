// Shared by the recurrence and projection kernels (the host prepends it): vector-width macros, weight
// loads that may read half-precision storage, and the activation functions a cell can be built with.
// Compiles alone.

#ifndef VEC
#define VEC 8 // floats per vector load/store along the hidden or output axis
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VEC)
#define vloadV CAT(vload, VEC)
#define vstoreV CAT(vstore, VEC)

#ifndef W_HALF
#define W_HALF 0 // 1: weight matrices are stored as IEEE half, read with vload_half (core OpenCL 1.2)
#endif
// WLOADV(p, e): the VEC weights from element e of p on, e a multiple of VEC; WLOAD1: one weight.
#if W_HALF
#define WTYPE half
#define WLOADV(p, e) CAT(vload_half, VEC)((e) / VEC, p)
#define WLOAD1(p, e) vload_half(e, p)
#else
#define WTYPE float
#define WLOADV(p, e) vloadV(0, (p) + (e))
#define WLOAD1(p, e) ((p)[e])
#endif

#ifndef HAS_FMA
#define HAS_FMA 1 // 0 on devices whose CL_DEVICE_SINGLE_FP_CONFIG lacks CL_FP_FMA: fma() is emulated there
#endif
#if HAS_FMA
#define MADD(a, b, c) fma(a, b, c)
#else
#define MADD(a, b, c) mad(a, b, c)
#endif

// Activations, as ONNX names them. NOTE: written with compares, not fmax/fmin, so that NaN propagates
// as it does in PyTorch and ONNX Runtime.
floatV act_tanh(floatV x) { return tanh(x); }
floatV act_sigmoid(floatV x) { return (floatV)(1.0f) / ((floatV)(1.0f) + exp(-x)); }
floatV act_relu(floatV x) { return x < (floatV)(0.0f) ? (floatV)(0.0f) : x; }
floatV act_affine(floatV x, float a, float b) { return a * x + b; }
floatV act_leaky_relu(floatV x, float a) { return x < (floatV)(0.0f) ? a * x : x; }
floatV act_thresholded_relu(floatV x, float a) { return x > (floatV)(a) ? x : (floatV)(0.0f); }
floatV act_scaled_tanh(floatV x, float a, float b) { return a * tanh(b * x); }
floatV act_hard_sigmoid(floatV x, float a, float b) {
    floatV y = a * x + b;
    y = y < (floatV)(0.0f) ? (floatV)(0.0f) : y;
    return y > (floatV)(1.0f) ? (floatV)(1.0f) : y;
}
floatV act_elu(floatV x, float a) { return x < (floatV)(0.0f) ? a * (exp(x) - (floatV)(1.0f)) : x; }
floatV act_softsign(floatV x) { return x / ((floatV)(1.0f) + fabs(x)); }
// log(1 + e^x) without overflow for large x; log1p keeps small values exact.
floatV act_softplus(floatV x) { return (x > (floatV)(0.0f) ? x : (floatV)(0.0f)) + log1p(exp(-fabs(x))); }

// Stores the first n (< VEC) lanes of v: the ragged edge of a row whose length is not a multiple of VEC.
void store_partial(floatV v, int n, __global float *dst) {
    float lanes[VEC];
    vstoreV(v, 0, lanes);
    for (int i = 0; i < n; i++) {
        dst[i] = lanes[i];
    }
}

// Writes the first min(VEC, n - j0) lanes of v to dst: element j0 of a row of n.
void store_row(floatV v, int j0, int n, __global float *dst) {
    if (j0 + VEC <= n) {
        vstoreV(v, 0, dst);
    } else if (j0 < n) {
        store_partial(v, n - j0, dst);
    }
}

// Reads element j0.. of a row of n: VEC lanes, or at the row's ragged edge the first n - j0 of them and zeros
// beyond. A full vector there would read the start of the next row, which another work-item may be writing
// (a data race on a GPU, Oclgrind's finding), or past the end of the buffer after the last row.
floatV load_row(int j0, int n, __global const float *src) {
    if (j0 + VEC <= n) {
        return vloadV(0, src);
    }
    float lanes[VEC];
    for (int i = 0; i < VEC; i++) {
        lanes[i] = j0 + i < n ? src[i] : 0.0f;
    }
    return vloadV(0, lanes);
}
