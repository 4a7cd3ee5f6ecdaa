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
    /// sgemm GFLOP/s measured at start-up with the same worker count (`Benchmark.sgemmCeiling`).
    public let sgemmCeiling: Double
    /// The per-layer table (markdown lines) when asked for, else empty.
    public let layerReport: [String]
    /// CPU time (user + system, all threads) per timed training step: on a shared machine, wall time
    /// over CPU time shows how much of the requested cores the process actually got.
    public let trainCPUSeconds: Double
    /// Median step / forward time on the CPU critical-path clock (`Parallel.criticalPathSeconds`):
    /// what they take with every worker on a core of its own, whatever else the machine runs.
    public let trainCriticalPath: Double, forwardCriticalPath: Double
    /// Gradient allreduce settings ("none": no exchange) and the gradient size (float32 bytes over all parameters).
    public let precision: String, overlap: Bool, gradientBytes: Int

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
    /// Model-FLOPs utilisation: achieved GFLOP/s (direct-convolution FLOPs) / sgemm ceiling, both
    /// on the CPU critical-path clock (equal to the wall clock when the cores are free).
    public var trainMFU: Double { trainFLOPs / trainCriticalPath / 1e9 / sgemmCeiling }
    public var forwardMFU: Double { forwardFLOPs / forwardCriticalPath / 1e9 / sgemmCeiling }

    public var json: String {
        String(format: "{\"config\":\"%@\",\"ranks\":%d,\"threads\":%d,\"batch\":%d,\"train_step_s_median\":%.5f,\"train_samples_per_s\":%.4f,"
               + "\"total_train_samples_per_s\":%.4f,\"train_gflops_per_s\":%.2f,\"fwd_s_median\":%.5f,\"fwd_samples_per_s\":%.4f,"
               + "\"fwd_gflops_per_s\":%.2f,\"forward_s\":%.5f,\"backward_s\":%.5f,\"exposed_comm_s\":%.5f,\"optimizer_s\":%.5f,"
               + "\"data_wait_s\":0,\"max_rss_mb\":%.1f,\"blas_core\":\"%@\",\"sgemm_ceiling_gflops\":%.2f,"
               + "\"train_mfu\":%.4f,\"fwd_mfu\":%.4f,\"train_cpu_s_per_step\":%.4f,\"train_critical_path_s\":%.5f,"
               + "\"fwd_critical_path_s\":%.5f,\"grad_precision\":\"%@\",\"overlap\":%@,\"gradient_mb\":%.2f,\"train_step_s\":[%@]}",
               config, ranks, threads, batch, trainMedian, trainSamplesPerSecond, totalTrainSamplesPerSecond, trainGFLOPs,
               forwardMedian, forwardSamplesPerSecond, forwardGFLOPs, phases.forward, phases.backward, phases.exposedComm,
               phases.optimizer, Double(peakRSS) / 1_048_576, BLASInfo.coreName, sgemmCeiling, trainMFU, forwardMFU, trainCPUSeconds, trainCriticalPath, forwardCriticalPath,
               precision, overlap ? "true" : "false", Double(gradientBytes) / 1e6,
               trainSeconds.map { String(format: "%.5f", $0) }.joined(separator: ","))
    }
}

/// Times the full two-encoder training step (forward, 3 CE losses, backward, gradient allreduce
/// when there are several ranks, SGD) and the evaluation-mode forward pass, on random inputs held
/// in memory (so data wait is zero by construction), as the PyTorch anchors do.
public enum Benchmark {
    /// sgemm throughput in GFLOP/s with the kernels' worker count: every worker multiplies its own
    /// `size` x `size` matrices at once (single-threaded OpenBLAS each, as the kernels call it);
    /// best of `repeats`, timed on the CPU critical-path clock like the steps (so other processes
    /// on a shared machine do not lower it). A large square product is the most favourable shape,
    /// so this is the ceiling against which the model-FLOPs utilisation is quoted.
    public static func sgemmCeiling(size n: Int = 1024, repeats: Int = 5) -> Double {
        let workers = Parallel.workers
        let a = Tensor(shape: [workers, n, n]), b = Tensor(shape: [workers, n, n]), c = Tensor(shape: [workers, n, n])
        var rng = SeededRandom(seed: 5)
        rng.fillNormal(a); rng.fillNormal(b)
        var best = Double.infinity
        let accounting = Parallel.accounting
        Parallel.accounting = true
        for _ in 0..<(repeats + 1) {
            let t0 = Parallel.criticalPathSeconds()
            Parallel.run { w in
                sgemm(m: n, n: n, k: n, a: a.data + w * n * n, lda: n, b: b.data + w * n * n, ldb: n, c: c.data + w * n * n, ldc: n)
            }
            best = min(best, Parallel.criticalPathSeconds() - t0)
        }
        Parallel.accounting = accounting
        return Double(workers) * 2 * Double(n * n * n) / best / 1e9
    }

    public static func run(_ c: BenchConfig, comm: Communicator, classes: Int = 10, warmup: Int = 2, steps: Int = 5,
                           forwardWarmup: Int = 1, forwardSteps: Int = 5, seed: UInt64 = 0, bucketBytes: Int = 25 << 20,
                           perLayer: Bool = false, precision: GradientReducer.Precision = .float32, overlap: Bool = true,
                           exchange: Bool = true) -> BenchResult {
        let ceiling = sgemmCeiling()
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1),
                                                 Modality(name: "visual", channels: 3, frames: c.frames)], classes: classes)
        model.initialize(seed: seed)
        let params = model.namedState().parameters.map(\.parameter)
        let sgd = SGD(parameters: params, learningRate: 0.01)
        // exchange false: no gradient allreduce (each rank steps on its own gradients), the
        // compute-only baseline of comm.size concurrent ranks.
        let reducer = comm.size > 1 && exchange ? GradientReducer(parameters: params, communicator: comm, bucketBytes: bucketBytes,
                                                                  precision: precision, overlap: overlap) : nil
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
            Profile.measure("SGD") { sgd.step() }
            let t4 = monotonicSeconds()
            if record { fwd.append(t1 - t0); bwd.append(t2 - t1); comms.append(t3 - t2); opt.append(t4 - t3) }
        }
        model.setTraining(true)
        for _ in 0..<warmup { step(record: false) }
        comm.barrier()
        let convs = model.encoders.flatMap(\.convolutions)
        if perLayer {
            Profile.enabled = true
            Profile.criticalPathClock = true
            Profile.reset()
            for l in convs { l.times = .init() }
        }
        Parallel.accounting = true
        var train: [Double] = [], trainCP: [Double] = []
        let cpu0 = processCPUSeconds()
        for _ in 0..<steps {
            let t0 = monotonicSeconds(), c0 = Parallel.criticalPathSeconds()
            step(record: true)
            train.append(monotonicSeconds() - t0); trainCP.append(Parallel.criticalPathSeconds() - c0)
        }
        let cpuPerStep = (processCPUSeconds() - cpu0) / Double(steps)
        Profile.enabled = false
        Profile.criticalPathClock = false
        let report = perLayer ? layerReport(model, convs: convs, steps: steps, stepSeconds: trainCP.reduce(0, +) / Double(steps),
                                            ceiling: ceiling) : []
        let flops = model.lastForwardFLOPs
        model.setTraining(false)
        for _ in 0..<forwardWarmup { _ = model.forward([audio, visual]) }
        var fwdOnly: [Double] = [], fwdCP: [Double] = []
        for _ in 0..<forwardSteps {
            let t0 = monotonicSeconds(), c0 = Parallel.criticalPathSeconds()
            _ = model.forward([audio, visual])
            fwdOnly.append(monotonicSeconds() - t0); fwdCP.append(Parallel.criticalPathSeconds() - c0)
        }
        Parallel.accounting = false
        let total = comm.allreduce(Double(c.batch) / BenchResult.median(train), op: .sum)
        return BenchResult(config: c.name, threads: Parallel.workers, ranks: comm.size, trainSeconds: train, forwardSeconds: fwdOnly,
                           phases: (BenchResult.median(fwd), BenchResult.median(bwd), BenchResult.median(comms), BenchResult.median(opt)),
                           trainFLOPs: 3 * flops, forwardFLOPs: flops, batch: c.batch, peakRSS: peakRSSBytes(),
                           totalTrainSamplesPerSecond: total, sgemmCeiling: ceiling, layerReport: report,
                           trainCPUSeconds: cpuPerStep, trainCriticalPath: BenchResult.median(trainCP),
                           forwardCriticalPath: BenchResult.median(fwdCP), precision: reducer == nil ? "none" : precision.rawValue,
                           overlap: overlap, gradientBytes: params.reduce(0) { $0 + 4 * $1.value.count })
    }

    /// Markdown table of the timed training steps: every convolution's forward, data-gradient and
    /// weight-gradient time per step, its GFLOP/s (direct-convolution FLOPs: each pass counts
    /// 2 * N * Cout * OH * OW * Cin * KH * KW) and the fraction of the sgemm ceiling, the algorithm;
    /// then the other passes by category.
    static func layerReport(_ model: MultimodalModel, convs: [Conv2dLayer], steps: Int, stepSeconds: Double,
                            ceiling: Double) -> [String] {
        var names: [ObjectIdentifier: String] = [:]
        for (name, p) in model.namedState().parameters { names[ObjectIdentifier(p)] = String(name.dropLast(".weight".count)) }
        let perStep = 1 / Double(steps)
        func cell(_ seconds: Double, _ flops: Double) -> String {
            guard seconds > 0 else { return "- | - | -" }
            let gf = flops / seconds / 1e9
            return String(format: "%.1f | %.0f | %.0f%%", seconds * 1e3, gf, 100 * gf / ceiling)
        }
        var lines = [String(format: "per-layer, ms per training step (mean of %d; CPU critical-path clock: CPU time, slowest worker of each parallel region), "
                            + "GFLOP/s of direct-convolution FLOPs, %% of the sgemm ceiling %.1f GFLOP/s", steps, ceiling),
                     "| layer | algorithm | input -> output | fwd ms | GFLOP/s | % | dgrad ms | GFLOP/s | % | wgrad ms | GFLOP/s | % |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        var totals = (fwd: 0.0, dgrad: 0.0, wgrad: 0.0, fwdFlops: 0.0, dgradFlops: 0.0, wgradFlops: 0.0)
        for l in convs {
            guard let g = l.lastGeometry else { continue }
            let f = g.forwardFLOPs, t = l.times
            let fwd = t.forward * perStep, dgrad = t.dataGradientCalls > 0 ? t.dataGradient * perStep : 0
            let wgrad = t.weightGradient * perStep
            totals.fwd += fwd; totals.dgrad += dgrad; totals.wgrad += wgrad
            totals.fwdFlops += f; totals.wgradFlops += f
            if dgrad > 0 { totals.dgradFlops += f }
            let shape = "\(g.inChannels)x\(g.height)x\(g.width) -> \(g.outChannels)x\(g.outHeight)x\(g.outWidth) k\(g.kernelH)s\(g.stride)"
            lines.append("| \(names[ObjectIdentifier(l.weight)] ?? "?") | \(l.algorithm(for: g).rawValue) | \(shape) | "
                         + "\(cell(fwd, f)) | \(cell(dgrad, f)) | \(cell(wgrad, f)) |")
        }
        lines.append("| **all convolutions** | | | \(cell(totals.fwd, totals.fwdFlops)) | \(cell(totals.dgrad, totals.dgradFlops)) | "
                     + "\(cell(totals.wgrad, totals.wgradFlops)) |")
        let conv = totals.fwd + totals.dgrad + totals.wgrad
        var rest = stepSeconds - conv
        lines.append("")
        lines.append("| pass | ms per step | share of step |")
        lines.append("|---|---|---|")
        func row(_ name: String, _ seconds: Double) {
            lines.append(String(format: "| %@ | %.1f | %.1f%% |", name, seconds * 1e3, 100 * seconds / stepSeconds))
        }
        row("convolutions (fwd + dgrad + wgrad)", conv)
        for (k, v) in Profile.seconds.sorted(by: { $0.key < $1.key }) where !k.hasPrefix(Profile.insideConvolutions) {
            row(k, v * perStep); rest -= v * perStep
        }
        row("other (heads, losses, frame averaging, glue)", rest)
        row("step", stepSeconds)
        for (k, v) in Profile.seconds.sorted(by: { $0.key < $1.key }) where k.hasPrefix(Profile.insideConvolutions) {
            row(k, v * perStep)
        }
        return lines
    }
}
