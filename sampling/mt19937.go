package sampling

// mt19937 is the 32-bit Mersenne Twister of Matsumoto and Nishimura (1998),
// the engine behind torch's CPU generator (at::mt19937). Its output for a
// given seed is fixed by the standard (std::mt19937 gives the same stream).
type mt19937 struct {
	state [mtN]uint32
	index int
}

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// seed runs the standard init_genrand: torch passes only the low 32 bits of
// its 64-bit seed here, so seeds s and s + 2^32 give the same stream.
func (m *mt19937) seed(s uint32) {
	m.state[0] = s
	for i := 1; i < mtN; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.index = mtN
}

// twist regenerates the whole state block.
func (m *mt19937) twist() {
	for i := 0; i < mtN; i++ {
		y := m.state[i]&mtUpperMask | m.state[(i+1)%mtN]&mtLowerMask
		v := m.state[(i+mtM)%mtN] ^ y>>1
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		m.state[i] = v
	}
	m.index = 0
}

// next returns the next tempered 32-bit output.
func (m *mt19937) next() uint32 {
	if m.index >= mtN {
		m.twist()
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}
