import NN
import Curriculum

/// The curriculum part of a run: which orders the epochs use and where their scores come from.
public struct CurriculumConfig: Sendable {
    public var method = CurriculumMethod.conventional
    public var source = ScoreSource.model
    public var schedule = CurriculumSchedule(warmupEpochs: 0, stageLengths: [2, 2, 2], refreshInterval: 2)
    public var synergy = SynergyForm.paper
    /// Score under training augmentation (the reference code) or evaluation preprocessing.
    public var scoreWithTrainingAugmentation = false
    /// Take the scores from the forward passes of the epoch before each refresh (no extra pass).
    public var harvestScores = false
    /// Diagnostics: with harvesting, also run the scoring pass and report cost and rank agreement.
    public var compareHarvest = false
    /// OGM-GE gradient modulation (alpha), nil when off.
    public var ogmAlpha: Float?
    /// OGM-GE's Gaussian enhancement: noise with the gradient's own standard deviation.
    public var ogmGaussian = false
    public init() {}
}

public enum NonFinitePolicy: String, Sendable { case stop, skip }

/// Hyper-parameters of a training run (the reference recipe's defaults where it has them).
public struct TrainConfig: Sendable {
    /// Samples per rank per step; the global batch is worldSize x this.
    public var batchSize = 16
    public var learningRate = 1e-2
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    /// Runs over the curriculum epochs; the rate is held at `learningRate` during warm-up.
    public var schedule = LRSchedule.constant
    public var remainder = EpochPlan.Remainder.dropLast
    public var bucketBytes = 25 << 20
    public var gradientPrecision = GradientReducer.Precision.float32
    /// Gradient buckets reduced behind the backward pass (true) or all after it (diagnostics).
    public var overlapGradients = true
    /// BatchNorm layers in evaluation mode while training (running statistics, no batch statistics).
    public var freezeBatchNorm = false
    public var seed: UInt64 = 0
    /// What a non-finite loss or gradient on any rank does: stop the job (default) or skip the step.
    public var nonFinitePolicy = NonFinitePolicy.stop
    /// Hidden units of the MLP fusion (recorded in checkpoints so the model can be rebuilt).
    public var fusionHidden = 256
    public var curriculum = CurriculumConfig()
    /// Where checkpoints go (nil: no checkpoints).
    public var runDirectory: String?
    /// Write a checkpoint every this many epochs (and after the last one).
    public var checkpointEvery = 1
    /// How many checkpoints to keep.
    public var keepCheckpoints = 2
    /// Continue from the run directory's latest checkpoint.
    public var resume = false
    /// Samples per forward in the scoring pass and evaluation (no gradients: larger is fine).
    public var evaluationBatchSize = 64
    /// Debugging / tests: write every epoch's global order (rank 0) and each rank's received
    /// indices as text files into this directory.
    public var planDumpDirectory: String?
    /// Write the per-sample scores of every refresh as CSV (rank 0) into this directory.
    public var scoreDumpDirectory: String?
    public init() {}

    public var epochs: Int { curriculum.schedule.totalEpochs }

    /// The learning rate of an epoch: constant through warm-up, then the schedule over the
    /// curriculum epochs.
    public func rate(epoch: Int) -> Double {
        let warm = curriculum.schedule.warmupEpochs
        return epoch < warm ? learningRate : schedule.rate(base: learningRate, epoch: epoch - warm)
    }

    /// What must match for a checkpoint to be resumable: everything that shapes the model, the
    /// data order or the optimisation (not the checkpoint cadence, threads or bucket size).
    public func fingerprint(model: String) -> String {
        let c = curriculum
        return "\(model)|batch=\(batchSize)|lr=\(learningRate)|m=\(momentum)|wd=\(weightDecay)|\(schedule)|\(remainder)|"
            + "\(gradientPrecision)|frozenBN=\(freezeBatchNorm)|seed=\(seed)|\(c.method)|\(c.source)|\(c.schedule)|\(c.synergy)|"
            + "aug=\(c.scoreWithTrainingAugmentation)|harvest=\(c.harvestScores)|ogm=\(String(describing: c.ogmAlpha))/\(c.ogmGaussian)"
    }
}
