// Shared by every clrnn kernel file (the host prepends it): vector-width macros and activation.

#ifndef VEC
#define VEC 8 // floats per vector load/store along the hidden or output axis
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VEC)
#define vloadV CAT(vload, VEC)
#define vstoreV CAT(vstore, VEC)

#ifndef ACT_RELU
#define ACT_RELU 0 // 1: relu, 0: tanh
#endif

// NOTE: written as a compare, not fmax(x, 0), so that NaN propagates as it does in PyTorch.
#if ACT_RELU
#define ACTIVATE(x) ((x) < (floatV)(0.0f) ? (floatV)(0.0f) : (x))
#define ACTIVATE1(x) ((x) < 0.0f ? 0.0f : (x))
#else
#define ACTIVATE(x) tanh(x)
#define ACTIVATE1(x) tanh(x)
#endif

// Stores the first n (< VEC) lanes of v: the ragged edge of a row whose length is not a multiple of VEC.
void store_partial(floatV v, int n, __global float *dst) {
    float lanes[VEC];
    vstoreV(v, 0, lanes);
    for (int i = 0; i < n; i++) {
        dst[i] = lanes[i];
    }
}
