#version 450
#define WTYPE_F32
#include "matvec.glsl"
