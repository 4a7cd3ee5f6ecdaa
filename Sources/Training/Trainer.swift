import Foundation
import Tensor
import NN
import Data

/// Hyper-parameters of a training run (the reference recipe's defaults).
public struct TrainConfig: Sendable {
    public var epochs = 5
    public var batchSize = 16
    public var learningRate = 1e-2
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    public var schedule = LRSchedule.constant
    public var seed: UInt64 = 0
    public init() {}
}

/// Per-epoch figures.
public struct EpochReport: Sendable {
    public let epoch: Int, learningRate: Double, loss: Double, trainAccuracy: Double
    public let testAccuracy: Double, seconds: Double, samplesPerSecond: Double
}

/// Single-process training of a multimodal model on an in-memory dataset: seeded shuffling,
/// drop_last batching, SGD with a per-epoch learning-rate schedule, evaluation each epoch.
public final class Trainer {
    public let model: MultimodalModel
    public let config: TrainConfig
    let optimizer: SGD
    let inputs: [Tensor]

    public init(model: MultimodalModel, config: TrainConfig) {
        self.model = model; self.config = config
        optimizer = SGD(parameters: model.namedState().parameters.map(\.parameter), learningRate: Float(config.learningRate),
                        momentum: config.momentum, weightDecay: config.weightDecay)
        inputs = model.modalities.map { _ in Tensor(shape: [0]) }
    }

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

    public func evaluate(_ data: InMemoryDataset, batchSize: Int) -> Double {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var correct = 0, start = 0
        let all = Array(0..<data.count)
        while start < data.count {
            let idx = all[start..<min(start + batchSize, data.count)]
            let labels = data.gather(idx, into: inputs)
            let pred = Trainer.predictions(model.forward(inputs))
            correct += zip(pred, labels).filter { $0 == Int($1) }.count
            start += batchSize
        }
        return Double(correct) / Double(max(1, data.count))
    }

    public func run(train: InMemoryDataset, test: InMemoryDataset, report: (EpochReport) -> Void) {
        precondition(train.count >= config.batchSize, "batch size \(config.batchSize) exceeds the \(train.count) training samples")
        model.setTraining(true)
        let steps = train.count / config.batchSize
        for epoch in 0..<config.epochs {
            let lr = config.schedule.rate(base: config.learningRate, epoch: epoch)
            optimizer.learningRate = Float(lr)
            var rng = SeededRandom(seed: config.seed, stream: 0xE90C, UInt64(epoch))
            let order = rng.permutation(train.count)
            let t0 = monotonicSeconds()
            var lossSum = 0.0, correct = 0
            for s in 0..<steps {
                let idx = order[(s * config.batchSize)..<((s + 1) * config.batchSize)]
                let labels = train.gather(idx, into: inputs)
                let logits = model.forward(inputs)
                correct += zip(Trainer.predictions(logits), labels).filter { $0 == Int($1) }.count
                lossSum += Double(model.loss(logits, labels: labels).total)
                model.backward()
                optimizer.step()
            }
            let dt = monotonicSeconds() - t0
            let acc = evaluate(test, batchSize: config.batchSize)
            report(EpochReport(epoch: epoch, learningRate: lr, loss: lossSum / Double(steps),
                               trainAccuracy: Double(correct) / Double(steps * config.batchSize),
                               testAccuracy: acc, seconds: dt, samplesPerSecond: Double(steps * config.batchSize) / dt))
        }
    }
}
