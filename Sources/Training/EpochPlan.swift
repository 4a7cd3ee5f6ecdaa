import Tensor

/// Which samples each rank trains on in one epoch, built so that every rank runs exactly the
/// same number of steps: the global batch is worldSize x perRankBatch, the step count comes from
/// the global sample count, and rank r takes slice r of every global batch.
public struct EpochPlan: Sendable, Equatable {
    public enum Remainder: String, Sendable {
        /// Drop the last incomplete global batch (default).
        case dropLast
        /// Complete it by wrapping around to the start of the order.
        case wrap
    }

    public let steps: Int
    public let perRankBatch: Int
    /// This rank's sample indices, `steps * perRankBatch` of them, step-major.
    public let indices: [Int]

    /// The global order is given (e.g. a seeded permutation, or a curriculum's ordering).
    public init(order: [Int], rank: Int, worldSize: Int, perRankBatch: Int, remainder: Remainder = .dropLast) throws {
        let global = worldSize * perRankBatch
        guard perRankBatch >= 1 else { throw PlanError("per-rank batch must be >= 1") }
        guard !order.isEmpty else { throw PlanError("no samples to train on") }
        guard order.count >= global || remainder == .wrap else {
            throw PlanError("the global batch (\(worldSize) ranks x \(perRankBatch)) is larger than the \(order.count) samples: "
                            + "use a smaller batch, fewer ranks, or remainder 'wrap'")
        }
        steps = remainder == .dropLast ? order.count / global : (order.count + global - 1) / global
        self.perRankBatch = perRankBatch
        var mine: [Int] = []
        mine.reserveCapacity(steps * perRankBatch)
        for s in 0..<steps {
            let start = s * global + rank * perRankBatch
            for k in 0..<perRankBatch { mine.append(order[(start + k) % order.count]) }
        }
        indices = mine
    }

    /// A seeded shuffle of 0..<count, identical on every rank for the same (seed, epoch).
    /// A plan received from rank 0.
    public init(steps: Int, perRankBatch: Int, indices: [Int]) {
        precondition(indices.count == steps * perRankBatch, "plan with \(indices.count) indices for \(steps) x \(perRankBatch)")
        self.steps = steps; self.perRankBatch = perRankBatch; self.indices = indices
    }

    public static func shuffled(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SeededRandom(seed: seed, stream: 0xE90C, UInt64(epoch))
        return rng.permutation(count)
    }

    public func batch(_ step: Int) -> ArraySlice<Int> {
        indices[(step * perRankBatch)..<((step + 1) * perRankBatch)]
    }
}

public struct PlanError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
