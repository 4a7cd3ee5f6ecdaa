import Foundation

/// Per-sample raw measures of the BSS-style self-paced baseline (Guan et al. 2025, simplified as
/// the issue specifies): the multimodal cross-entropy and the similarity of the unimodal
/// distributions. Per sample and independent, so shards can be joined like `PIDScores`.
public struct BSSMeasures: Sendable, Equatable {
    /// -log(max(p_multi(y), 1e-8)).
    public var loss: [Float]
    /// Cosine of the unimodal softmax vectors; for M > 2 the mean over all pairs.
    public var similarity: [Float]

    public var count: Int { loss.count }

    public init(loss: [Float], similarity: [Float]) {
        precondition(loss.count == similarity.count, "loss and similarity lengths differ")
        self.loss = loss; self.similarity = similarity
    }

    public init(_ p: ModalityPredictions, labels: [Int32]) {
        precondition(labels.count == p.count, "\(labels.count) labels for \(p.count) samples")
        let k = p.classes, mCount = p.modalities
        var loss = [Float](repeating: 0, count: p.count), sim = loss
        for i in 0..<p.count {
            let y = Int(labels[i])
            precondition(y >= 0 && y < k, "label \(y) of sample \(i) outside [0, \(k))")
            loss[i] = -Foundation.log(max(p.fused[i * k + y], PIDScorer.clampFloor))
            var total = 0.0, pairs = 0
            for a in 0..<mCount {
                for b in (a + 1)..<mCount {
                    total += BSSMeasures.cosine(p.unimodal[a], p.unimodal[b], i * k, k); pairs += 1
                }
            }
            sim[i] = Float(total / Double(pairs))
        }
        self.init(loss: loss, similarity: sim)
    }

    public static func concatenating(_ shards: [BSSMeasures]) -> BSSMeasures {
        BSSMeasures(loss: shards.flatMap(\.loss), similarity: shards.flatMap(\.similarity))
    }

    /// w = 1 - (L^ - Sim^) + 1e-2, where L^ and Sim^ are the loss and the similarity each min-max
    /// normalised over all samples given (the whole training set). Weights lie in [0.01, 2.01]:
    /// low-loss, high-agreement samples come first.
    public var weights: [Float] {
        let l = minMaxNormalised(loss), s = minMaxNormalised(similarity)
        return (0..<count).map { 1 - (l[$0] - s[$0]) + 1e-2 }
    }

    /// Cosine of two rows; 0 when either row is all zeros.
    static func cosine(_ x: [Float], _ y: [Float], _ base: Int, _ k: Int) -> Double {
        var dot = 0.0, nx = 0.0, ny = 0.0
        for j in base..<(base + k) {
            let a = Double(x[j]), b = Double(y[j])
            dot += a * b; nx += a * a; ny += b * b
        }
        return nx > 0 && ny > 0 ? dot / (nx.squareRoot() * ny.squareRoot()) : 0
    }
}
