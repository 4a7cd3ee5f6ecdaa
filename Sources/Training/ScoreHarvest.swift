import Foundation
import NN
import Comm
import Curriculum

/// Scores harvested from the training epoch's own forward passes instead of a separate scoring
/// pass: after each step's loss, the batch's softmax outputs (training mode, training
/// augmentation) give its samples' R/U/S at the cost of the score arithmetic only. Rank 0
/// assembles them in sample order at the next refresh. A sample the epoch did not train on (the
/// drop_last remainder, or outside a SPICE-S stage set) keeps its previous raw scores, or gets the
/// mean of the harvested ones when it has none yet; a sample seen twice (wrap-around) is averaged.
final class ScoreHarvest {
    var indices: [Int32] = []
    var interleaved: [Float] = []
    /// Seconds spent computing scores inside the training steps.
    var seconds = 0.0
    /// Rank 0: the last assembled raw scores (the fallback for unseen samples).
    var previous: PIDScores?

    var isEmpty: Bool { indices.isEmpty }

    func reset() { indices = []; interleaved = []; seconds = 0 }

    /// Records the scores of the batch the model just computed the loss of.
    func record(model: MultimodalModel, batch: ArraySlice<Int>, labels: [Int32], synergy: SynergyForm) {
        let t0 = monotonicSeconds()
        let p = ModalityPredictions(unimodal: model.headProbs.map(\.array), fused: model.fusionProbs.array, classes: model.classes)
        interleaved += PIDScorer.scores(p, labels: labels, synergy: synergy).interleaved
        indices += batch.map { Int32($0) }
        seconds += monotonicSeconds() - t0
    }

    /// Gathers every rank's harvest to rank 0 and assembles the raw scores of all `count` samples
    /// (nil on other ranks). Returns how many samples were seen in the epoch.
    func assemble(count: Int, comm: Communicator) -> (scores: PIDScores?, seen: Int) {
        let allIndices = comm.gatherv(indices), allScores = comm.gatherv(interleaved)
        guard let ix = allIndices, let sc = allScores else { return (nil, 0) }
        var sums = [Double](repeating: 0, count: 3 * count), hits = [Int](repeating: 0, count: count)
        for (k, i) in ix.enumerated() {
            let s = Int(i)
            for c in 0..<3 { sums[3 * s + c] += Double(sc[3 * k + c]) }
            hits[s] += 1
        }
        var mean = [Double](repeating: 0, count: 3)
        let seen = hits.filter { $0 > 0 }.count
        for s in 0..<count where hits[s] > 0 { for c in 0..<3 { mean[c] += sums[3 * s + c] / Double(hits[s]) / Double(seen) } }
        var out = [Float](repeating: 0, count: 3 * count)
        let old = previous?.interleaved
        for s in 0..<count {
            for c in 0..<3 {
                out[3 * s + c] = hits[s] > 0 ? Float(sums[3 * s + c] / Double(hits[s])) : (old.map { $0[3 * s + c] } ?? Float(mean[c]))
            }
        }
        let scores = PIDScores(interleaved: out)
        previous = scores
        return (scores, seen)
    }
}
