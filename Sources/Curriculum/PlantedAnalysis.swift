import Foundation

/// Area under the ROC curve of `scores` for the samples marked in `positives` (the probability
/// that a random positive scores above a random negative, ties counting one half): the
/// Mann-Whitney statistic with average ranks for tied scores, as sklearn's `roc_auc_score`.
/// nil when there are no positives or no negatives (the AUC is undefined).
public func rocAUC(scores: [Float], positives: [Bool]) -> Double? {
    precondition(scores.count == positives.count, "\(scores.count) scores for \(positives.count) labels")
    let p = positives.filter { $0 }.count, n = positives.count - p
    guard p > 0 && n > 0 else { return nil }
    precondition(scores.allSatisfy(\.isFinite), "rocAUC needs finite scores")
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0, i = 0
    while i < order.count {
        var j = i
        while j < order.count && scores[order[j]] == scores[order[i]] { j += 1 }
        let averageRank = Double(i + 1 + j) / 2          // ranks i+1 ... j, 1-based
        for k in i..<j where positives[order[k]] { rankSum += averageRank }
        i = j
    }
    let pd = Double(p), nd = Double(n)
    return (rankSum - pd * (pd + 1) / 2) / (pd * nd)
}

/// The planted kind of a sample mapped to the PID component that should claim it: "redundant" ->
/// R, "unique-<modality>" -> U, "synergistic" -> S (the kind names of `spice synth` and the
/// planted AV-Digits files). nil for anything else.
public func plantedComponent(kindName: String) -> PIDComponent? {
    if kindName == "redundant" { return .redundancy }
    if kindName.hasPrefix("unique-") { return .unique }
    if kindName == "synergistic" { return .synergy }
    return nil
}

/// How well R, U, S find the planted structure of a dataset: per component, the AUC of the score
/// for its planted kind (R for redundant samples, U for unique samples of any modality, S for
/// synergistic samples, each against all other samples), and how the SPICE-S bins
/// (argmax of R^, U^, S^) line up with the kinds.
public struct PlantedScoreAnalysis: Sendable {
    /// AUC of R, U, S for their kinds (nil when a kind is absent or is everything).
    public let auc: [Double?]
    /// Bin sizes R, U, S.
    public let binSizes: [Int]
    /// Samples of each planted component (redundant, unique, synergistic).
    public let kindCounts: [Int]
    /// Purity of bin c: the fraction of its samples whose planted kind is c (nil for an empty bin).
    public let purity: [Double?]
    /// Recall of kind c: the fraction of its samples that land in bin c (nil when the kind is absent).
    public let recall: [Double?]
    /// Fraction of all samples whose bin is their planted kind.
    public let agreement: Double

    /// `kinds[i]` is sample i's planted component (nil: a kind that maps to none, counted as a
    /// negative everywhere and as a mismatch in every bin).
    public init(raw: PIDScores, normalised: NormalisedScores, kinds: [PIDComponent?]) {
        self.init(raw: raw, bins: StageBins(normalised).assignment, kinds: kinds)
    }

    /// With the bins given (e.g. read back from a score dump).
    public init(raw: PIDScores, bins: [PIDComponent], kinds: [PIDComponent?]) {
        precondition(raw.count == kinds.count && bins.count == kinds.count, "scores, bins and kinds have different lengths")
        auc = PIDComponent.allCases.map { c in rocAUC(scores: raw.component(c), positives: kinds.map { $0 == c }) }
        var sizes = [0, 0, 0], counts = [0, 0, 0], hits = [0, 0, 0]
        for i in 0..<kinds.count {
            sizes[bins[i].rawValue] += 1
            if let k = kinds[i] {
                counts[k.rawValue] += 1
                if bins[i] == k { hits[k.rawValue] += 1 }
            }
        }
        binSizes = sizes; kindCounts = counts
        purity = (0..<3).map { sizes[$0] > 0 ? Double(hits[$0]) / Double(sizes[$0]) : nil }
        recall = (0..<3).map { counts[$0] > 0 ? Double(hits[$0]) / Double(counts[$0]) : nil }
        agreement = kinds.isEmpty ? 0 : Double(hits.reduce(0, +)) / Double(kinds.count)
    }

    /// Base rate of each kind: the purity a bin would have by chance.
    public var baseRates: [Double] {
        let n = Double(max(1, binSizes.reduce(0, +)))
        return kindCounts.map { Double($0) / n }
    }
}
