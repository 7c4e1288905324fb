#version 450
#define WTYPE_BF16
#include "matvec.glsl"
