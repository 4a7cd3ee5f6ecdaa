import Foundation
import Tensor
import NN
import Data
import Comm

/// Hyper-parameters of a training run (the reference recipe's defaults).
public struct TrainConfig: Sendable {
    public var epochs = 5
    /// Samples per rank per step; the global batch is worldSize x this.
    public var batchSize = 16
    public var learningRate = 1e-2
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    public var schedule = LRSchedule.constant
    public var remainder = EpochPlan.Remainder.dropLast
    public var bucketBytes = 25 << 20
    public var gradientPrecision = GradientReducer.Precision.float32
    /// BatchNorm layers in evaluation mode while training (running statistics, no batch statistics).
    public var freezeBatchNorm = false
    public var seed: UInt64 = 0
    /// Where checkpoints go (nil: no checkpoints).
    public var runDirectory: String?
    /// Write a checkpoint every this many epochs (and after the last one).
    public var checkpointEvery = 1
    /// How many checkpoints to keep.
    public var keepCheckpoints = 2
    /// Continue from the run directory's latest checkpoint.
    public var resume = false
    public init() {}

    /// What must match for a checkpoint to be resumable: everything that shapes the model, the
    /// data order or the optimisation (not the checkpoint cadence, threads or bucket size).
    public func fingerprint(model: String) -> String {
        "\(model)|epochs=\(epochs)|batch=\(batchSize)|lr=\(learningRate)|m=\(momentum)|wd=\(weightDecay)|\(schedule)|"
            + "\(remainder)|\(gradientPrecision)|frozenBN=\(freezeBatchNorm)|seed=\(seed)"
    }
}

/// Per-epoch figures (global: summed over ranks).
public struct EpochReport: Sendable {
    public let epoch: Int, steps: Int, learningRate: Double, loss: Double, trainAccuracy: Double
    public let testAccuracy: Double, seconds: Double, samplesPerSecond: Double, exposedCommSeconds: Double
}

/// Data-parallel training: every rank holds a replica, trains on its slice of each global batch,
/// and averages gradients with the other ranks before every SGD step. With one rank it is plain
/// single-process training.
public final class Trainer {
    public let model: MultimodalModel
    public let config: TrainConfig
    public let comm: Communicator
    let optimizer: SGD
    let reducer: GradientReducer?
    let inputs: [Tensor]

    public init(model: MultimodalModel, config: TrainConfig, comm: Communicator) {
        self.model = model; self.config = config; self.comm = comm
        let params = model.namedState().parameters.map(\.parameter)
        optimizer = SGD(parameters: params, learningRate: Float(config.learningRate),
                        momentum: config.momentum, weightDecay: config.weightDecay)
        reducer = comm.size > 1 ? GradientReducer(parameters: params, communicator: comm, bucketBytes: config.bucketBytes,
                                                     precision: config.gradientPrecision) : nil
        inputs = model.modalities.map { _ in Tensor(shape: [0]) }
        ReplicaSync.broadcastFromRoot(model, comm)
    }

    func setTrainingMode() { model.setTraining(!config.freezeBatchNorm) }

    /// Prediction = argmax(z_fusion + sum_m z_m) (the paper's eq. 18-19).
    static func predictions(_ logits: MultimodalModel.Logits) -> [Int] {
        let b = logits.fusion.shape[0], c = logits.fusion.shape[1]
        return (0..<b).map { n in
            var best = 0, bestScore = -Float.infinity
            for k in 0..<c {
                var s = logits.fusion.data[n * c + k]
                for u in logits.unimodal { s += u.data[n * c + k] }
                if s > bestScore { bestScore = s; best = k }
            }
            return best
        }
    }

    /// Each rank evaluates a contiguous slice of the test set; the per-sample predictions are
    /// gathered to rank 0, which computes the metric (so it is exact, not averaged per rank) and
    /// sends it to everyone.
    public func evaluate(_ data: InMemoryDataset, batchSize: Int) -> Double {
        ReplicaSync.averageBuffers(model, comm)
        model.setTraining(false)
        defer { setTrainingMode() }
        let lo = data.count * comm.rank / comm.size, hi = data.count * (comm.rank + 1) / comm.size
        var correct: [Int32] = []
        var start = lo
        let all = Array(0..<data.count)
        while start < hi {
            let idx = all[start..<min(start + batchSize, hi)]
            let labels = data.gather(idx, into: inputs)
            correct += zip(Trainer.predictions(model.forward(inputs)), labels).map { $0 == Int($1) ? 1 : 0 }
            start += batchSize
        }
        var acc = [0.0]
        if let everything = comm.gatherv(correct) {
            acc[0] = Double(everything.reduce(0) { $0 + Int($1) }) / Double(max(1, everything.count))
        }
        comm.broadcast(&acc)
        return acc[0]
    }

    var globalStep = 0

    func injectFaults(step: Int) throws {
        guard let f = FaultInjection.current else { return }
        if f.fires(rank: comm.rank, step: step, .throw) { throw InjectedFault(description: "injected fault at step \(step)") }
        if f.fires(rank: comm.rank, step: step, .exit) { exit(3) }
        if f.fires(rank: comm.rank, step: step, .perturb) { model.fusionHead.bias.value[0] += 1e-3 }
    }

    /// Loads the latest checkpoint on rank 0 and gives its state to every rank. Returns the
    /// number of epochs already done.
    func resumeFromCheckpoint(_ dir: String, fingerprint: String) -> Int {
        var header: [Int64] = [0, 0, 0]
        if comm.isRoot {
            do {
                let st = try Checkpoint.load(runDir: dir, model: model, optimizer: optimizer, configFingerprint: fingerprint, worldSize: comm.size)
                header = [Int64(st.epochsDone), Int64(st.globalStep), st.optimizerStarted ? 1 : 0]
            } catch {
                header = [-1, 0, 0]
                FileHandle.standardError.write("spice: cannot resume: \(error)\n".data(using: .utf8)!)
            }
        }
        comm.broadcast(&header)
        if header[0] < 0 { comm.failTogether("resume failed (see the message above)", code: 1) }
        ReplicaSync.broadcastFromRoot(model, comm)
        for v in optimizer.momentumBuffers { comm.broadcast(v.data, count: v.count) }
        optimizer.hasStarted = header[2] == 1
        globalStep = Int(header[1])
        return Int(header[0])
    }

    func saveCheckpoint(_ dir: String, epochsDone: Int, fingerprint: String) {
        if comm.isRoot {
            let st = Checkpoint.State(epochsDone: epochsDone, globalStep: globalStep, worldSize: comm.size,
                                      optimizerStarted: optimizer.hasStarted, configFingerprint: fingerprint)
            do {
                try Checkpoint.save(runDir: dir, model: model, optimizer: optimizer, state: st, keep: config.keepCheckpoints)
            } catch {
                comm.fail("checkpoint after epoch \(epochsDone) failed: \(error)")
            }
        }
        comm.barrier()
    }

    public func run(train: InMemoryDataset, test: InMemoryDataset, modelDescription: String = "",
                    report: (EpochReport) -> Void) throws {
        setTrainingMode()
        let fingerprint = config.fingerprint(model: modelDescription)
        var startEpoch = 0
        if config.resume, let dir = config.runDirectory { startEpoch = resumeFromCheckpoint(dir, fingerprint: fingerprint) }
        for epoch in startEpoch..<config.epochs {
            let plan = try EpochPlan(order: EpochPlan.shuffled(count: train.count, seed: config.seed, epoch: epoch),
                                     rank: comm.rank, worldSize: comm.size, perRankBatch: config.batchSize, remainder: config.remainder)
            let lr = config.schedule.rate(base: config.learningRate, epoch: epoch)
            optimizer.learningRate = Float(lr)
            let t0 = monotonicSeconds()
            var lossSum = 0.0, correct = 0.0, exposed = 0.0
            for s in 0..<plan.steps {
                try injectFaults(step: globalStep)
                globalStep += 1
                let labels = train.gather(plan.batch(s), into: inputs)
                let logits = model.forward(inputs)
                correct += Double(zip(Trainer.predictions(logits), labels).filter { $0 == Int($1) }.count)
                lossSum += Double(model.loss(logits, labels: labels).total)
                model.backward()
                if let reducer { reducer.finish(); exposed += reducer.lastExposedSeconds }
                optimizer.step()
            }
            let dt = monotonicSeconds() - t0
            ReplicaSync.verify(model, steps: plan.steps, epoch: epoch, comm)
            let sums = comm.allreduce([lossSum, correct, dt, exposed])
            let acc = evaluate(test, batchSize: config.batchSize)
            let samples = Double(plan.steps * config.batchSize * comm.size)
            report(EpochReport(epoch: epoch, steps: plan.steps, learningRate: lr,
                               loss: sums[0] / Double(max(1, plan.steps * comm.size)),
                               trainAccuracy: sums[1] / max(1, samples), testAccuracy: acc,
                               seconds: sums[2] / Double(comm.size), samplesPerSecond: samples / (sums[2] / Double(comm.size)),
                               exposedCommSeconds: sums[3] / Double(comm.size)))
            if let dir = config.runDirectory, (epoch + 1) % max(1, config.checkpointEvery) == 0 || epoch + 1 == config.epochs {
                saveCheckpoint(dir, epochsDone: epoch + 1, fingerprint: fingerprint)
            }
        }
    }
}
