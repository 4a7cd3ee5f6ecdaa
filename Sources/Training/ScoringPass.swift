import Tensor
import NN
import Data
import Comm
import Curriculum

/// The curriculum's scoring pass: every rank runs the model in evaluation mode (no gradients)
/// over a static contiguous shard of the training set, turns its logits into per-sample PID
/// scores (and BSS measures), and rank 0 gathers them in global sample order.
public enum ScoringPass {
    public struct Gathered {
        /// On rank 0 only.
        public let scores: PIDScores?
        /// On rank 0 only, when details were asked for: c_m, c_multi, D_m, D_syn per sample.
        public let details: PIDDetails?
        public let labels: [Int32]?
        public let bss: BSSMeasures?
        public let seconds: Double
        public let bytes: Int
    }

    /// This rank's shard of `count` samples: contiguous, in rank order, sizes differing by at most 1.
    public static func shard(count: Int, rank: Int, size: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// The fused and unimodal logits of the samples in `range` (forward passes in the model's
    /// current mode), row-major [count x classes], with their labels.
    public static func logits(model: MultimodalModel, data: SampleSource, range: Range<Int>, batchSize: Int, epoch: Int,
                              training: Bool) throws -> (fused: [Float], unimodal: [[Float]], labels: [Int32]) {
        let inputs = model.modalities.map { _ in Tensor(shape: [0]) }
        var fused: [Float] = [], uni: [[Float]] = model.modalities.map { _ in [] }, labels: [Int32] = []
        fused.reserveCapacity(range.count * model.classes)
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + batchSize, range.upperBound)
            labels += try data.gather(Array(start..<end)[...], into: inputs, epoch: epoch, training: training)
            let logits = model.forward(inputs)
            fused += logits.fusion.array
            for m in 0..<uni.count { uni[m] += logits.unimodal[m].array }
            start = end
        }
        return (fused, uni, labels)
    }

    /// This rank's part of the pass: the scores of its shard (no communication).
    public struct Local {
        public let scores: PIDScores
        public let bss: BSSMeasures
        public let details: PIDDetails
        public let labels: [Int32]
        /// BSS measures as gathered: [loss0, sim0, loss1, ...].
        public var bssInterleaved: [Float] {
            var flat = [Float](repeating: 0, count: 2 * bss.count)
            for i in 0..<bss.count { flat[2 * i] = bss.loss[i]; flat[2 * i + 1] = bss.similarity[i] }
            return flat
        }
    }

    /// Eval-mode forward passes over this rank's shard and the per-sample scores of its samples.
    /// Scores are computed batch by batch (each sample's scores depend on its own outputs only), so
    /// the pass holds one batch of logits, not the shard's (12 x classes bytes per sample).
    public static func local(model: MultimodalModel, data: SampleSource, rank: Int, size: Int, batchSize: Int, epoch: Int,
                             trainingAugmentation: Bool, synergy: SynergyForm) throws -> Local {
        let range = shard(count: data.count, rank: rank, size: size)
        let wasTraining = model.encoders.first.map { $0.bn1.training } ?? false
        model.setTraining(false)
        defer { model.setTraining(wasTraining) }
        let c = model.classes, M = model.modalities.count
        var scores = PIDScores(redundancy: [], unique: [], synergy: [])
        var bss = BSSMeasures(loss: [], similarity: [])
        var details = PIDDetails(confidence: Array(repeating: [], count: M), fusedConfidence: [],
                                 divergence: Array(repeating: [], count: M), synergyDivergence: [])
        var labels: [Int32] = []
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + batchSize, range.upperBound)
            let part = try logits(model: model, data: data, range: start..<end, batchSize: batchSize, epoch: epoch, training: trainingAugmentation)
            let p = ModalityPredictions(unimodalLogits: part.unimodal, fusedLogits: part.fused, classes: c)
            let (s, d) = PIDScorer.scoresWithDetails(p, labels: part.labels, synergy: synergy)
            let b = BSSMeasures(p, labels: part.labels)
            scores.redundancy += s.redundancy; scores.unique += s.unique; scores.synergy += s.synergy
            bss.loss += b.loss; bss.similarity += b.similarity
            for m in 0..<M { details.confidence[m] += d.confidence[m]; details.divergence[m] += d.divergence[m] }
            details.fusedConfidence += d.fusedConfidence; details.synergyDivergence += d.synergyDivergence
            labels += part.labels
            start = end
        }
        return Local(scores: scores, bss: bss, details: details, labels: labels)
    }

    /// Rank 0's view of gathered BSS pairs [loss0, sim0, ...].
    public static func bss(interleaved b: [Float]) -> BSSMeasures {
        BSSMeasures(loss: stride(from: 0, to: b.count, by: 2).map { b[$0] }, similarity: stride(from: 1, to: b.count, by: 2).map { b[$0] })
    }

    public static func run(model: MultimodalModel, data: SampleSource, comm: Communicator, batchSize: Int, epoch: Int,
                           trainingAugmentation: Bool, synergy: SynergyForm, details wantDetails: Bool = false) throws -> Gathered {
        let t0 = monotonicSeconds()
        let M = model.modalities.count
        let part = try local(model: model, data: data, rank: comm.rank, size: comm.size, batchSize: batchSize, epoch: epoch,
                             trainingAugmentation: trainingAugmentation, synergy: synergy)
        let local = part.scores, localDetails = part.details, labels = part.labels
        // Details travel as 2M + 2 floats per sample: c_1..c_M, c_multi, D_1..D_M, D_syn.
        var gatheredDetails: PIDDetails? = nil, gatheredLabels: [Int32]? = nil
        if wantDetails {
            var flat: [Float] = []
            for i in 0..<labels.count {
                flat += (0..<M).map { localDetails.confidence[$0][i] } + [localDetails.fusedConfidence[i]]
                flat += (0..<M).map { localDetails.divergence[$0][i] } + [localDetails.synergyDivergence[i]]
            }
            gatheredLabels = comm.gatherv(labels)
            if let g = comm.gatherv(flat) {
                let w = 2 * M + 2, n = g.count / w
                gatheredDetails = PIDDetails(confidence: (0..<M).map { m in (0..<n).map { g[$0 * w + m] } },
                                             fusedConfidence: (0..<n).map { g[$0 * w + M] },
                                             divergence: (0..<M).map { m in (0..<n).map { g[$0 * w + M + 1 + m] } },
                                             synergyDivergence: (0..<n).map { g[$0 * w + 2 * M + 1] })
            }
        }
        let gathered = comm.gatherv(local.interleaved)
        let gatheredBSS = comm.gatherv(part.bssInterleaved)
        var scores: PIDScores? = nil, bss: BSSMeasures? = nil
        if let g = gathered, let b = gatheredBSS {
            scores = PIDScores(interleaved: g)
            bss = Self.bss(interleaved: b)
        }
        return Gathered(scores: scores, details: gatheredDetails, labels: gatheredLabels, bss: bss, seconds: monotonicSeconds() - t0, bytes: data.count * 5 * 4)
    }
}
