// A stream's recurrent state on the device (RnnState): (S, batch, width) floats, S = layers * directions,
// rows in the caller's order. A forward packs its batch longest first (PackedBatch), so its initial states
// are gathered into that order before the first layer, and its final states scattered back after the last:
// packed position i of a forward of n sequences holds the caller's row order[i]. Rows the forward leaves
// out (a sequence with no new steps) are neither read nor written, so their state carries over unchanged.
// One work-item per float: (k, i, s) = (feature, packed position, state slot). Global sizes are exact.
// Compiles alone: the host passes nothing but these kernels' arguments.

kernel void gather_states(global const float *states, global float *packed, const long packed_off,
                          global const int *order, const long order_off, const int n, const int batch,
                          const int width) {
    const int k = get_global_id(0);
    const int i = get_global_id(1);
    const long s = get_global_id(2);
    packed[packed_off + (s * n + i) * width + k] = states[(s * batch + order[order_off + i]) * width + k];
}

kernel void scatter_states(global const float *packed, const long packed_off, global float *states,
                           global const int *order, const long order_off, const int n, const int batch,
                           const int width) {
    const int k = get_global_id(0);
    const int i = get_global_id(1);
    const long s = get_global_id(2);
    states[(s * batch + order[order_off + i]) * width + k] = packed[packed_off + (s * n + i) * width + k];
}
