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
