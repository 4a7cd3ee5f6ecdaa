import Foundation
import Tensor
import NN

/// The anchor configurations of ../shared/bench (PyTorch's torch_resnet_bench.py).
public struct BenchConfig: Sendable {
    public let name: String, batch: Int, audio: (Int, Int), visual: (Int, Int), frames: Int
    public static let all: [BenchConfig] = [
        BenchConfig(name: "a", batch: 32, audio: (64, 64), visual: (64, 64), frames: 1),
        BenchConfig(name: "b", batch: 16, audio: (257, 188), visual: (224, 224), frames: 1),
        BenchConfig(name: "c", batch: 8, audio: (257, 1004), visual: (224, 224), frames: 3),
    ]
    public static func named(_ n: String) -> BenchConfig? { all.first { $0.name == n } }
    public var summary: String {
        "(\(name)) audio 1x\(audio.0)x\(audio.1) + visual 3x\(visual.0)x\(visual.1)\(frames > 1 ? " x\(frames) frames" : ""), batch \(batch)"
    }
}

public struct BenchResult: Sendable {
    public let config: String, threads: Int
    public let trainSeconds: [Double], forwardSeconds: [Double]
    public let trainFLOPs: Double, forwardFLOPs: Double, batch: Int, peakRSS: Int

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(); let n = s.count
        return n == 0 ? .nan : (n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2)
    }
    public var trainMedian: Double { BenchResult.median(trainSeconds) }
    public var forwardMedian: Double { BenchResult.median(forwardSeconds) }
    public var trainSamplesPerSecond: Double { Double(batch) / trainMedian }
    public var forwardSamplesPerSecond: Double { Double(batch) / forwardMedian }
    public var trainGFLOPs: Double { trainFLOPs / trainMedian / 1e9 }
    public var forwardGFLOPs: Double { forwardFLOPs / forwardMedian / 1e9 }

    public var line: String {
        String(format: "(%@) train %.3f s/step %.2f samples/s %.1f GFLOP/s | fwd %.3f s %.2f samples/s %.1f GFLOP/s | peak RSS %.0f MB",
               config, trainMedian, trainSamplesPerSecond, trainGFLOPs, forwardMedian, forwardSamplesPerSecond, forwardGFLOPs,
               Double(peakRSS) / 1_048_576)
    }

    public var json: String {
        String(format: "{\"config\":\"%@\",\"threads\":%d,\"batch\":%d,\"train_step_s_median\":%.5f,\"train_samples_per_s\":%.4f,\"train_gflops_per_s\":%.2f,\"fwd_s_median\":%.5f,\"fwd_samples_per_s\":%.4f,\"fwd_gflops_per_s\":%.2f,\"max_rss_mb\":%.1f,\"blas_core\":\"%@\"}",
               config, threads, batch, trainMedian, trainSamplesPerSecond, trainGFLOPs, forwardMedian, forwardSamplesPerSecond,
               forwardGFLOPs, Double(peakRSS) / 1_048_576, BLASInfo.coreName)
    }
}

/// Times the full two-encoder training step (forward, 3 CE losses, backward, SGD) and the
/// evaluation-mode forward pass, on random inputs, as the PyTorch anchor does.
public enum Benchmark {
    public static func run(_ c: BenchConfig, classes: Int = 10, warmup: Int = 2, steps: Int = 5,
                           forwardWarmup: Int = 1, forwardSteps: Int = 5, seed: UInt64 = 0) -> BenchResult {
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1),
                                                 Modality(name: "visual", channels: 3, frames: c.frames)], classes: classes)
        model.initialize(seed: seed)
        let sgd = SGD(parameters: model.namedState().parameters.map(\.parameter), learningRate: 0.01)
        var rng = SeededRandom(seed: seed, stream: 0xBE7C)
        let audio = Tensor(shape: [c.batch, 1, c.audio.0, c.audio.1])
        let visual = Tensor(shape: [c.batch * c.frames, 3, c.visual.0, c.visual.1])
        rng.fillNormal(audio); rng.fillNormal(visual)
        let labels = (0..<c.batch).map { _ in Int32(rng.below(classes)) }
        func step() {
            _ = model.loss(model.forward([audio, visual]), labels: labels)
            model.backward()
            sgd.step()
        }
        model.setTraining(true)
        for _ in 0..<warmup { step() }
        var train: [Double] = []
        for _ in 0..<steps { let t0 = monotonicSeconds(); step(); train.append(monotonicSeconds() - t0) }
        let flops = model.lastForwardFLOPs
        model.setTraining(false)
        for _ in 0..<forwardWarmup { _ = model.forward([audio, visual]) }
        var fwd: [Double] = []
        for _ in 0..<forwardSteps { let t0 = monotonicSeconds(); _ = model.forward([audio, visual]); fwd.append(monotonicSeconds() - t0) }
        return BenchResult(config: c.name, threads: BLASInfo.threads, trainSeconds: train, forwardSeconds: fwd,
                           trainFLOPs: 3 * flops, forwardFLOPs: flops, batch: c.batch, peakRSS: peakRSSBytes())
    }
}
