#version 450
// Device self-test: y[i] = a*x[i] + b. Used by the vk binding's test and by
// device probing, to prove that buffers, descriptors, push constants and
// dispatch work end to end.

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint n;
    float a;
    float b;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < p.n) {
        y[i] = p.a * x[i] + p.b;
    }
}
