import Foundation
import Tensor
import NN
import Comm

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
    public let config: String, threads: Int, ranks: Int
    public let trainSeconds: [Double], forwardSeconds: [Double]
    /// Medians per training step: forward + losses, backward (with overlapped communication),
    /// exposed communication (waiting for gradient buckets after backward), optimizer step.
    public let phases: (forward: Double, backward: Double, exposedComm: Double, optimizer: Double)
    public let trainFLOPs: Double, forwardFLOPs: Double, batch: Int, peakRSS: Int
    /// Training samples/s summed over ranks (each rank's median step).
    public let totalTrainSamplesPerSecond: Double

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

    public var json: String {
        String(format: "{\"config\":\"%@\",\"ranks\":%d,\"threads\":%d,\"batch\":%d,\"train_step_s_median\":%.5f,\"train_samples_per_s\":%.4f,"
               + "\"total_train_samples_per_s\":%.4f,\"train_gflops_per_s\":%.2f,\"fwd_s_median\":%.5f,\"fwd_samples_per_s\":%.4f,"
               + "\"fwd_gflops_per_s\":%.2f,\"forward_s\":%.5f,\"backward_s\":%.5f,\"exposed_comm_s\":%.5f,\"optimizer_s\":%.5f,"
               + "\"data_wait_s\":0,\"max_rss_mb\":%.1f,\"blas_core\":\"%@\"}",
               config, ranks, threads, batch, trainMedian, trainSamplesPerSecond, totalTrainSamplesPerSecond, trainGFLOPs,
               forwardMedian, forwardSamplesPerSecond, forwardGFLOPs, phases.forward, phases.backward, phases.exposedComm,
               phases.optimizer, Double(peakRSS) / 1_048_576, BLASInfo.coreName)
    }
}

/// Times the full two-encoder training step (forward, 3 CE losses, backward, gradient allreduce
/// when there are several ranks, SGD) and the evaluation-mode forward pass, on random inputs held
/// in memory (so data wait is zero by construction), as the PyTorch anchors do.
public enum Benchmark {
    public static func run(_ c: BenchConfig, comm: Communicator, classes: Int = 10, warmup: Int = 2, steps: Int = 5,
                           forwardWarmup: Int = 1, forwardSteps: Int = 5, seed: UInt64 = 0, bucketBytes: Int = 25 << 20) -> BenchResult {
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1),
                                                 Modality(name: "visual", channels: 3, frames: c.frames)], classes: classes)
        model.initialize(seed: seed)
        let params = model.namedState().parameters.map(\.parameter)
        let sgd = SGD(parameters: params, learningRate: 0.01)
        let reducer = comm.size > 1 ? GradientReducer(parameters: params, communicator: comm, bucketBytes: bucketBytes) : nil
        ReplicaSync.broadcastFromRoot(model, comm)
        var rng = SeededRandom(seed: seed, stream: 0xBE7C, UInt64(comm.rank))
        let audio = Tensor(shape: [c.batch, 1, c.audio.0, c.audio.1])
        let visual = Tensor(shape: [c.batch * c.frames, 3, c.visual.0, c.visual.1])
        rng.fillNormal(audio); rng.fillNormal(visual)
        let labels = (0..<c.batch).map { _ in Int32(rng.below(classes)) }
        var fwd: [Double] = [], bwd: [Double] = [], comms: [Double] = [], opt: [Double] = []
        func step(record: Bool) {
            let t0 = monotonicSeconds()
            _ = model.loss(model.forward([audio, visual]), labels: labels)
            let t1 = monotonicSeconds()
            model.backward()
            let t2 = monotonicSeconds()
            reducer?.finish()
            let t3 = monotonicSeconds()
            sgd.step()
            let t4 = monotonicSeconds()
            if record { fwd.append(t1 - t0); bwd.append(t2 - t1); comms.append(t3 - t2); opt.append(t4 - t3) }
        }
        model.setTraining(true)
        for _ in 0..<warmup { step(record: false) }
        comm.barrier()
        var train: [Double] = []
        for _ in 0..<steps { let t0 = monotonicSeconds(); step(record: true); train.append(monotonicSeconds() - t0) }
        let flops = model.lastForwardFLOPs
        model.setTraining(false)
        for _ in 0..<forwardWarmup { _ = model.forward([audio, visual]) }
        var fwdOnly: [Double] = []
        for _ in 0..<forwardSteps { let t0 = monotonicSeconds(); _ = model.forward([audio, visual]); fwdOnly.append(monotonicSeconds() - t0) }
        let total = comm.allreduce(Double(c.batch) / BenchResult.median(train), op: .sum)
        return BenchResult(config: c.name, threads: BLASInfo.threads, ranks: comm.size, trainSeconds: train, forwardSeconds: fwdOnly,
                           phases: (BenchResult.median(fwd), BenchResult.median(bwd), BenchResult.median(comms), BenchResult.median(opt)),
                           trainFLOPs: 3 * flops, forwardFLOPs: flops, batch: c.batch, peakRSS: peakRSSBytes(),
                           totalTrainSamplesPerSecond: total)
    }
}
