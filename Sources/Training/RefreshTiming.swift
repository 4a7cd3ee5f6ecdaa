import Foundation
import Tensor
import NN
import Data
import Comm
import Curriculum

/// One curriculum refresh taken apart and timed phase by phase, with the same building blocks the
/// trainer calls (`ScoringPass.local`, `Communicator.gatherv`, `CurriculumPlanner`,
/// `DistributedPlan.rankParts` / `deliver`): every rank scores its shard, the scores are gathered
/// to rank 0, rank 0 normalises them over the whole set and builds the epoch's plan for each
/// method asked for, and the per-rank index lists are scattered. `spice bench --refresh` prints
/// the table; `Tests/DistributedTests/RefreshTimingTests` checks that the plans it delivers are
/// the trainer's.
public enum RefreshTiming {
    public struct Settings: Sendable {
        public var methods: [CurriculumMethod] = [.spiceE(redraw: .everyEpoch), .spiceS]
        public var schedule = CurriculumSchedule(warmupEpochs: 0, stageLengths: [2, 2, 2], refreshInterval: 2)
        public var seed: UInt64 = 0
        public var perRankBatch = 16
        public var evaluationBatch = 64
        public var remainder = EpochPlan.Remainder.dropLast
        public var trainingAugmentation = false
        public var synergy = SynergyForm.paper
        /// Write every method's global order (rank 0) and each rank's received indices here, named
        /// like the trainer's `--dump-plan` files, under one subdirectory per method.
        public var planDump: String?
        public init() {}
    }

    public struct Phase: Sendable {
        public let name: String
        /// Where it runs: "every rank", "rank 0", "collective".
        public let place: String
        /// Seconds: the maximum over ranks (for rank-0 phases, rank 0's time).
        public let seconds: Double
        /// The minimum over ranks (equal to `seconds` for rank-0 phases).
        public let minSeconds: Double
        /// Payload bytes that crossed between processes in this phase (0 for local work).
        public let bytes: Int
    }

    public struct Result: Sendable {
        public let count: Int
        public let ranks: Int
        public let phases: [Phase]
        /// Per method: the global order's length and the steps of the delivered plan.
        public let plans: [(method: String, orderCount: Int, steps: Int)]
        /// Peak resident set size of rank 0 and the largest of the other ranks (bytes).
        public let rank0PeakRSS: Int, otherPeakRSS: Int
    }

    public static func methodName(_ m: CurriculumMethod) -> String {
        switch m {
        case .conventional: "conventional"
        case .spiceE(let r): r == .everyEpoch ? "spice-e" : "spice-e-refresh"
        case .spiceS: "spice-s"
        case .bss: "bss"
        }
    }

    /// The epoch the plans are built for: the first curriculum epoch (the first refresh).
    public static func planEpoch(_ s: CurriculumSchedule) -> Int { s.warmupEpochs }

    /// Runs the refresh on every rank of `comm`; collective. Throws on a data error (the caller
    /// ends the job on every rank).
    public static func run(model: MultimodalModel, data: SampleSource, comm: Communicator, settings: Settings) throws -> Result {
        let epoch = planEpoch(settings.schedule)
        let n = data.count, p = comm.size
        var phases: [Phase] = []
        func collect(_ name: String, _ place: String, _ t: Double, bytes: Int) {
            let hi = comm.allreduce(t, op: .max), lo = comm.allreduce(t, op: .min)
            phases.append(Phase(name: name, place: place, seconds: hi, minSeconds: lo, bytes: bytes))
        }
        func rootOnly(_ name: String, _ t: Double) {
            var v = [comm.isRoot ? t : 0]
            comm.broadcast(&v)
            phases.append(Phase(name: name, place: "rank 0", seconds: v[0], minSeconds: v[0], bytes: 0))
        }

        // 1. Scoring: eval-mode forward over this rank's shard + PID and BSS arithmetic.
        comm.barrier()
        var t0 = monotonicSeconds()
        let part = try ScoringPass.local(model: model, data: data, rank: comm.rank, size: p, batchSize: settings.evaluationBatch,
                                         epoch: epoch, trainingAugmentation: settings.trainingAugmentation, synergy: settings.synergy)
        collect("scoring pass (forward + PID/BSS scores of the shard)", "every rank", monotonicSeconds() - t0, bytes: 0)

        // 2. Gatherv of 3 PID floats + 2 BSS floats per sample (the trainer's two gathers).
        comm.barrier()
        t0 = monotonicSeconds()
        let gathered = comm.gatherv(part.scores.interleaved)
        let gatheredBSS = comm.gatherv(part.bssInterleaved)
        // Counts travel too: one Int32 per rank and gather.
        collect("Gatherv R,U,S + BSS to rank 0", "collective", monotonicSeconds() - t0, bytes: n * 5 * 4 + 2 * p * 4)

        // 3. Global min-max normalisation on rank 0 (what setModelScores does).
        var normalised: NormalisedScores?
        t0 = monotonicSeconds()
        if let g = gathered, gatheredBSS != nil {
            guard g.count == 3 * n else { comm.fail("gathered \(g.count / 3) samples' scores, the data has \(n)") }
            normalised = NormalisedScores(PIDScores(interleaved: g))
        }
        rootOnly("global min-max normalisation (R, U, S)", monotonicSeconds() - t0)

        var plans: [(String, Int, Int)] = []
        for method in settings.methods {
            let name = methodName(method)
            var planner = CurriculumPlanner(count: n, method: method, schedule: settings.schedule, seed: settings.seed,
                                            minimumStageCount: p * settings.perRankBatch)
            var order: [Int]? = nil
            t0 = monotonicSeconds()
            if let normalised {
                planner.setModelScores(normalised)
                order = planner.order(epoch: epoch).indices
            }
            rootOnly("\(name): global order (planner.order, epoch \(epoch + 1))", monotonicSeconds() - t0)

            var header: [Int64] = [0], parts: [[Int32]]? = nil, problem = ""
            t0 = monotonicSeconds()
            if comm.isRoot {
                do {
                    let built = try DistributedPlan.rankParts(order: order ?? [], worldSize: p, perRankBatch: settings.perRankBatch,
                                                              remainder: settings.remainder)
                    header[0] = Int64(built.steps); parts = built.parts
                } catch {
                    header[0] = -1; problem = "\(error)"
                }
            }
            rootOnly("\(name): per-rank slices of every global batch", monotonicSeconds() - t0)

            comm.barrier()
            t0 = monotonicSeconds()
            let plan = DistributedPlan.deliver(header: header, parts: parts, problem: problem, comm: comm, perRankBatch: settings.perRankBatch)
            let scattered = plan.steps * settings.perRankBatch * p * 4
            collect("\(name): Scatterv of the index lists", "collective", monotonicSeconds() - t0, bytes: scattered + 8 + p * 4)
            var orderCount = [Int64(order?.count ?? 0)]
            comm.broadcast(&orderCount)
            plans.append((name, Int(orderCount[0]), plan.steps))
            if let dir = settings.planDump { dump(dir + "/" + name, epoch: epoch, global: order, mine: plan.indices, rank: comm.rank) }
        }

        let rss = peakRSSBytes()
        let others = comm.allreduce(comm.isRoot ? 0 : Int64(rss), op: .max)
        var root = [Int64(rss)]
        comm.broadcast(&root)
        return Result(count: n, ranks: p, phases: phases, plans: plans, rank0PeakRSS: Int(root[0]), otherPeakRSS: Int(others))
    }

    /// The trainer's `--dump-plan` layout: global-epoch-E.txt (rank 0) and rank-R-epoch-E.txt.
    static func dump(_ dir: String, epoch: Int, global: [Int]?, mine: [Int], rank: Int) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func write(_ name: String, _ v: [Int]) {
            try? v.map(String.init).joined(separator: "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        if let global { write("global-epoch-\(epoch).txt", global) }
        write("rank-\(rank)-epoch-\(epoch).txt", mine)
    }

    /// The table `spice bench --refresh` prints (markdown).
    public static func table(_ r: Result) -> String {
        var lines = ["| phase | where | time (s), max over ranks | min over ranks | bytes moved |", "|---|---|---:|---:|---:|"]
        for ph in r.phases {
            lines.append(String(format: "| %@ | %@ | %.4f | %.4f | %@ |", ph.name, ph.place, ph.seconds, ph.minSeconds,
                                ph.bytes > 0 ? groupedBytes(ph.bytes) : "-"))
        }
        return lines.joined(separator: "\n")
    }

    static func groupedBytes(_ b: Int) -> String {
        let s = String(b)
        var out = ""
        for (i, ch) in s.reversed().enumerated() { if i > 0 && i % 3 == 0 { out.append(",") }; out.append(ch) }
        return String(out.reversed())
    }

    /// Rank 0's plan work alone at a given N, on random raw scores (no model, no MPI): the
    /// normalisation, the SPICE-E order, the SPICE-S order and the per-rank slicing for `ranks`
    /// ranks x `perRankBatch`. Returns seconds per step and the peak-RSS growth the plan caused.
    public struct PlanCost: Sendable {
        public let count: Int
        public let normalise: Double, spiceE: Double, spiceS: Double, slices: Double
        public let baselineRSS: Int, peakRSS: Int
    }

    /// Each step runs `repeats` times; the fastest run is reported (the machine may be shared).
    public static func planCost(count n: Int, ranks: Int, perRankBatch: Int, seed: UInt64 = 0, repeats: Int = 3) throws -> PlanCost {
        var best: PlanCost?
        for _ in 0..<max(1, repeats) {
            let c = try planCostOnce(count: n, ranks: ranks, perRankBatch: perRankBatch, seed: seed)
            best = best.map {
                PlanCost(count: n, normalise: min($0.normalise, c.normalise), spiceE: min($0.spiceE, c.spiceE), spiceS: min($0.spiceS, c.spiceS),
                         slices: min($0.slices, c.slices), baselineRSS: $0.baselineRSS, peakRSS: max($0.peakRSS, c.peakRSS))
            } ?? c
        }
        return best!
    }

    static func planCostOnce(count n: Int, ranks: Int, perRankBatch: Int, seed: UInt64) throws -> PlanCost {
        var rng = SeededRandom(seed: seed, stream: 0x5CA1E)
        // Raw scores generated in place (no temporaries), the way rank 0 holds them after the gather.
        var interleaved = [Float](repeating: 0, count: 3 * n)
        for i in 0..<(3 * n) { interleaved[i] = rng.uniform() * (i % 3 == 2 ? 2 : 1) - (i % 3 == 2 ? 1 : 0) }
        let baseline = currentRSSBytes()
        var t0 = monotonicSeconds()
        let normalised = NormalisedScores(PIDScores(interleaved: interleaved))
        let tn = monotonicSeconds() - t0
        let schedule = CurriculumSchedule(warmupEpochs: 0, stageLengths: [2, 2, 2], refreshInterval: 2)
        var e = CurriculumPlanner(count: n, method: .spiceE(redraw: .everyEpoch), schedule: schedule, seed: seed,
                                  minimumStageCount: ranks * perRankBatch)
        e.setModelScores(normalised)
        t0 = monotonicSeconds()
        let orderE = e.order(epoch: 0).indices
        let te = monotonicSeconds() - t0
        var s = CurriculumPlanner(count: n, method: .spiceS, schedule: schedule, seed: seed, minimumStageCount: ranks * perRankBatch)
        s.setModelScores(normalised)
        t0 = monotonicSeconds()
        let orderS = s.order(epoch: 0).indices
        let ts = monotonicSeconds() - t0
        t0 = monotonicSeconds()
        let parts = try DistributedPlan.rankParts(order: orderE, worldSize: ranks, perRankBatch: perRankBatch, remainder: .dropLast)
        let tp = monotonicSeconds() - t0
        precondition(parts.parts.count == ranks && !orderS.isEmpty)
        return PlanCost(count: n, normalise: tn, spiceE: te, spiceS: ts, slices: tp, baselineRSS: baseline, peakRSS: peakRSSBytes())
    }
}

/// Resident set size now (bytes), from /proc/self/statm.
public func currentRSSBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let f = s.split(separator: " ")
    guard f.count > 1, let pages = Int(f[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
