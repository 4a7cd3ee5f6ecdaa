/// The training method whose orders the planner builds.
public enum CurriculumMethod: Sendable, Equatable {
    /// A seeded shuffle every epoch (the baseline; also what every warm-up epoch does).
    case conventional
    /// SPICE-E: the whole set in a weighted order (P_R, 1 - P_U, 1 - P_S by stage).
    case spiceE(redraw: OrderRedraw)
    /// SPICE-S: stage R trains on bin R, stage U on R and U, stage S on everything, shuffled.
    case spiceS
    /// BSS-style self-paced baseline: a weighted order redrawn every curriculum epoch.
    case bss
}

/// When SPICE-E draws a new order.
public enum OrderRedraw: String, Sendable, CaseIterable {
    /// Every epoch (the paper).
    case everyEpoch
    /// Once per score refresh, reused until the next refresh (the reference code); a stage change
    /// between refreshes also draws anew, since the weights change.
    case atRefresh
}

/// Where the PID scores come from.
public enum ScoreSource: Sendable, Equatable {
    /// The model under training, refreshed on the schedule (SPICE).
    case model
    /// Static annotator scores, set once (section 5.1).
    case annotator
    /// Eq. 20: annotator and model scores mixed with alpha_t, t the curriculum epoch (section 5.2).
    case hybrid(HybridWeighting)
}

/// One epoch's global order, identical for the same scores, seed and epoch.
public struct EpochOrder: Sendable, Equatable {
    public let epoch: Int
    public let phase: CurriculumSchedule.Phase
    /// Sample indices in training order: a permutation of all samples, or SPICE-S's stage set.
    public let indices: [Int]
    /// The epoch whose random stream (and hybrid alpha) produced the order; earlier than `epoch`
    /// when an order or its bins are reused.
    public let drawnAt: Int
    /// SPICE-S: the stage set actually trained on (differs from the stage after a fallback).
    public let trainingSet: PIDComponent?
    /// Hybrid source: the alpha used.
    public let alpha: Double?

    func with(_ indices: [Int]) -> EpochOrder {
        EpochOrder(epoch: epoch, phase: phase, indices: indices, drawnAt: drawnAt, trainingSet: trainingSet, alpha: alpha)
    }
}

/// Builds the global order of every epoch from the schedule and the latest scores. Call it on the
/// rank that holds the gathered scores; the order of an epoch is a pure function of
/// (scores, seed, epoch), so nothing needs to be cached between epochs.
public struct CurriculumPlanner: Sendable {
    public let count: Int
    public let method: CurriculumMethod
    public let schedule: CurriculumSchedule
    public let seed: UInt64
    public let source: ScoreSource
    /// SPICE-S falls back to a larger stage set when a set is smaller than this (use the global batch).
    public let minimumStageCount: Int

    public private(set) var modelScores: NormalisedScores?
    public private(set) var annotatorScores: NormalisedScores?
    public private(set) var bssWeights: [Float]?

    public init(count: Int, method: CurriculumMethod, schedule: CurriculumSchedule, seed: UInt64,
                source: ScoreSource = .model, minimumStageCount: Int = 1) {
        precondition(count >= 0, "sample count must be >= 0")
        self.count = count; self.method = method; self.schedule = schedule; self.seed = seed
        self.source = source; self.minimumStageCount = minimumStageCount
    }

    /// True when the trainer must run a scoring pass before `epoch` and hand the result to
    /// `setModelScores` (SPICE with a model or hybrid source) or `setBSSMeasures` (BSS).
    public func needsScoring(before epoch: Int) -> Bool {
        switch method {
        case .conventional: false
        case .bss: schedule.refreshesBefore(epoch)
        case .spiceE, .spiceS: source != .annotator && schedule.refreshesBefore(epoch)
        }
    }

    /// Raw scores of the whole training set (all shards joined); normalised here.
    public mutating func setModelScores(_ raw: PIDScores) { setModelScores(NormalisedScores(raw)) }

    public mutating func setModelScores(_ scores: NormalisedScores) {
        precondition(scores.count == count, "scores for \(scores.count) samples, planner has \(count)")
        modelScores = scores
    }

    public mutating func setAnnotatorScores(_ raw: PIDScores) { setAnnotatorScores(NormalisedScores(raw)) }

    public mutating func setAnnotatorScores(_ scores: NormalisedScores) {
        precondition(scores.count == count, "scores for \(scores.count) samples, planner has \(count)")
        annotatorScores = scores
    }

    public mutating func setBSSMeasures(_ measures: BSSMeasures) {
        precondition(measures.count == count, "measures for \(measures.count) samples, planner has \(count)")
        bssWeights = measures.weights
    }

    /// The order of one epoch.
    public func order(epoch: Int) -> EpochOrder {
        let phase = schedule.phase(epoch)
        let shuffled = EpochOrder(epoch: epoch, phase: phase, indices: [], drawnAt: epoch, trainingSet: nil, alpha: nil)
        guard case .stage(let stage) = phase else { return shuffled.with(shuffledOrder(count: count, seed: seed, epoch: epoch)) }
        switch method {
        case .conventional:
            return shuffled.with(shuffledOrder(count: count, seed: seed, epoch: epoch))
        case .bss:
            guard let w = bssWeights else { preconditionFailure("BSS epoch \(epoch) before any setBSSMeasures") }
            return EpochOrder(epoch: epoch, phase: phase, indices: WeightedOrder.draw(weights: w, seed: seed, epoch: epoch, stream: .bss),
                              drawnAt: epoch, trainingSet: nil, alpha: nil)
        case .spiceE(let redraw):
            let at = redraw == .everyEpoch ? epoch : schedule.segmentStart(epoch)
            let (scores, alpha) = effectiveScores(at: at)
            let order = WeightedOrder.draw(weights: scores.stageWeights(stage), seed: seed, epoch: at, stream: .spiceE)
            return EpochOrder(epoch: epoch, phase: phase, indices: order, drawnAt: at, trainingSet: nil, alpha: alpha)
        case .spiceS:
            let at = schedule.segmentStart(epoch)
            let (scores, alpha) = effectiveScores(at: at)
            let set = StageBins(scores).order(stage: stage, seed: seed, epoch: epoch, minimumCount: minimumStageCount)
            return EpochOrder(epoch: epoch, phase: phase, indices: set.indices, drawnAt: at, trainingSet: set.used, alpha: alpha)
        }
    }

    /// SPICE-E sampling weights of an epoch (for logging); nil outside SPICE-E / BSS curriculum epochs.
    public func weights(epoch: Int) -> [Float]? {
        guard let stage = schedule.stage(epoch) else { return nil }
        switch method {
        case .spiceE(let redraw):
            return effectiveScores(at: redraw == .everyEpoch ? epoch : schedule.segmentStart(epoch)).scores.stageWeights(stage)
        case .bss: return bssWeights
        default: return nil
        }
    }

    /// The SPICE-S bins an epoch uses (for logging); nil outside SPICE-S curriculum epochs.
    public func bins(epoch: Int) -> StageBins? {
        guard method == .spiceS, schedule.stage(epoch) != nil else { return nil }
        return StageBins(effectiveScores(at: schedule.segmentStart(epoch)).scores)
    }

    /// The normalised scores an order drawn at `epoch` uses, and the hybrid alpha.
    public func effectiveScores(at epoch: Int) -> (scores: NormalisedScores, alpha: Double?) {
        switch source {
        case .model:
            guard let m = modelScores else { preconditionFailure("curriculum epoch \(epoch) before any setModelScores") }
            return (m, nil)
        case .annotator:
            guard let a = annotatorScores else { preconditionFailure("annotator curriculum without setAnnotatorScores") }
            return (a, nil)
        case .hybrid(let weighting):
            guard let a = annotatorScores, let m = modelScores else {
                preconditionFailure("hybrid curriculum epoch \(epoch) needs both annotator and model scores")
            }
            let alpha = weighting.alpha(curriculumEpoch: schedule.curriculumEpoch(epoch) ?? 0, of: schedule.curriculumEpochs)
            return (NormalisedScores.mixing(annotator: a, model: m, alpha: alpha), alpha)
        }
    }
}
