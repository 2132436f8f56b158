extension SeededGenerator {
    /// Fills `buffer` with `count` successive `nextFloat()` values (uniform in [0, 1), 24 bits),
    /// exactly the sequence `count` calls of `nextFloat()` would give and leaving the generator
    /// in the same state, but with the four xoshiro256** state words kept in registers
    /// (the dropout mask of a CIFAR-10 mini-batch needs ~5 M draws).
    public mutating func fillUniformFloats(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        let st = state
        var s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3]
        for i in 0..<count {
            let x = s1 &* 5
            let result = ((x << 7) | (x >> 57)) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = (s3 << 45) | (s3 >> 19)
            buffer[i] = Float(result >> 40) * (1.0 / 16_777_216.0)
        }
        self = SeededGenerator(state: [s0, s1, s2, s3])
    }
}
