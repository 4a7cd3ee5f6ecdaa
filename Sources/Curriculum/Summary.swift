/// Summary statistics of one per-sample column, for logging.
public struct ValueSummary: Sendable, CustomStringConvertible {
    public let count: Int
    public let min: Double, max: Double, mean: Double, std: Double
    /// (q, value) with numpy's default linear interpolation between order statistics.
    public let quantiles: [(q: Double, value: Double)]

    public static let defaultQuantiles = [0.05, 0.25, 0.5, 0.75, 0.95]

    public init(_ values: [Float], quantiles qs: [Double] = ValueSummary.defaultQuantiles) {
        count = values.count
        guard !values.isEmpty else {
            min = .nan; max = .nan; mean = .nan; std = .nan
            quantiles = qs.map { ($0, .nan) }
            return
        }
        let sorted = values.map(Double.init).sorted()
        min = sorted.first!; max = sorted.last!
        let m = sorted.reduce(0, +) / Double(sorted.count)
        mean = m
        std = (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(sorted.count)).squareRoot()
        quantiles = qs.map { q in
            let pos = q * Double(sorted.count - 1)
            let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
            return (q, sorted[lo] + (pos - Double(lo)) * (sorted[hi] - sorted[lo]))
        }
    }

    public var description: String {
        func f(_ x: Double) -> String { x.isNaN ? "nan" : String(Float(x)) }
        let qs = quantiles.map { "q\(Int(($0.q * 100).rounded()))=\(f($0.value))" }.joined(separator: " ")
        return "n=\(count) min=\(f(min)) max=\(f(max)) mean=\(f(mean)) std=\(f(std)) \(qs)"
    }
}

/// SPICE-E / BSS sampling weights at a glance: how peaked the draw is.
public struct WeightSummary: Sendable, CustomStringConvertible {
    public let values: ValueSummary
    public let zeros: Int
    /// (sum w)^2 / sum w^2: N for uniform weights, 1 when one sample holds all the weight.
    public let effectiveSampleSize: Double

    public init(_ weights: [Float]) {
        values = ValueSummary(weights)
        zeros = weights.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        let s = weights.reduce(0.0) { $0 + Double($1) }, s2 = weights.reduce(0.0) { $0 + Double($1) * Double($1) }
        effectiveSampleSize = s2 > 0 ? s * s / s2 : 0
    }

    public var description: String { "weights \(values) zeros=\(zeros) ess=\(Float(effectiveSampleSize))" }
}

/// Everything worth logging after a score refresh: raw and normalised R, U, S and the SPICE-S bins.
public struct ScoreReport: Sendable, CustomStringConvertible {
    public let raw: [ValueSummary]
    public let normalised: [ValueSummary]
    /// Sample counts of SPICE-S bins R, U, S.
    public let binSizes: [Int]

    public init(raw: PIDScores, normalised: NormalisedScores) {
        self.raw = PIDComponent.allCases.map { ValueSummary(raw.component($0)) }
        self.normalised = PIDComponent.allCases.map { ValueSummary(normalised.component($0)) }
        binSizes = StageBins(normalised).sizes
    }

    public var description: String {
        var lines = PIDComponent.allCases.map { "\($0) raw \(raw[$0.rawValue])\n\($0)^ \(normalised[$0.rawValue])" }
        lines.append("bins R=\(binSizes[0]) U=\(binSizes[1]) S=\(binSizes[2])")
        return lines.joined(separator: "\n")
    }
}

/// Spearman rank correlation (average ranks for ties); 0 when either side is constant.
public func spearman(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "spearman of \(a.count) and \(b.count) values")
    func ranks(_ v: [Float]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count), i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            for k in i...j { r[order[k]] = Double(i + j) / 2 }
            i = j + 1
        }
        return r
    }
    let ra = ranks(a), rb = ranks(b), n = Double(a.count)
    guard n > 1 else { return 0 }
    let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
    var num = 0.0, da = 0.0, db = 0.0
    for i in 0..<a.count { num += (ra[i] - ma) * (rb[i] - mb); da += (ra[i] - ma) * (ra[i] - ma); db += (rb[i] - mb) * (rb[i] - mb) }
    return da > 0 && db > 0 ? num / (da * db).squareRoot() : 0
}
