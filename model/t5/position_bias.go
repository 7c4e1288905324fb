package t5

import "math"

// RelativePositionBucket is T5Attention._relative_position_bucket for the
// encoder (bidirectional): the bucket of relative position rel = key −
// query. Half of the buckets are for keys after the query; within a half,
// distances below maxExact = buckets/4 get their own bucket and larger ones
// share logarithmically sized buckets up to maxDistance, beyond which all
// fall into the last bucket.
//
// The logarithm is taken in float32 as torch does; for the distances of a
// 512-token prompt float32, float64 and exact arithmetic give the same
// buckets (shared/golden/t5/MANIFEST.md).
func RelativePositionBucket(rel, numBuckets, maxDistance int) int {
	nb := numBuckets / 2
	bucket := 0
	if rel > 0 {
		bucket += nb
	}
	n := rel
	if n < 0 {
		n = -n
	}
	maxExact := nb / 2
	if n < maxExact {
		return bucket + n
	}
	ratio := float32(math.Log(float64(float32(n) / float32(maxExact))))
	scale := float32(math.Log(float64(maxDistance) / float64(maxExact)))
	large := maxExact + int(ratio/scale*float32(nb-maxExact)) // .to(long) truncates
	return bucket + min(large, nb-1)
}

// Buckets returns the [lq, lk] bucket table (row = query, column = key) of
// compute_bias.
func Buckets(lq, lk, numBuckets, maxDistance int) []int32 {
	out := make([]int32, lq*lk)
	for q := range lq {
		for k := range lk {
			out[q*lk+k] = int32(RelativePositionBucket(k-q, numBuckets, maxDistance))
		}
	}
	return out
}
