import Tensor

/// SPICE-S bins: each sample goes to the bin of its dominant normalised score,
/// argmax(R^, U^, S^). Ties go to the earliest component (R before U before S, like numpy's
/// argmax), i.e. a tied sample enters training at the earlier stage.
public struct StageBins: Sendable, Equatable {
    /// The bin of every sample.
    public let assignment: [PIDComponent]
    /// Sample counts of bins R, U, S.
    public let sizes: [Int]

    public var count: Int { assignment.count }

    public init(_ scores: NormalisedScores) {
        var a = [PIDComponent](repeating: .redundancy, count: scores.count)
        var sizes = [0, 0, 0]
        for i in 0..<scores.count {
            let r = scores.redundancy[i], u = scores.unique[i], s = scores.synergy[i]
            let bin: PIDComponent = (r >= u && r >= s) ? .redundancy : (u >= s ? .unique : .synergy)
            a[i] = bin
            sizes[bin.rawValue] += 1
        }
        assignment = a
        self.sizes = sizes
    }

    /// The training set of a stage (eq. 16): stage R trains on bin R, stage U on R and U, stage S on
    /// everything. A set with fewer than `minimumCount` samples (empty by default) is replaced by
    /// the next stage's set, so an empty R bin trains on R and U, and if that is also too small,
    /// on everything. Pass the global batch size as `minimumCount` to guarantee at least one step.
    public func trainingSet(stage: PIDComponent, minimumCount: Int = 1) -> StageSet {
        var used = stage
        while used != .synergy && setSize(used) < max(minimumCount, 1) { used = PIDComponent(rawValue: used.rawValue + 1)! }
        var indices = [Int]()
        indices.reserveCapacity(setSize(used))
        for i in 0..<count where assignment[i].rawValue <= used.rawValue { indices.append(i) }
        return StageSet(indices: indices, requested: stage, used: used)
    }

    /// The stage's training set in a seeded random order for one epoch.
    public func order(stage: PIDComponent, seed: UInt64, epoch: Int, minimumCount: Int = 1) -> StageSet {
        var set = trainingSet(stage: stage, minimumCount: minimumCount)
        var rng = CurriculumStream.spiceS.generator(seed: seed, epoch: epoch)
        shuffle(&set.indices, &rng)
        return set
    }

    func setSize(_ stage: PIDComponent) -> Int { sizes[...stage.rawValue].reduce(0, +) }
}

/// The samples one SPICE-S epoch trains on; `used` differs from `requested` after a fallback.
public struct StageSet: Sendable, Equatable {
    public var indices: [Int]
    public let requested: PIDComponent
    public let used: PIDComponent

    public var fellBack: Bool { used != requested }
}
