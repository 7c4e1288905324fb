#version 450
#define WTYPE_F16
#include "matvec.glsl"
