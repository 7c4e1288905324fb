#version 450
#define WTYPE_F16
#include "conv2d.glsl"
