import Comm

/// Rank 0 turns the epoch's global order into every rank's slice of every global batch and
/// scatters them; each rank checks it received exactly steps x per-rank-batch indices. A plan
/// rank 0 cannot build (e.g. fewer samples than one global batch) ends every rank together.
public enum DistributedPlan {
    public static func scatter(order: [Int]?, comm: Communicator, perRankBatch: Int, remainder: EpochPlan.Remainder) -> EpochPlan {
        var header: [Int64] = [0]
        var parts: [[Int32]]? = nil
        var problem = ""
        if comm.isRoot {
            do {
                let built = try rankParts(order: order ?? [], worldSize: comm.size, perRankBatch: perRankBatch, remainder: remainder)
                header[0] = Int64(built.steps)
                parts = built.parts
            } catch {
                header[0] = -1
                problem = "\(error)"
            }
        }
        return deliver(header: header, parts: parts, problem: problem, comm: comm, perRankBatch: perRankBatch)
    }

    /// Rank 0's side: every rank's slice of every global batch (the index lists that are scattered).
    public static func rankParts(order: [Int], worldSize: Int, perRankBatch: Int, remainder: EpochPlan.Remainder) throws
        -> (steps: Int, parts: [[Int32]]) {
        let plans = try (0..<worldSize).map {
            try EpochPlan(order: order, rank: $0, worldSize: worldSize, perRankBatch: perRankBatch, remainder: remainder)
        }
        return (plans[0].steps, plans.map { $0.indices.map { Int32($0) } })
    }

    /// The collective part: rank 0's step count (or -1 and its problem) is broadcast, then the
    /// index lists are scattered and checked.
    public static func deliver(header: [Int64], parts: [[Int32]]?, problem: String, comm: Communicator, perRankBatch: Int) -> EpochPlan {
        var header = header
        comm.broadcast(&header)
        if header[0] < 0 {
            comm.failTogether("cannot build the epoch plan: \(problem.isEmpty ? "see rank 0" : problem)", code: 2)
        }
        let steps = Int(header[0])
        let mine = comm.scatterv(parts)
        if mine.count != steps * perRankBatch {
            comm.fail("received \(mine.count) sample indices, expected \(steps) steps x \(perRankBatch)")
        }
        return EpochPlan(steps: steps, perRankBatch: perRankBatch, indices: mine.map { Int($0) })
    }
}
