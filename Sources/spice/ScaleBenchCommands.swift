import Foundation
import Tensor
import NN
import Data
import Comm
import Training
import Curriculum

/// `spice bench --refresh`, `--plan-cost` and `--hdf5-read`: the measurements behind
/// docs/scaling.md (a curriculum refresh at full N phase by phase, rank 0's plan cost at larger N,
/// HDF5 read throughput per rank with independent and collective MPI-IO reads).
enum ScaleBench {
    static let help = """
    usage: mpirun -np P spice bench --refresh --train FILE [options]
           spice bench --plan-cost LIST [--plan-ranks P] [--batch B]
           mpirun -np P spice bench --hdf5-read FILE [options]

    --refresh: one curriculum refresh on the training set, timed phase by phase: the scoring pass
    (eval-mode forward of each rank's shard, PID and BSS scores), Gatherv of the scores to rank 0,
    global min-max normalisation, the SPICE-E and SPICE-S plans of the first curriculum epoch, and
    the Scatterv of every rank's index list. Rank 0 prints a markdown table (time: max and min
    over ranks; bytes moved) and the peak RSS of rank 0 and of the other ranks.
      --train FILE      training set (HDF5)
      --width N         ResNet18 base width (default 4)
      --fusion F        fusion head (default concat)
      --frame-size N    model input size of frames (default: as stored)
      --eval-batch N    samples per forward (default 64)
      --batch N         per-rank batch of the plan (default 16)
      --curriculum L    methods, comma separated: spice-e, spice-s (default spice-e,spice-s)
      --warmup N --epochs N --refresh K   schedule as for `spice train` (plans are for the first
                        curriculum epoch; defaults 0, 6, 2)
      --seed N          seed of the model and the plans (default 0)
      --threads N       BLAS threads per rank (default 1)
      --dump-plan DIR   write each method's plans as `spice train --dump-plan` does, under DIR/METHOD

    --plan-cost LIST: rank 0's plan work alone at each N in LIST (e.g. 182608,1000000,10000000),
    on random scores, one process per N: normalisation, SPICE-E order, SPICE-S order, per-rank
    slices for --plan-ranks P (default 1024) x --batch B (default 16); peak memory growth.

    --hdf5-read FILE: raw read throughput of the stored samples per rank (no preprocessing).
      --io M            independent (POSIX, each rank alone; default) or collective (MPI-IO,
                        collective transfers)
      --pattern P       shard: each rank reads its contiguous shard in blocks (the scoring pass);
                        batches: random batches of --block samples, one read per batch (sorted
                        indices); samples: random samples one read each; gather: the trainer's
                        reader (HDF5Dataset.gather: random batches of --block, one read per sample,
                        RandomResizedCrop + flip + normalise at the stored size; independent only)
      --block N         samples per read for shard / batches (default 64)
      --limit N         samples per rank at most (default: the whole shard)
      --cold            evict the file from the page cache first (posix_fadvise DONTNEED)
      --seed N          seed of the random patterns (default 0)
      --checksum        print a hash of the bytes each rank read (to compare I/O modes)
    """

    // MARK: refresh

    static func refresh(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["train", "width", "fusion", "frame-size", "eval-batch", "batch", "curriculum", "warmup",
                                              "epochs", "refresh", "seed", "threads", "dump-plan"],
                              switches: ["refresh", "help"])
        if a.has("help") { print(help); return }
        guard let path = a.optional("train") else { throw UsageError("--refresh needs --train FILE") }
        let width = try a.int("width", default: 4, min: 1)
        let frame = try a.int("frame-size", default: 0, min: 0)
        var s = RefreshTiming.Settings()
        s.evaluationBatch = try a.int("eval-batch", default: 64, min: 1)
        s.perRankBatch = try a.int("batch", default: 16, min: 1)
        s.seed = UInt64(try a.int("seed", default: 0, min: 0))
        let epochs = try a.int("epochs", default: 6, min: 1), warmup = try a.int("warmup", default: 0, min: 0)
        guard warmup < epochs else { throw UsageError("--warmup \(warmup) leaves no curriculum epoch of --epochs \(epochs)") }
        s.schedule = CurriculumSchedule(warmupEpochs: warmup, curriculumEpochs: epochs - warmup, refreshInterval: try a.int("refresh", default: 2, min: 1))
        s.methods = try a.string("curriculum", default: "spice-e,spice-s").split(separator: ",").map {
            switch $0 {
            case "spice-e": return .spiceE(redraw: .everyEpoch)
            case "spice-s": return .spiceS
            default: throw UsageError("--curriculum lists spice-e and/or spice-s, got '\($0)'")
            }
        }
        s.planDump = a.optional("dump-plan")
        guard let fusion = FusionKind(rawValue: a.string("fusion", default: "concat")) else {
            throw UsageError("--fusion must be one of \(FusionKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let threads = try a.int("threads", default: 1, min: 1)

        let comm = Communicator.world()
        Parallel.configure(threads: threads)
        var data: HDF5Dataset?, problem = ""
        do { data = try HDF5Dataset(path: path, options: .init(frameSize: frame > 0 ? .init(frame) : nil, seed: s.seed)) }
        catch { problem = "\(error)" }
        comm.requireAll(data != nil, problem, code: 2)
        let train = data!
        if s.perRankBatch * comm.size > train.count {
            comm.failTogether("the global batch (\(comm.size) ranks x \(s.perRankBatch)) is larger than the \(train.count) samples", code: 2)
        }
        let model = MultimodalModel(modalities: train.shapes.map { Modality(name: $0.name, channels: $0.channels, frames: $0.frames) },
                                    classes: train.classes, width: width, fusion: fusion)
        model.initialize(seed: s.seed)
        ReplicaSync.broadcastFromRoot(model, comm)
        let shapes = train.shapes.map { "\($0.name) \($0.frames > 1 ? "\($0.frames)x" : "")\($0.channels)x\($0.height)x\($0.width)" }
        if comm.isRoot {
            print("spice bench --refresh: \(path), N = \(train.count), \(train.classes) classes, \(shapes.joined(separator: " + ")), "
                  + "ResNet18 width \(width) (\(model.parameterCount) parameters), \(comm.size) rank(s) x \(threads) BLAS thread(s) "
                  + "(\(BLASInfo.coreName)), eval batch \(s.evaluationBatch), plan batch \(comm.size) x \(s.perRankBatch)")
        }
        let result: RefreshTiming.Result
        do { result = try RefreshTiming.run(model: model, data: train, comm: comm, settings: s) }
        catch { comm.fail("\(error)") }
        if comm.isRoot {
            print(RefreshTiming.table(result))
            for p in result.plans { print("  \(p.method): order of \(p.orderCount) samples, \(p.steps) steps of \(comm.size) x \(s.perRankBatch)") }
            let rank0Plan = result.phases.filter { $0.place == "rank 0" }.reduce(0) { $0 + $1.seconds }
            print(String(format: "  rank-0 work (normalisation + plans + slices): %.4f s; peak RSS rank 0 %.1f MB, other ranks max %.1f MB",
                         rank0Plan, Double(result.rank0PeakRSS) / 1e6, Double(result.otherPeakRSS) / 1e6))
        }
        comm.finalize()
    }

    // MARK: plan cost

    static func planCost(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["plan-cost", "plan-ranks", "batch", "plan-cost-child"], switches: ["help"])
        if a.has("help") { print(help); return }
        let ranks = try a.int("plan-ranks", default: 1024, min: 1), batch = try a.int("batch", default: 16, min: 1)
        if let child = a.optional("plan-cost-child") {
            guard let n = Int(child), n >= ranks * batch else { throw UsageError("--plan-cost-child needs N >= ranks x batch") }
            let c = try RefreshTiming.planCost(count: n, ranks: ranks, perRankBatch: batch)
            print(String(format: "RESULT {\"n\":%d,\"normalise\":%.5f,\"spice_e\":%.5f,\"spice_s\":%.5f,\"slices\":%.5f,\"baseline_rss\":%d,\"peak_rss\":%d}",
                         c.count, c.normalise, c.spiceE, c.spiceS, c.slices, c.baselineRSS, c.peakRSS))
            return
        }
        let list = a.string("plan-cost", default: "")
        let ns = try list.split(separator: ",").map { s -> Int in
            guard let n = Int(s), n >= ranks * batch else {
                throw UsageError("--plan-cost expects sample counts >= \(ranks) ranks x \(batch), got '\(list)'")
            }
            return n
        }
        guard !ns.isEmpty else { throw UsageError("--plan-cost expects a list of sample counts") }
        print("spice bench --plan-cost: rank 0's plan work on random scores, 1 thread, slices for \(ranks) ranks x \(batch)")
        print("| N | normalise (s) | SPICE-E order (s) | SPICE-S order (s) | per-rank slices (s) | total (s) | peak memory growth (MB) | bytes/sample |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in ns {
            let r = try BenchCommand.runChild([BenchCommand.selfPath, "bench", "--plan-cost-child", "\(n)", "--plan-ranks", "\(ranks)",
                                               "--batch", "\(batch)"])
            func d(_ k: String) -> Double { (r[k] as? NSNumber)?.doubleValue ?? .nan }
            let growth = d("peak_rss") - d("baseline_rss")
            print(String(format: "| %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f | %.0f |", n, d("normalise"), d("spice_e"), d("spice_s"),
                         d("slices"), d("normalise") + d("spice_e") + d("slices"), growth / 1e6, growth / Double(n)))
        }
    }

    // MARK: HDF5 read throughput

    enum Pattern: String { case shard, batches, samples, gather }

    static func hdf5Read(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["hdf5-read", "io", "pattern", "block", "limit", "seed"], switches: ["cold", "checksum", "help"])
        if a.has("help") { print(help); return }
        guard let path = a.optional("hdf5-read") else { throw UsageError("--hdf5-read needs a FILE") }
        guard let mode = HDF5BlockReader.IOMode(rawValue: a.string("io", default: "independent")) else {
            throw UsageError("--io must be independent or collective")
        }
        guard let pattern = Pattern(rawValue: a.string("pattern", default: "shard")) else {
            throw UsageError("--pattern must be shard, batches or samples")
        }
        let block = try a.int("block", default: 64, min: 1), seed = UInt64(try a.int("seed", default: 0, min: 0))
        let limitOption = try a.int("limit", default: 0, min: 0)

        let comm = Communicator.world()
        if a.has("cold") && comm.isRoot { evict(path) }
        if pattern == .gather {
            guard mode == .independent else { comm.failTogether("--pattern gather reads independently (the trainer's reader); drop --io collective", code: 2) }
            return try gatherThroughput(path, comm: comm, block: block, limit: limitOption, seed: seed, cold: a.has("cold"))
        }
        comm.barrier()
        var layout: HDF5BlockReader.Layout?, reader: HDF5BlockReader?, problem = ""
        let tOpen = monotonicSeconds()
        // Every rank validates the file on its own first; the (collective) MPI-IO open follows only
        // when all ranks could, so no rank is left waiting in it.
        do { layout = try HDF5BlockReader.layout(of: path) } catch { problem = "\(error)" }
        comm.requireAll(layout != nil, problem, code: 2)
        do { reader = try HDF5BlockReader(path: path, mode: mode, layout: layout!) } catch { problem = "\(error)" }
        comm.requireAll(reader != nil, problem, code: 2)
        let r = reader!
        let openSeconds = monotonicSeconds() - tOpen
        let shard = ScoringPass.shard(count: r.count, rank: comm.rank, size: comm.size)
        let limit = limitOption > 0 ? min(limitOption, shard.count) : shard.count
        let rowBytes = r.specs.indices.reduce(0) { $0 + r.sampleBytes($1) }
        let buffers = r.specs.indices.map { UnsafeMutableRawPointer.allocate(byteCount: r.sampleBytes($0) * block, alignment: 64) }
        defer { buffers.forEach { $0.deallocate() } }

        // The reads of this rank: ranges (shard) or sorted index batches; padded with empty reads
        // so every rank makes the same number of calls (collective mode needs that).
        var reads: [[Int]] = []
        switch pattern {
        case .shard:
            var s = shard.lowerBound
            while s < shard.lowerBound + limit { let e = min(s + block, shard.lowerBound + limit); reads.append(Array(s..<e)); s = e }
        case .batches, .samples, .gather:
            var rng = SeededRandom(seed: seed, stream: 0x4844_4635, UInt64(comm.rank))
            let per = pattern == .samples ? 1 : block
            var left = limit
            while left > 0 {
                let k = min(per, left)
                var picked = Set<Int>()
                while picked.count < k { picked.insert(rng.below(r.count)) }
                reads.append(picked.sorted()); left -= k
            }
        }
        let calls = Int(comm.allreduce(Int64(reads.count), op: .max))
        while reads.count < calls { reads.append([]) }

        comm.barrier()
        let t0 = monotonicSeconds()
        var samples = 0
        // --checksum: FNV-1a over every byte read, in read order (to compare I/O modes; slows the reads).
        let checksum = a.has("checksum")
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        do {
            for batch in reads {
                for m in r.specs.indices {
                    if pattern == .shard, let first = batch.first {
                        try r.read(modality: m, start: first, count: batch.count, into: buffers[m])
                    } else if pattern == .shard {
                        try r.read(modality: m, start: 0, count: 0, into: nil)
                    } else {
                        try r.read(modality: m, sorted: batch, into: batch.isEmpty ? nil : buffers[m])
                    }
                    if checksum {
                        let p = buffers[m].assumingMemoryBound(to: UInt8.self)
                        for j in 0..<(batch.count * r.sampleBytes(m)) { hash = (hash ^ UInt64(p[j])) &* 0x100_0000_01B3 }
                    }
                }
                samples += batch.count
            }
        } catch { comm.fail("\(error)") }
        let mine = monotonicSeconds() - t0
        r.close()
        let slowest = comm.allreduce(mine, op: .max), fastest = comm.allreduce(mine, op: .min)
        let total = comm.allreduce(Int64(samples), op: .sum)
        let hashes = comm.gather(Int64(bitPattern: hash))
        if comm.isRoot, checksum, let hashes {
            print("CHECKSUM " + hashes.map { String(UInt64(bitPattern: $0), radix: 16) }.joined(separator: ","))
        }
        if comm.isRoot {
            let chunk = r.chunkSamples.map(String.init).joined(separator: "/")
            let perRank = Double(samples * rowBytes) / mine / 1e6
            print(String(format: "RESULT {\"io\":\"%@\",\"pattern\":\"%@\",\"ranks\":%d,\"block\":%d,\"chunk_samples\":\"%@\",\"cold\":%@,"
                         + "\"samples_per_rank\":%d,\"sample_bytes\":%d,\"open_s\":%.4f,\"seconds_max\":%.4f,\"seconds_min\":%.4f,"
                         + "\"rank0_mb_per_s\":%.1f,\"rank0_samples_per_s\":%.1f,\"aggregate_mb_per_s\":%.1f,\"reads_per_rank\":%d}",
                         mode.rawValue, pattern.rawValue, comm.size, block, chunk, a.has("cold") ? "true" : "false", samples, rowBytes,
                         openSeconds, slowest, fastest, perRank, Double(samples) / mine,
                         Double(Int(total) * rowBytes) / slowest / 1e6, calls))
        }
        comm.finalize()
    }

    /// The training read path: HDF5Dataset.gather of random batches (one HDF5 read per sample and
    /// modality, training augmentation), per rank.
    static func gatherThroughput(_ path: String, comm: Communicator, block: Int, limit: Int, seed: UInt64, cold: Bool) throws {
        comm.barrier()
        var data: HDF5Dataset?, problem = ""
        do { data = try HDF5Dataset(path: path, options: .init(seed: seed)) } catch { problem = "\(error)" }
        comm.requireAll(data != nil, problem, code: 2)
        let d = data!
        let shard = ScoringPass.shard(count: d.count, rank: comm.rank, size: comm.size)
        let total = limit > 0 ? min(limit, shard.count) : shard.count
        var rng = SeededRandom(seed: seed, stream: 0x4741_5448, UInt64(comm.rank))
        let inputs = d.shapes.map { _ in Tensor(shape: [0]) }
        let chunk: String = (try? HDF5BlockReader(path: path, mode: .independent))?.chunkSamples.map(String.init).joined(separator: "/") ?? "?"
        comm.barrier()
        let t0 = monotonicSeconds()
        var done = 0
        do {
            while done < total {
                let k = min(block, total - done)
                let batch = (0..<k).map { _ in rng.below(d.count) }
                _ = try d.gather(batch[...], into: inputs, epoch: 0, training: true)
                done += k
            }
        } catch { comm.fail("\(error)") }
        let mine = monotonicSeconds() - t0
        let slowest = comm.allreduce(mine, op: .max), fastest = comm.allreduce(mine, op: .min)
        let all = comm.allreduce(Int64(done), op: .sum)
        let rowBytes = d.modalities.reduce(0) { $0 + $1.spec.sampleCount * $1.spec.storage.bytes }
        if comm.isRoot {
            print(String(format: "RESULT {\"io\":\"independent\",\"pattern\":\"gather\",\"ranks\":%d,\"block\":%d,\"chunk_samples\":\"%@\",\"cold\":%@,"
                         + "\"samples_per_rank\":%d,\"sample_bytes\":%d,\"seconds_max\":%.4f,\"seconds_min\":%.4f,\"rank0_mb_per_s\":%.1f,"
                         + "\"rank0_samples_per_s\":%.1f,\"aggregate_mb_per_s\":%.1f}", comm.size, block, chunk, cold ? "true" : "false", done,
                         rowBytes, slowest, fastest, Double(done * rowBytes) / mine / 1e6, Double(done) / mine,
                         Double(Int(all) * rowBytes) / slowest / 1e6))
        }
        comm.finalize()
    }

    /// Drops the file's pages from the page cache (clean pages only; the file is not modified).
    static func evict(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
}
