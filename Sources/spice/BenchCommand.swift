import Foundation
import Tensor
import Training
import Comm

/// `spice bench`: the training-step / forward benchmark, optionally side by side with PyTorch.
enum BenchCommand {
    static let help = """
    usage: spice bench [options]

    Times the full training step (both ResNet18 encoders, three heads, three cross-entropies,
    backward, SGD) and the evaluation forward pass on the PyTorch anchor configurations:
      (a) audio 1x64x64 + visual 3x64x64, batch 32
      (b) audio 1x257x188 + visual 3x224x224, batch 16
      (c) audio 1x257x1004 + visual 3x224x224 x3 frames, batch 8
    Each configuration runs in its own process (so peak RSS is per configuration). Every process
    first measures the sgemm ceiling with its thread count (1024^3 products, one per thread) and
    reports achieved GFLOP/s (direct-convolution FLOPs) as a fraction of it (MFU). Besides the wall
    clock it reports each step on the CPU critical-path clock (CPU time outside parallel regions,
    the slowest worker's CPU time inside them): the time with every thread on a free core, which
    stays meaningful on a machine shared with other jobs. MFU and --per-layer use that clock.

      --config LIST   configurations, comma separated (default a,b,c)
      --threads N     compute threads: kernel workers splitting every layer (OpenBLAS itself runs
                      1 thread); default 1. A list (e.g. 1,2) runs each count in turn, interleaved
                      round by round, and prints the speed-up of each over the first
      --per-layer     also print each convolution's forward / data-gradient / weight-gradient time,
                      GFLOP/s and fraction of the sgemm ceiling, its algorithm, and the time of the
                      other passes (BatchNorm+ReLU, pooling, residual adds, SGD, the rest)
      --warmup N      untimed training steps (default 2)
      --steps N       timed training steps (default 5)
      --fwd-steps N   timed forward passes (default 5)
      --torch PYTHON  also run the PyTorch anchor (launch/anchors/torch_resnet_bench.py) with this
                      python, interleaved with ours, and print the ratios
      --rounds N      alternate ours/PyTorch N times per configuration (default 1)
      --anchors DIR   where torch_resnet_bench.py lives (default: launch/anchors next to the build)
      --ranks LIST    scaling benchmark: run the training step under mpirun with these rank counts
                      (e.g. 1,2), each rank bound to its own core(s) with --threads threads;
                      prints per-rank and total samples/s, scaling efficiency and the step's time
                      breakdown; with --torch also PyTorch DDP (gloo) via torch_ddp_bench.py
      --bucket-mb X   gradient bucket size for --ranks (default 25)
      --grad-precision LIST  for --ranks: gradient allreduce precision(s), float32 and/or bfloat16
                      (default float32); every combination with --overlap is measured
      --overlap LIST  for --ranks: on (buckets reduced behind backward, the default) and/or off
                      (every bucket reduced after backward: all communication exposed)
      --compute-baseline  for --ranks: also run each rank count with no gradient exchange (every
                      rank steps on its own gradients): the compute-only throughput of that many
                      ranks here, so the summary separates communication from CPU contention
      --hostfile FILE for --ranks: launch through launch/multinode across the nodes of FILE
                      instead of mpirun on this machine; np ranks use the first np/R nodes
                      (launch/simulate-nodes exports SPICE_HOSTFILE for its simulated nodes)
      --ranks-per-node R  with --hostfile (default 1)
      With --ranks, --rounds N repeats the whole set N times, interleaved, and prints medians.

    Scale measurements (docs/scaling.md; `spice bench --refresh --help` for their options):
      --refresh --train FILE   one curriculum refresh at the file's N, phase by phase (under mpirun)
      --plan-cost LIST         rank 0's plan build time and memory at larger N
      --hdf5-read FILE         HDF5 read throughput per rank, independent or collective (under mpirun)
    """

    static func run(_ argv: [String]) throws {
        if argv.contains("--refresh") { return try ScaleBench.refresh(argv) }
        if argv.contains(where: { $0 == "--plan-cost" || $0.hasPrefix("--plan-cost=") || $0 == "--plan-cost-child" }) {
            return try ScaleBench.planCost(argv)
        }
        if argv.contains(where: { $0 == "--hdf5-read" || $0.hasPrefix("--hdf5-read=") }) { return try ScaleBench.hdf5Read(argv) }
        let a = try Arguments(argv, options: ["config", "threads", "warmup", "steps", "fwd-steps", "torch", "rounds", "anchors",
                                              "ranks", "bucket-mb", "grad-precision", "overlap", "hostfile", "ranks-per-node"],
                              switches: ["help", "child", "per-layer", "no-exchange", "compute-baseline"])
        if a.has("help") { print(help); return }
        let names = a.string("config", default: "a,b,c").split(separator: ",").map(String.init)
        let configs = try names.map { n -> BenchConfig in
            guard let c = BenchConfig.named(n) else { throw UsageError("unknown bench config '\(n)' (known: a, b, c)") }
            return c
        }
        let threadList = try a.string("threads", default: "1").split(separator: ",").map { t -> Int in
            guard let n = Int(t), n >= 1 else { throw UsageError("--threads expects a positive integer or a list like 1,2, got '\(a.string("threads", default: "1"))'") }
            return n
        }
        guard !threadList.isEmpty else { throw UsageError("--threads needs a value") }
        let threads = threadList[0]
        if threadList.count > 1 && (a.has("child") || a.optional("ranks") != nil) {
            throw UsageError("a list of thread counts is only for the single-process benchmark (not with --ranks)")
        }
        let warmup = try a.int("warmup", default: 2, min: 0), steps = try a.int("steps", default: 5, min: 1)
        let fwdSteps = try a.int("fwd-steps", default: 5, min: 1)
        let bucketBytes = Int(try a.double("bucket-mb", default: 25, min: 0.001) * 1_048_576)
        let precisions = try a.string("grad-precision", default: "float32").split(separator: ",").map { s -> GradientReducer.Precision in
            guard let p = GradientReducer.Precision(rawValue: String(s)) else {
                throw UsageError("--grad-precision expects float32 and/or bfloat16, got '\(s)'")
            }
            return p
        }
        let overlaps = try a.string("overlap", default: "on").split(separator: ",").map { s -> Bool in
            switch s { case "on": return true; case "off": return false
            default: throw UsageError("--overlap expects on and/or off, got '\(s)'") }
        }
        if precisions.isEmpty || overlaps.isEmpty { throw UsageError("--grad-precision and --overlap need at least one value") }
        if a.has("child") {
            let comm = Communicator.world()
            Parallel.configure(threads: threads)
            let r = Benchmark.run(configs[0], comm: comm, warmup: warmup, steps: steps, forwardSteps: fwdSteps, bucketBytes: bucketBytes,
                                  perLayer: a.has("per-layer"), precision: precisions[0], overlap: overlaps[0], exchange: !a.has("no-exchange"))
            if comm.isRoot {
                for line in r.layerReport { print(line) }
                print("RESULT " + r.json)
            }
            comm.finalize()
            return
        }
        let perLayer = a.has("per-layer")
        let childArgs = ["bench", "--child", "--warmup", "\(warmup)", "--steps", "\(steps)",
                         "--fwd-steps", "\(fwdSteps)", "--bucket-mb", a.string("bucket-mb", default: "25")] + (perLayer ? ["--per-layer"] : [])
        if let ranksList = a.optional("ranks") {
            let ranks = try ranksList.split(separator: ",").map { s -> Int in
                guard let n = Int(s), n >= 1 else { throw UsageError("--ranks expects a list of positive integers, got '\(ranksList)'") }
                return n
            }
            var launcher = Launcher.local
            if let hostfile = a.optional("hostfile") {
                launcher = try Launcher.nodes(hostfile: hostfile, ranksPerNode: a.int("ranks-per-node", default: 1, min: 1), ranks: ranks)
            } else if a.optional("ranks-per-node") != nil {
                throw UsageError("--ranks-per-node needs --hostfile")
            }
            try scaling(configs: configs, ranks: ranks, threads: threads, childArgs: childArgs + ["--threads", "\(threads)"], torch: a.optional("torch"),
                        anchors: a.optional("anchors") ?? defaultAnchorDirectory(), warmup: warmup, steps: steps,
                        precisions: precisions, overlaps: overlaps, rounds: a.int("rounds", default: 1, min: 1), launcher: launcher,
                        computeBaseline: a.has("compute-baseline"))
            return
        }
        for o in ["grad-precision", "overlap", "hostfile", "ranks-per-node"] where a.optional(o) != nil {
            throw UsageError("--\(o) applies to the scaling benchmark (--ranks)")
        }
        if a.has("compute-baseline") { throw UsageError("--compute-baseline applies to the scaling benchmark (--ranks)") }
        let rounds = try a.int("rounds", default: 1, min: 1)
        let torch = a.optional("torch")
        let anchors = a.optional("anchors") ?? defaultAnchorDirectory()
        if torch != nil, !FileManager.default.fileExists(atPath: anchors + "/torch_resnet_bench.py") {
            throw UsageError("no torch_resnet_bench.py in \(anchors) (use --anchors DIR)")
        }
        let threadText = threadList.map(String.init).joined(separator: " vs ")
        print("spice bench: \(BLASInfo.coreName) kernels, \(threadText) thread(s), warmup \(warmup), \(steps) timed steps, \(fwdSteps) forward passes")
        for c in configs {
            print("config \(c.summary)")
            // ours[t][round], theirs[t][round] for each thread count t, run interleaved round by round.
            var ours = [[[String: Any]]](repeating: [], count: threadList.count), theirs = ours
            for _ in 0..<rounds {
                for (ti, t) in threadList.enumerated() {
                    let r = try runChild([selfPath] + childArgs + ["--threads", "\(t)", "--config", c.name])
                    ours[ti].append(r)
                    if perLayer, let lines = r["_output"] as? [String] { for l in lines { print("  " + l) } }
                    print("  spice   \(t)t " + describe(r))
                    if let torch {
                        let p = try runChild([torch, anchors + "/torch_resnet_bench.py", "--batch", "\(c.batch)",
                                              "--audio-shape", "\(c.audio.0)", "\(c.audio.1)", "--visual-shape", "\(c.visual.0)", "\(c.visual.1)",
                                              "--frames", "\(c.frames)", "--threads", "\(t)", "--warmup", "\(warmup)",
                                              "--steps", "\(steps)", "--fwd-steps", "\(fwdSteps)"])
                        theirs[ti].append(p)
                        print("  pytorch \(t)t " + describe(p))
                    }
                }
            }
            for (ti, t) in threadList.enumerated() where !theirs[ti].isEmpty {
                let trainRatio = median(ours[ti], "train_samples_per_s") / median(theirs[ti], "train_samples_per_s")
                let fwdRatio = median(ours[ti], "fwd_samples_per_s") / median(theirs[ti], "fwd_samples_per_s")
                print(String(format: "  ratio spice/pytorch (%@, %d thread(s)): train %.2fx  forward %.2fx  (medians over %d round(s))",
                             c.name, t, trainRatio, fwdRatio, rounds))
            }
            if threadList.count > 1 {
                // Per-round speed-up of each thread count over the first, then the median and range.
                for ti in 1..<threadList.count {
                    // Wall clock (samples/s), then the CPU critical-path clock (time per step), which
                    // does not count the time other processes hold the cores.
                    for (key, what, inverse) in [("train_samples_per_s", "train step, wall clock", false),
                                                 ("fwd_samples_per_s", "forward, wall clock", false),
                                                 ("train_critical_path_s", "train step, CPU critical path", true),
                                                 ("fwd_critical_path_s", "forward, CPU critical path", true)] {
                        let rs = zip(ours[ti], ours[0]).map { inverse ? num($1, key) / num($0, key) : num($0, key) / num($1, key) }.sorted()
                        let med = rs.count % 2 == 1 ? rs[rs.count / 2] : (rs[rs.count / 2 - 1] + rs[rs.count / 2]) / 2
                        print(String(format: "  speed-up %d vs %d thread(s) (%@, %@): median %.2fx, range %.2f-%.2fx over %d interleaved round(s)",
                                     threadList[ti], threadList[0], c.name, what, med, rs.first ?? .nan, rs.last ?? .nan, rs.count))
                    }
                }
            }
        }
    }

    static func num(_ r: [String: Any], _ key: String) -> Double { (r[key] as? NSNumber)?.doubleValue ?? .nan }

    static var selfPath: String { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path }

    /// How the scaling benchmark starts its ranks: mpirun on this machine (each rank bound to its
    /// own cores), or the project's multi-node launcher across the first nodes of a hostfile.
    enum Launcher {
        case local
        case nodes(script: String, hosts: [String], ranksPerNode: Int)

        static func nodes(hostfile: String, ranksPerNode: Int, ranks: [Int]) throws -> Launcher {
            guard let text = try? String(contentsOfFile: hostfile, encoding: .utf8) else {
                throw UsageError("--hostfile: cannot read '\(hostfile)'")
            }
            let hosts = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            if hosts.isEmpty { throw UsageError("--hostfile: '\(hostfile)' lists no nodes") }
            for np in ranks {
                if np % ranksPerNode != 0 {
                    throw UsageError("--ranks: \(np) is not a multiple of --ranks-per-node \(ranksPerNode)")
                }
                if np / ranksPerNode > hosts.count {
                    throw UsageError("--ranks: \(np) ranks need \(np / ranksPerNode) nodes at \(ranksPerNode) per node; \(hostfile) lists \(hosts.count)")
                }
            }
            let script = URL(fileURLWithPath: defaultAnchorDirectory()).deletingLastPathComponent().appendingPathComponent("multinode").path
            guard FileManager.default.isExecutableFile(atPath: script) else {
                throw UsageError("--hostfile: launch/multinode not found next to this build (looked for \(script))")
            }
            return .nodes(script: script, hosts: hosts, ranksPerNode: ranksPerNode)
        }

        var name: String {
            switch self {
            case .local: return "mpirun on this machine"
            case .nodes(_, let hosts, let r): return "launch/multinode, \(r) rank(s) per node, nodes \(hosts.map { $0.split(separator: " ")[0] }.joined(separator: ", "))"
            }
        }

        /// Runs the benchmark child with np ranks; returns its result and the launch command.
        func run(np: Int, threads: Int, cores: Int, child: [String]) throws -> (result: [String: Any], command: String) {
            switch self {
            case .local:
                var mpirun = ["mpirun", "-np", "\(np)", "-x", "OPENBLAS_NUM_THREADS=\(threads)"]
                mpirun += np * threads <= cores ? ["--map-by", "ppr:\(np):node:PE=\(threads)", "--bind-to", "core"] : ["--oversubscribe", "--bind-to", "none"]
                if getuid() == 0 { mpirun.append("--allow-run-as-root") }
                let command = mpirun + [selfPath] + child
                return (try runChild(command), command.joined(separator: " "))
            case .nodes(let script, let hosts, let perNode):
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("spice-bench-hosts-\(getpid())-\(np)")
                try (hosts.prefix(np / perNode).joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                let r = try runChild([script, file.path, "\(perNode)"] + child, environment: ["SPICE_BIN": selfPath, "CORES_PER_RANK": "\(threads)"])
                let printed = (r["_output"] as? [String] ?? []).first { $0.hasPrefix("+ ") }.map { String($0.dropFirst(2)) } ?? ""
                return (r, "launch/multinode \(file.lastPathComponent) \(perNode) ...  ->  \(printed)")
            }
        }
    }

    /// Training step at each rank count (and gradient precision / overlap), side by side with
    /// PyTorch DDP when asked; with several rounds, the whole set repeats interleaved and the
    /// summary gives medians.
    static func scaling(configs: [BenchConfig], ranks: [Int], threads: Int, childArgs: [String], torch: String?, anchors: String,
                        warmup: Int, steps: Int, precisions: [GradientReducer.Precision], overlaps: [Bool], rounds: Int,
                        launcher: Launcher, computeBaseline: Bool = false) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("spice bench --ranks: \(BLASInfo.coreName) kernels, \(threads) thread(s) per rank, \(cores) cores here, via \(launcher.name)")
        struct Variant: Hashable {
            let np: Int, precision: GradientReducer.Precision, overlap: Bool, exchange: Bool
            init(np: Int, precision: GradientReducer.Precision = .float32, overlap: Bool = true, exchange: Bool = true) {
                self.np = np; self.precision = precision; self.overlap = overlap; self.exchange = exchange
            }
        }
        var variants: [Variant] = []
        for np in ranks {
            if np == 1 { variants.append(Variant(np: 1)); continue }
            if computeBaseline { variants.append(Variant(np: np, exchange: false)) }
            for p in precisions { for o in overlaps { variants.append(Variant(np: np, precision: p, overlap: o)) } }
        }
        func label(_ v: Variant) -> String {
            v.np == 1 ? "np=1" : !v.exchange ? "np=\(v.np) no gradient exchange" : "np=\(v.np) \(v.precision.rawValue) overlap \(v.overlap ? "on" : "off")"
        }
        for c in configs {
            print("config \(c.summary) per rank")
            var results: [Variant: [[String: Any]]] = [:]
            var commands = Set<Int>()
            for round in 0..<rounds {
                for v in variants {
                    let child = childArgs + ["--config", c.name, "--grad-precision", v.precision.rawValue, "--overlap", v.overlap ? "on" : "off"]
                        + (v.exchange ? [] : ["--no-exchange"])
                    let (r, command) = try launcher.run(np: v.np, threads: threads, cores: cores, child: child)
                    if commands.insert(v.np).inserted { print("  + \(command)") }
                    results[v, default: []].append(r)
                    func d(_ k: String) -> Double { (r[k] as? NSNumber)?.doubleValue ?? .nan }
                    let step = d("train_step_s_median")
                    print(String(format: "  %@%@: %.3f s/step, %.2f samples/s per rank, total %.2f samples/s | forward %.3f s, backward %.3f s, "
                                 + "exposed comm %.4f s (%.1f%% of step), optimizer %.3f s, data wait 0%@", rounds > 1 ? "round \(round + 1) " : "",
                                 label(v), step, d("train_samples_per_s"), d("total_train_samples_per_s"), d("forward_s"), d("backward_s"),
                                 d("exposed_comm_s"), 100 * d("exposed_comm_s") / step, d("optimizer_s"),
                                 v.np > 1 && v.exchange ? String(format: ", gradient %.1f MB", d("gradient_mb")) : ""))
                }
            }
            let base = results[Variant(np: 1)].map { median($0, "total_train_samples_per_s") }
            print("  summary (medians over \(rounds) round(s)):")
            print("  | ranks | gradient | overlap | s/step | total samples/s | efficiency vs np=1 |\(computeBaseline ? " vs no exchange |" : "") exposed comm s | % of step |")
            print("  |---|---|---|---|---|---|\(computeBaseline ? "---|" : "")---|---|")
            for v in variants {
                let rs = results[v] ?? []
                let total = median(rs, "total_train_samples_per_s"), step = median(rs, "train_step_s_median"), comm = median(rs, "exposed_comm_s")
                let eff = base.map { String(format: "%.1f%%", 100 * total / (Double(v.np) * $0)) } ?? "-"
                var vsCompute = ""
                if computeBaseline {
                    let free = v.np > 1 ? results[Variant(np: v.np, exchange: false)].map { median($0, "total_train_samples_per_s") } : base
                    vsCompute = " " + (free.map { String(format: "%.1f%%", 100 * total / $0) } ?? "-") + " |"
                }
                print(String(format: "  | %d | %@ | %@ | %.3f | %.2f | %@ |%@ %.4f | %.1f%% |", v.np,
                             v.np == 1 ? "-" : v.exchange ? v.precision.rawValue : "none", v.np == 1 || !v.exchange ? "-" : (v.overlap ? "on" : "off"),
                             step, total, eff, vsCompute, comm, 100 * comm / step))
            }
            if let torch {
                for np in ranks where np > 1 {
                    let t = try runChild([torch, anchors + "/torch_ddp_bench.py", "--nproc", "\(np)", "--threads", "\(threads)",
                                          "--batch", "\(c.batch)", "--audio-shape", "\(c.audio.0)", "\(c.audio.1)",
                                          "--visual-shape", "\(c.visual.0)", "\(c.visual.1)", "--frames", "\(c.frames)",
                                          "--warmup", "\(warmup)", "--steps", "\(steps)", "--baseline", "--mode", "train"])
                    let tt = (t["total_samples_per_s"] as? NSNumber)?.doubleValue ?? .nan
                    let te = (t["scaling_efficiency"] as? NSNumber)?.doubleValue ?? .nan
                    let first = Variant(np: np, precision: precisions[0], overlap: overlaps[0])
                    let ours = median(results[first] ?? [], "total_train_samples_per_s")
                    print(String(format: "  pytorch DDP (gloo) np=%d on this machine: total %.2f samples/s, efficiency %.1f%%  ->  spice (%@)/pytorch %.2fx",
                                 np, tt, 100 * te, label(first), ours / tt))
                }
            }
        }
    }

    static func describe(_ r: [String: Any]) -> String {
        func d(_ k: String) -> Double { (r[k] as? NSNumber)?.doubleValue ?? .nan }
        var text = String(format: "train %.3f s/step %6.2f samples/s %6.1f GFLOP/s | fwd %.3f s %6.2f samples/s %6.1f GFLOP/s | peak RSS %5.0f MB",
                          d("train_step_s_median"), d("train_samples_per_s"), d("train_gflops_per_s"),
                          d("fwd_s_median"), d("fwd_samples_per_s"), d("fwd_gflops_per_s"), d("max_rss_mb"))
        if r["train_cpu_s_per_step"] != nil {
            text += String(format: " | cpu %.2f s/step, critical path train %.3f s fwd %.3f s",
                           d("train_cpu_s_per_step"), d("train_critical_path_s"), d("fwd_critical_path_s"))
        }
        if r["sgemm_ceiling_gflops"] != nil {
            text += String(format: " | MFU (critical path) train %.0f%% fwd %.0f%% of sgemm %.1f GFLOP/s",
                           100 * d("train_mfu"), 100 * d("fwd_mfu"), d("sgemm_ceiling_gflops"))
        }
        return text
    }

    static func median(_ rs: [[String: Any]], _ key: String) -> Double {
        let xs = rs.compactMap { ($0[key] as? NSNumber)?.doubleValue }.sorted()
        guard !xs.isEmpty else { return .nan }
        return xs.count % 2 == 1 ? xs[xs.count / 2] : (xs[xs.count / 2 - 1] + xs[xs.count / 2]) / 2
    }

    /// launch/anchors of the checkout this binary was built in (.build/<config>/spice), else ./launch/anchors.
    static func defaultAnchorDirectory() -> String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let repo = exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = repo.appendingPathComponent("launch/anchors").path
        return FileManager.default.fileExists(atPath: candidate) ? candidate : "launch/anchors"
    }

    /// Runs a benchmark process and returns the JSON of its `RESULT ` line.
    static func runChild(_ command: [String], environment: [String: String] = [:]) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: command[0].contains("/") ? command[0] : "/usr/bin/env")
        p.arguments = command[0].contains("/") ? Array(command.dropFirst()) : command
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0,
              let line = text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }),
              var obj = try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any]
        else {
            throw BenchError("benchmark process failed (exit \(p.terminationStatus)): \(command.joined(separator: " "))\n\(text)")
        }
        obj["_output"] = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("RESULT ") && !$0.isEmpty }
        return obj
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ s: String) { description = s }
}
