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
                let plans = try (0..<comm.size).map {
                    try EpochPlan(order: order ?? [], rank: $0, worldSize: comm.size, perRankBatch: perRankBatch, remainder: remainder)
                }
                header[0] = Int64(plans[0].steps)
                parts = plans.map { $0.indices.map { Int32($0) } }
            } catch {
                header[0] = -1
                problem = "\(error)"
            }
        }
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
