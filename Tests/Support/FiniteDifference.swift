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
