// Package sampling holds the host-side parts of FLUX's flow-matching
// sampler, reproducing flux/sampling.py of the PuLID reference exactly:
//
//   - initial noise: torch's CPU generator (mt19937) and its randn kernels,
//     bit-identical to torch.randn for a seed (noise.go, cephes.go), and
//     torch's CUDA generator (Philox4x32-10 through cuRAND) as a second
//     option (philox.go);
//   - the timestep schedule: torch's float32 linspace, the resolution-
//     dependent shift mu and time_shift (schedule.go);
//   - prepare/unpack: packing a latent into 2x2-patch tokens and back, and
//     the position ids of text and image tokens (pack.go).
//
// Everything here works on small host arrays; the model runs elsewhere.
package sampling
