#version 450
#define WTYPE_BF16
#include "conv2d.glsl"
