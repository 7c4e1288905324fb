// Workgroup-wide reductions for the row kernels: one workgroup of 256
// invocations per row (or block), each folding a strided share of the row,
// then a tree over shared memory. Every invocation must call them.

layout(local_size_x = 256) in;

shared float red_[256];

#define NEG_INF uintBitsToFloat(0xff800000u)

// ROW_ID is the row this workgroup handles (rows spread over a 2-D grid).
#define ROW_ID (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x)

float wg_sum(float v) {
    uint t = gl_LocalInvocationID.x;
    red_[t] = v;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) red_[t] += red_[t + s];
        barrier();
    }
    float r = red_[0];
    barrier();
    return r;
}

// max that lets NaN win, as ops/ref's Reduce max and Softmax do.
float max_nan(float a, float b) { return isnan(a) ? a : (isnan(b) ? b : max(a, b)); }

float wg_max(float v) {
    uint t = gl_LocalInvocationID.x;
    red_[t] = v;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) red_[t] = max_nan(red_[t], red_[t + s]);
        barrier();
    }
    float r = red_[0];
    barrier();
    return r;
}
