/// Per-sample scores as CSV text, one row per sample in sample-index order, for offline analysis.
///
/// Columns: id, label, c_1..c_M, c_multi, D_1..D_M, D_syn, R, U, S, R_hat, U_hat, S_hat,
/// P_R, P_U, P_S, bin (SPICE-S argmax bin), stage (the epoch's phase), position (index in the
/// epoch's order; -1 when the sample is not in it, e.g. outside a SPICE-S stage set).
public enum ScoreDump {
    public static func csv(details: PIDDetails, scores: PIDScores, normalised: NormalisedScores, labels: [Int32],
                           sampleIDs: [String]? = nil, phase: CurriculumSchedule.Phase? = nil,
                           order: [Int]? = nil, extraColumns: [(name: String, values: [String])] = []) -> String {
        let n = scores.count, mCount = details.confidence.count
        precondition(labels.count == n && normalised.count == n && details.fusedConfidence.count == n,
                     "dump columns have different lengths")
        precondition(sampleIDs == nil || sampleIDs!.count == n, "\(sampleIDs!.count) ids for \(n) samples")
        var position = [Int](repeating: -1, count: n)
        for (k, i) in (order ?? []).enumerated() { position[i] = k }
        let shares = PIDComponent.allCases.map { normalised.shares($0) }
        let bins = StageBins(normalised).assignment
        let stage = phase.map { "\($0)" } ?? ""
        var header = ["id", "label"] + (1...mCount).map { "c_\($0)" } + ["c_multi"]
        header += (1...mCount).map { "D_\($0)" } + ["D_syn", "R", "U", "S", "R_hat", "U_hat", "S_hat", "P_R", "P_U", "P_S"]
        header += ["bin", "stage", "position"] + extraColumns.map(\.name)
        precondition(extraColumns.allSatisfy { $0.values.count == n }, "extra dump column with the wrong length")
        var out = header.joined(separator: ",") + "\n"
        for i in 0..<n {
            var row = [field(sampleIDs?[i] ?? String(i)), String(labels[i])]
            row += (0..<mCount).map { String(details.confidence[$0][i]) } + [String(details.fusedConfidence[i])]
            row += (0..<mCount).map { String(details.divergence[$0][i]) } + [String(details.synergyDivergence[i])]
            row += [scores.redundancy[i], scores.unique[i], scores.synergy[i],
                    normalised.redundancy[i], normalised.unique[i], normalised.synergy[i],
                    shares[0][i], shares[1][i], shares[2][i]].map { String($0) }
            row += ["\(bins[i])", stage, String(position[i])] + extraColumns.map { field($0.values[i]) }
            out += row.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Quotes a field containing a comma, quote or newline (RFC 4180).
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
