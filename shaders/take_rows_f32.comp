#version 450
#define WTYPE_F32
#include "take_rows.glsl"
