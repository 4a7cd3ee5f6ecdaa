import Tensor

/// Central finite differences of a scalar function of a float buffer, compared with an analytic
/// gradient at `probes` positions (spread evenly, plus the first and last). Returns the worst
/// |fd - analytic| / max(|analytic|-scale, tiny) over the probes, where the scale is the
/// largest analytic magnitude (so near-zero entries are judged on the tensor's scale).
public func finiteDifferenceError(_ buffer: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
                                  probes: Int = 24, eps: Float = 1e-2, loss: () -> Double) -> Double {
    precondition(analytic.count == count)
    var idx = Set([0, count - 1])
    if count > 1 { for k in 0..<min(probes, count) { idx.insert(k * (count - 1) / max(1, probes - 1)) } }
    let scale = max(analytic.map { Double(abs($0)) }.max() ?? 0, 1e-6)
    var worst = 0.0
    for i in idx.sorted() {
        let saved = buffer[i]
        buffer[i] = saved + eps
        let up = loss()
        buffer[i] = saved - eps
        let down = loss()
        buffer[i] = saved
        let fd = (up - down) / (2 * Double(eps))
        worst = max(worst, abs(fd - Double(analytic[i])) / scale)
    }
    return worst
}

/// sum(y * r) in double precision: a scalar "loss" whose gradient w.r.t. y is r.
public func weightedSum(_ y: Tensor, _ r: [Float]) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y.data[i]) * Double(r[i]) }
    return s
}

public func randomTensor(_ shape: [Int], _ rng: inout SeededRandom, std: Float = 1) -> Tensor {
    let t = Tensor(shape: shape)
    rng.fillNormal(t, std: std)
    return t
}

/// Central difference along random directions v: (L(b + h v) - L(b - h v)) / 2h against
/// sum(analytic * v). Moving every entry at once makes the loss change large compared with
/// float32 noise, and the ReLU/maxpool kinks crossed only contribute at second order, so this
/// is the sharp whole-network check. h is `relativeStep` times the buffer's RMS (or absolute
/// when the buffer is all zeros). Returns the worst relative error over `directions`.
public func directionalDerivativeError(_ buffer: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
                                       directions: Int = 3, relativeStep: Double = 1e-3, seed: UInt64 = 1,
                                       loss: () -> Double) -> Double {
    precondition(analytic.count == count)
    var rng = SeededRandom(seed: seed)
    let saved = Array(UnsafeBufferPointer(start: buffer, count: count))
    let rms = (saved.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count)).squareRoot()
    let h = relativeStep * (rms > 0 ? rms : 1)
    var worst = 0.0
    for _ in 0..<directions {
        let v = (0..<count).map { _ in Double(rng.normal()) }
        var expected = 0.0
        for i in 0..<count { expected += Double(analytic[i]) * v[i] }
        for i in 0..<count { buffer[i] = Float(Double(saved[i]) + h * v[i]) }
        let up = loss()
        for i in 0..<count { buffer[i] = Float(Double(saved[i]) - h * v[i]) }
        let down = loss()
        buffer.update(from: saved, count: count)
        let fd = (up - down) / (2 * h)
        worst = max(worst, abs(fd - expected) / max(abs(expected), 1e-12))
    }
    return worst
}

/// Central differences at `probes` random positions; returns the fraction of probes with
/// |fd - analytic| <= tolerance * |analytic| + 1e-3 * max|analytic| (relative per entry, with a
/// floor for entries that are tiny on the tensor's scale). ReLU and maxpool kinks make a few
/// probes of a whole network disagree whatever the step (a kink inside [-eps, eps] changes the
/// slope), while a wrong gradient formula makes most of them disagree: tests ask for a large
/// fraction rather than all.
public func finiteDifferenceAgreement(_ buffer: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
                                      probes: Int = 40, eps: Float = 1e-3, tolerance: Double = 2e-2, seed: UInt64 = 1,
                                      loss: () -> Double) -> Double {
    var rng = SeededRandom(seed: seed)
    let scale = max(analytic.map { Double(abs($0)) }.max() ?? 0, 1e-12)
    var good = 0
    for _ in 0..<probes {
        let i = rng.below(count)
        let saved = buffer[i]
        buffer[i] = saved + eps
        let up = loss()
        buffer[i] = saved - eps
        let down = loss()
        buffer[i] = saved
        let fd = (up - down) / (2 * Double(eps))
        let a = Double(analytic[i])
        if abs(fd - a) <= tolerance * abs(a) + 1e-3 * scale { good += 1 }
    }
    return Double(good) / Double(probes)
}
