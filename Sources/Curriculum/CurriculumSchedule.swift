/// Which part of the curriculum an epoch belongs to: warm-up epochs with plain shuffling, then the
/// curriculum epochs split into stages R, U, S, with scores refreshed every `refreshInterval`
/// curriculum epochs (the first refresh right before the first curriculum epoch).
/// Epochs are 0-based; the curriculum-epoch index t counts from the first curriculum epoch.
public struct CurriculumSchedule: Sendable, Equatable {
    public enum Phase: Sendable, Equatable, CustomStringConvertible {
        case warmup
        case stage(PIDComponent)

        public var description: String {
            switch self { case .warmup: "warmup"; case .stage(let c): "stage \(c)" }
        }
    }

    public let warmupEpochs: Int
    /// Lengths of stages R, U, S in epochs.
    public let stageLengths: [Int]
    public let refreshInterval: Int

    public var curriculumEpochs: Int { stageLengths.reduce(0, +) }
    public var totalEpochs: Int { warmupEpochs + curriculumEpochs }

    /// Stages split as equally as possible: stage j covers curriculum epochs
    /// [floor(j C / 3), floor((j + 1) C / 3)), so leftover epochs go to the later stages.
    public init(warmupEpochs: Int = 30, curriculumEpochs: Int = 150, refreshInterval: Int = 5) {
        precondition(curriculumEpochs >= 0, "curriculum epochs must be >= 0")
        let b1 = curriculumEpochs / 3, b2 = 2 * curriculumEpochs / 3
        self.init(warmupEpochs: warmupEpochs, stageLengths: [b1, b2 - b1, curriculumEpochs - b2],
                  refreshInterval: refreshInterval)
    }

    public init(warmupEpochs: Int, stageLengths: [Int], refreshInterval: Int) {
        precondition(warmupEpochs >= 0, "warm-up epochs must be >= 0")
        precondition(stageLengths.count == 3 && stageLengths.allSatisfy { $0 >= 0 }, "need three stage lengths >= 0")
        precondition(refreshInterval >= 1, "the refresh interval must be >= 1 epoch")
        self.warmupEpochs = warmupEpochs
        self.stageLengths = stageLengths
        self.refreshInterval = refreshInterval
    }

    /// t = epoch - warm-up, or nil during warm-up (and always nil without curriculum epochs).
    public func curriculumEpoch(_ epoch: Int) -> Int? {
        precondition(epoch >= 0, "epoch \(epoch) < 0")
        return epoch >= warmupEpochs && curriculumEpochs > 0 ? epoch - warmupEpochs : nil
    }

    /// Epochs past the end of the curriculum stay in stage S (training on everything).
    public func phase(_ epoch: Int) -> Phase {
        guard let t = curriculumEpoch(epoch) else { return .warmup }
        return .stage(stage(curriculumEpoch: t))
    }

    public func stage(_ epoch: Int) -> PIDComponent? {
        if case .stage(let s) = phase(epoch) { return s }
        return nil
    }

    /// True when scores must be recomputed (with the current model) before this epoch trains.
    public func refreshesBefore(_ epoch: Int) -> Bool {
        guard let t = curriculumEpoch(epoch) else { return false }
        return t % refreshInterval == 0
    }

    /// The latest refresh epoch <= epoch (nil in warm-up): the scores this epoch uses.
    public func lastRefresh(atOrBefore epoch: Int) -> Int? {
        guard let t = curriculumEpoch(epoch) else { return nil }
        return warmupEpochs + t - t % refreshInterval
    }

    /// The first epoch of the run of epochs that share both the refreshed scores and the stage of
    /// `epoch`: an order drawn there can be reused until the scores or the stage change.
    public func segmentStart(_ epoch: Int) -> Int {
        guard let t = curriculumEpoch(epoch) else { return epoch }
        var s = t
        while s > 0 && s % refreshInterval != 0 && stage(curriculumEpoch: s - 1) == stage(curriculumEpoch: s) { s -= 1 }
        return warmupEpochs + s
    }

    /// The epochs (0-based, absolute) of one stage.
    public func epochs(of stage: PIDComponent) -> Range<Int> {
        let start = warmupEpochs + stageLengths[..<stage.rawValue].reduce(0, +)
        return start..<(start + stageLengths[stage.rawValue])
    }

    func stage(curriculumEpoch t: Int) -> PIDComponent {
        if t < stageLengths[0] { return .redundancy }
        if t < stageLengths[0] + stageLengths[1] { return .unique }
        return .synergy
    }
}
