import Foundation

/// Annotator curricula (paper section 5): the model's distributions are replaced by the
/// distributions of per-modality human ratings, then the same scores apply unchanged.
public enum AnnotatorResponses {
    /// Vote counts per class (flat [count, classes]) for every unimodal rating mode (e.g. CREMA-D
    /// voice-only, face-only) and for the multimodal mode (audio-visual). Each row becomes the
    /// distribution (votes + smoothing) / (total + classes * smoothing), so c_m is the fraction of
    /// raters of mode m who chose the intended label. A row without votes becomes uniform.
    public static func predictions(unimodalVotes: [[Float]], fusedVotes: [Float], classes: Int,
                                   smoothing: Float = 0) -> ModalityPredictions {
        precondition(smoothing >= 0, "smoothing must be >= 0")
        return ModalityPredictions(unimodal: unimodalVotes.map { distribution($0, classes, smoothing) },
                                   fused: distribution(fusedVotes, classes, smoothing), classes: classes)
    }

    static func distribution(_ votes: [Float], _ k: Int, _ alpha: Float) -> [Float] {
        precondition(votes.count % k == 0, "\(votes.count) vote counts are not rows of \(k) classes")
        var out = votes
        for row in stride(from: 0, to: votes.count, by: k) {
            var total: Float = 0
            for j in 0..<k {
                precondition(votes[row + j] >= 0, "negative vote count")
                total += votes[row + j] + alpha
            }
            for j in 0..<k { out[row + j] = total > 0 ? (votes[row + j] + alpha) / total : 1 / Float(k) }
        }
        return out
    }
}

/// How the hybrid curriculum (eq. 20) moves from annotator scores to model scores.
public enum HybridWeighting: String, Sendable, CaseIterable {
    /// alpha_t = t / T.
    case linear
    /// alpha_t = (1 - cos(pi t / T)) / 2.
    case cosine

    /// alpha for curriculum epoch t of T (t clamped to [0, T]; T = 0 gives 1, i.e. model only).
    public func alpha(curriculumEpoch t: Int, of total: Int) -> Double {
        guard total > 0 else { return 1 }
        let x = Double(min(max(t, 0), total)) / Double(total)
        switch self {
        case .linear: return x
        case .cosine: return (1 - Foundation.cos(Double.pi * x)) / 2
        }
    }
}

extension AnnotatorResponses {
    /// Distributions from per-modality "fraction of raters who perceived the true class" (the
    /// SPICE data format's ratings, [N x M] row-major): p_m puts c_m on the label and spreads
    /// 1 - c_m evenly over the other classes. Without a rating of the fused (all-modality)
    /// presentation, the fused confidence is the noisy-OR 1 - prod_m (1 - c_m): an observer who
    /// sees every modality perceives the class when any modality conveys it. Documented in
    /// docs/curriculum.md.
    public static func predictions(correctFractions: [Float], labels: [Int32], modalities: Int, classes: Int,
                                   fusedFractions: [Float]? = nil) -> ModalityPredictions {
        let n = labels.count
        precondition(correctFractions.count == n * modalities, "\(correctFractions.count) ratings for \(n) samples x \(modalities)")
        precondition(classes >= 2, "need at least two classes")
        func row(_ c: Float, _ y: Int32, into out: inout [Float]) {
            let c = min(max(c, 0), 1), rest = (1 - c) / Float(classes - 1)
            for k in 0..<classes { out.append(k == Int(y) ? c : rest) }
        }
        var uni = [[Float]](repeating: [], count: modalities), fused: [Float] = []
        for i in 0..<n {
            var missAll: Float = 1
            for m in 0..<modalities {
                let c = correctFractions[i * modalities + m]
                row(c, labels[i], into: &uni[m])
                missAll *= 1 - min(max(c, 0), 1)
            }
            row(fusedFractions?[i] ?? 1 - missAll, labels[i], into: &fused)
        }
        return ModalityPredictions(unimodal: uni, fused: fused, classes: classes)
    }
}
