/// Raw (unnormalised) per-sample redundancy R, unique U and synergy S scores (eq. 10, 12, 14).
/// Scores are per sample and independent, so ranks compute them on their own shards and rank 0
/// joins the shards before normalising globally.
public struct PIDScores: Sendable, Equatable {
    public var redundancy: [Float]
    public var unique: [Float]
    public var synergy: [Float]

    public var count: Int { redundancy.count }

    public init(redundancy: [Float], unique: [Float], synergy: [Float]) {
        precondition(unique.count == redundancy.count && synergy.count == redundancy.count, "R, U, S lengths differ")
        self.redundancy = redundancy; self.unique = unique; self.synergy = synergy
    }

    public func component(_ c: PIDComponent) -> [Float] {
        switch c { case .redundancy: redundancy; case .unique: unique; case .synergy: synergy }
    }

    /// [R0, U0, S0, R1, U1, S1, ...]: per-sample interleaving, so a gather that concatenates rank
    /// buffers yields the interleaved form of the concatenated shards.
    public var interleaved: [Float] {
        var out = [Float](repeating: 0, count: 3 * count)
        for i in 0..<count { out[3 * i] = redundancy[i]; out[3 * i + 1] = unique[i]; out[3 * i + 2] = synergy[i] }
        return out
    }

    public init(interleaved v: [Float]) {
        precondition(v.count % 3 == 0, "interleaved scores need 3 values per sample, got \(v.count)")
        let n = v.count / 3
        self.init(redundancy: (0..<n).map { v[3 * $0] }, unique: (0..<n).map { v[3 * $0 + 1] },
                  synergy: (0..<n).map { v[3 * $0 + 2] })
    }

    /// Shards in global sample order (rank 0's shard first, ...).
    public static func concatenating(_ shards: [PIDScores]) -> PIDScores {
        PIDScores(redundancy: shards.flatMap(\.redundancy), unique: shards.flatMap(\.unique),
                  synergy: shards.flatMap(\.synergy))
    }

    /// Shards that scored arbitrary sample sets: part k's j-th value belongs to sample indices[j].
    /// Every sample in 0..<count must be covered exactly once.
    public static func assembling(count: Int, parts: [(indices: [Int], scores: PIDScores)]) -> PIDScores {
        var r = [Float](repeating: 0, count: count), u = r, s = r
        var seen = [Bool](repeating: false, count: count)
        for part in parts {
            precondition(part.indices.count == part.scores.count, "a part has \(part.indices.count) indices for \(part.scores.count) scores")
            for (j, i) in part.indices.enumerated() {
                precondition(i >= 0 && i < count && !seen[i], "sample \(i) is out of range or scored twice")
                seen[i] = true
                r[i] = part.scores.redundancy[j]; u[i] = part.scores.unique[j]; s[i] = part.scores.synergy[j]
            }
        }
        precondition(!seen.contains(false), "some samples were not scored")
        return PIDScores(redundancy: r, unique: u, synergy: s)
    }
}

/// The three PID components; also names the SPICE stages (R, then U, then S) and SPICE-S bins.
public enum PIDComponent: Int, Sendable, CaseIterable, CustomStringConvertible {
    case redundancy = 0, unique = 1, synergy = 2

    public var description: String {
        switch self { case .redundancy: "R"; case .unique: "U"; case .synergy: "S" }
    }
}
