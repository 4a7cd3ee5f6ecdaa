/// The [min, max] of a column; ranges of shards merge, so min-max normalisation can also be done
/// without gathering (allreduce min and max, then normalise locally).
public struct MinMaxRange: Sendable, Equatable {
    public var min: Float
    public var max: Float

    /// The identity for `merging` (what an empty shard reports).
    public static let empty = MinMaxRange(min: .infinity, max: -.infinity)

    public init(min: Float, max: Float) { self.min = min; self.max = max }

    public init(_ values: [Float]) {
        var lo = Float.infinity, hi = -Float.infinity
        for v in values {
            precondition(v.isFinite, "cannot normalise a non-finite score \(v)")
            lo = Swift.min(lo, v); hi = Swift.max(hi, v)
        }
        self.init(min: lo, max: hi)
    }

    public func merging(_ other: MinMaxRange) -> MinMaxRange {
        MinMaxRange(min: Swift.min(min, other.min), max: Swift.max(max, other.max))
    }

    /// (x - min) / (max - min), in double precision; a constant column maps to all zeros.
    public func normalise(_ values: [Float]) -> [Float] {
        let span = Double(max) - Double(min)
        guard span > 0 else { return [Float](repeating: 0, count: values.count) }
        let lo = Double(min), inv = 1 / span
        return values.map { Float((Double($0) - lo) * inv) }
    }
}

/// Min-max normalisation over the whole array (eq. 15).
public func minMaxNormalised(_ values: [Float]) -> [Float] { MinMaxRange(values).normalise(values) }

/// R^, U^, S^ in [0, 1] for the whole training set, and the SPICE-E shares derived from them.
public struct NormalisedScores: Sendable, Equatable {
    public let redundancy: [Float]
    public let unique: [Float]
    public let synergy: [Float]

    public var count: Int { redundancy.count }

    /// Normalises each component over all samples given. Pass the scores of the whole training
    /// set (the concatenated shards), never of one shard.
    public init(_ raw: PIDScores) {
        self.init(redundancy: minMaxNormalised(raw.redundancy), unique: minMaxNormalised(raw.unique),
                  synergy: minMaxNormalised(raw.synergy))
    }

    /// Already normalised values (e.g. shard-wise normalisation with merged ranges, or a mix).
    public init(redundancy: [Float], unique: [Float], synergy: [Float]) {
        precondition(unique.count == redundancy.count && synergy.count == redundancy.count, "R, U, S lengths differ")
        self.redundancy = redundancy; self.unique = unique; self.synergy = synergy
    }

    public func component(_ c: PIDComponent) -> [Float] {
        switch c { case .redundancy: redundancy; case .unique: unique; case .synergy: synergy }
    }

    /// P_c = c^ / (R^ + U^ + S^ + 1e-8); all three are 0 for a sample whose scores are all 0.
    public func shares(_ c: PIDComponent) -> [Float] {
        let x = component(c)
        return (0..<count).map { i in
            let t = Double(redundancy[i]) + Double(unique[i]) + Double(synergy[i]) + 1e-8
            return Float(Double(x[i]) / t)
        }
    }

    /// SPICE-E sampling weights of a stage: P_R in stage R, 1 - P_U in stage U, 1 - P_S in stage S.
    public func stageWeights(_ stage: PIDComponent) -> [Float] {
        let p = shares(stage)
        return stage == .redundancy ? p : p.map { 1 - $0 }
    }

    /// Eq. 20 applied to normalised scores: (1 - alpha) * annotator + alpha * model, component-wise.
    /// A convex mix of [0, 1] values stays in [0, 1], so it is not normalised again.
    public static func mixing(annotator a: NormalisedScores, model b: NormalisedScores, alpha: Double) -> NormalisedScores {
        precondition(a.count == b.count, "annotator scores for \(a.count) samples, model scores for \(b.count)")
        precondition(alpha >= 0 && alpha <= 1, "alpha \(alpha) outside [0, 1]")
        func mix(_ x: [Float], _ y: [Float]) -> [Float] {
            (0..<x.count).map { Float((1 - alpha) * Double(x[$0]) + alpha * Double(y[$0])) }
        }
        return NormalisedScores(redundancy: mix(a.redundancy, b.redundancy), unique: mix(a.unique, b.unique),
                                synergy: mix(a.synergy, b.synergy))
    }
}
