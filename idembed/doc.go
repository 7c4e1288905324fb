// Package idembed turns a face photo into PuLID's identity tokens
// (PuLIDPipeline.get_id_embedding) and stores them in the ID-embedding
// file stable-diffusion.cpp reads, so a face is encoded once.
package idembed
