import Curriculum

/// Per-epoch figures (global: over all ranks).
public struct EpochReport: Sendable {
    public let epoch: Int, phase: String, steps: Int, learningRate: Double
    public let loss: Double, trainAccuracy: Double
    public let test: ClassificationReport
    public let seconds: Double, samplesPerSecond: Double, exposedCommSeconds: Double, dataWaitSeconds: Double
    /// Optimizer steps taken so far in the run.
    public let gradientUpdates: Int
    /// When scores were refreshed before this epoch: a summary line (rank 0 only).
    public let refresh: String?
}
