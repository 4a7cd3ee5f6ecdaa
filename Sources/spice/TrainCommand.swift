import Foundation
import Tensor
import NN
import Data
import Comm
import Training
import Curriculum

/// `spice train`: data-parallel training (run it under mpirun for several ranks) on a generated
/// dataset — the README's default job until HDF5 data and configs land.
enum TrainCommand {
    static let help = """
    usage: spice train [--config FILE ...] [--set key=value ...] [options]
           (under mpirun: mpirun -np N spice train ..., or launch/local N train ...)

    A config is a JSON object of these options (keys without the dashes, optionally grouped in
    sections such as "data" and "cluster"); several --config files merge in order, --set and
    options on the command line override them (see cluster-configs/).

    Trains the multimodal model (one ResNet18 encoder per modality, fusion + unimodal heads) on
    HDF5 data (--train/--test, see docs/data-format.md; `spice synth` makes some) or, without
    them, on a small in-memory generated dataset. Every rank holds a replica and gradients are
    averaged over ranks. Rank 0 prints one line per epoch.

      --train FILE      training set (HDF5); needs --test
      --test FILE       test set (HDF5)
      --frame-size N    model input size of frame modalities (default: as stored)
      --samples N       training samples (default 512; plus N/2 test samples)
      --classes N       classes (default 8)
      --size N          audio 1xNxN and visual 3xNxN inputs (default 32)
      --width N         ResNet18 base width, 64 = standard (default 8)
      --fusion F        fusion head: concat (default, the paper), sum, film, gated, mlp
      --fusion-hidden N hidden units of the mlp fusion (default 256)
      --epochs N        epochs in all (default 6)
      --curriculum C    conventional (default), spice-e, spice-s, bss, ogm-ge
      --warmup N        warm-up epochs of plain shuffling before the curriculum (default 0)
      --scores S        where SPICE-E/S scores come from: model (default), annotator (the data's
                        ratings, static), hybrid-linear / hybrid-cosine (eq. 20 mix over the curriculum)
      --refresh K       rescore every K curriculum epochs (default 2; first refresh after warm-up)
      --synergy F       synergy score: paper (default), reference (the authors' code) or positive (paper S
                        with negative values clipped to 0: only fused-beats-every-modality samples score)
      --redraw R        SPICE-E order: epoch (default, the paper) or refresh (the reference code)
      --harvest-scores  SPICE-E/S: take the scores from the training forward passes of the epoch before
                        each refresh instead of a separate scoring pass
      --compare-harvest with --harvest-scores, also run the pass and report both costs and agreement
      --score-augmentation   score under training augmentation (the reference code) instead of evaluation
      --ogm-alpha X     OGM-GE modulation strength (default 0.1 with --curriculum ogm-ge)
      --ogm-gaussian    OGM-GE Gaussian enhancement
      --batch N         samples per rank per step (default 16; global batch = ranks x N)
      --remainder R     last incomplete global batch: drop (default) or wrap
      --lr X            learning rate (default 0.05; held through warm-up, then cosine to 0.1 x lr)
      --seed N          seed for data, initialisation and shuffling (default 0)
      --threads N       compute threads per rank (default: cores / ranks on this node)
      --bucket-mb X     gradient allreduce bucket size in MB (default 25)
      --grad-precision P  gradient allreduce in float32 (default) or bfloat16 (half the bytes)
      --overlap on|off  reduce gradient buckets behind the backward pass (on, default) or all
                        after it (off: slower; to measure what the overlap hides)
      --run-dir DIR     write checkpoints to DIR/checkpoints (rank 0; atomic, checksummed)
      --checkpoint-every N   checkpoint every N epochs and after the last (default 1)
      --keep-checkpoints N   keep the newest N checkpoints (default 2)
      --resume          continue from DIR's latest checkpoint (same ranks, same options)
      --eval-batch N    samples per forward in scoring and evaluation (default 64)
      --dump-scores DIR write per-sample scores (CSV: c_m, D_m, R/U/S raw and normalised, bin, kind) at every refresh
      --dump-plan DIR   write each epoch's global order (rank 0) and every rank's indices to DIR
      --non-finite P    a NaN/Inf loss or gradient on any rank: stop (default, names rank, step and tensor)
                        or skip (drop the step on every rank and count it)
      --watchdog-seconds N   end the job when a rank waits longer than N s in one MPI call (default 900; 0 = off)
      --freeze-bn       keep BatchNorm in evaluation mode while training
      --dump-parameters FILE   rank 0 writes the final parameters (float32, state order) to FILE
    """

    static let options: Set<String> = ["samples", "classes", "size", "width", "epochs", "batch", "lr", "seed", "threads",
                                       "remainder", "bucket-mb", "dump-parameters", "grad-precision", "overlap", "run-dir",
                                       "checkpoint-every", "keep-checkpoints",
                                       "curriculum", "warmup", "refresh", "synergy", "redraw", "ogm-alpha", "dump-plan", "eval-batch",
                                       "train", "test", "frame-size", "dump-scores", "fusion", "fusion-hidden", "scores", "non-finite",
                                       "watchdog-seconds"]
    static let switches: Set<String> = ["help", "freeze-bn", "resume", "score-augmentation", "ogm-gaussian", "harvest-scores",
                                        "compare-harvest"]

    static func run(_ argv: [String]) throws {
        let resolved = try ConfigFile.expand(argv, options: options, switches: switches)
        let a = try Arguments(resolved, options: options, switches: switches)
        if a.has("help") { print(help); return }
        let samples = try a.int("samples", default: 512, min: 1), classes = try a.int("classes", default: 8, min: 2)
        let size = try a.int("size", default: 32, min: 8), width = try a.int("width", default: 8, min: 1)
        var config = TrainConfig()
        let epochs = try a.int("epochs", default: 6, min: 1)
        let warmup = try a.int("warmup", default: 0, min: 0)
        guard warmup <= epochs else { throw UsageError("--warmup \(warmup) exceeds --epochs \(epochs)") }
        config.curriculum = try curriculum(a, epochs: epochs, warmup: warmup)
        config.batchSize = try a.int("batch", default: 16, min: 1)
        config.learningRate = try a.double("lr", default: 0.05, min: 0)
        config.seed = UInt64(try a.int("seed", default: 0, min: 0))
        config.schedule = .cosine(tMax: max(1, epochs - warmup), etaMin: 0.1 * config.learningRate)
        config.freezeBatchNorm = a.has("freeze-bn")
        config.bucketBytes = Int(try a.double("bucket-mb", default: 25, min: 0.001) * 1_048_576)
        switch a.string("remainder", default: "drop") {
        case "drop": config.remainder = .dropLast
        case "wrap": config.remainder = .wrap
        case let r: throw UsageError("--remainder must be 'drop' or 'wrap', got '\(r)'")
        }
        guard let precision = GradientReducer.Precision(rawValue: a.string("grad-precision", default: "float32")) else {
            throw UsageError("--grad-precision must be float32 or bfloat16")
        }
        config.gradientPrecision = precision
        switch a.string("overlap", default: "on") {
        case "on": config.overlapGradients = true
        case "off": config.overlapGradients = false
        case let v: throw UsageError("--overlap must be on or off, got '\(v)'")
        }
        guard let nf = NonFinitePolicy(rawValue: a.string("non-finite", default: "stop")) else {
            throw UsageError("--non-finite must be stop or skip")
        }
        config.nonFinitePolicy = nf
        config.fusionHidden = try a.int("fusion-hidden", default: 256, min: 1)
        config.runDirectory = a.optional("run-dir")
        config.planDumpDirectory = a.optional("dump-plan")
        config.scoreDumpDirectory = a.optional("dump-scores")
        config.evaluationBatchSize = try a.int("eval-batch", default: 64, min: 1)
        config.checkpointEvery = try a.int("checkpoint-every", default: 1, min: 1)
        config.keepCheckpoints = try a.int("keep-checkpoints", default: 2, min: 1)
        config.resume = a.has("resume")
        if config.resume && config.runDirectory == nil { throw UsageError("--resume needs --run-dir DIR") }
        let threads = try a.int("threads", default: defaultThreadsPerRank(), min: 1)

        let watchdog = try a.double("watchdog-seconds", default: 900, min: 0)
        let comm = Communicator.world()
        Watchdog.shared.start(seconds: watchdog, rank: comm.rank, size: comm.size)
        Parallel.configure(threads: threads)
        let train: SampleSource, test: SampleSource, dataDescription: String
        if let trainPath = a.optional("train") {
            guard let testPath = a.optional("test") else { throw UsageError("--train needs --test") }
            let frame = try a.int("frame-size", default: 0, min: 0)
            let options = HDF5Dataset.Options(frameSize: frame > 0 ? HDF5Dataset.ImageSize(height: frame, width: frame) : nil, seed: config.seed)
            var opened: (HDF5Dataset, HDF5Dataset)?
            var problem = ""
            do { opened = (try HDF5Dataset(path: trainPath, options: options), try HDF5Dataset(path: testPath, options: options)) }
            catch { problem = "\(error)" }
            comm.requireAll(opened != nil, problem, code: 2)
            train = opened!.0; test = opened!.1
            comm.requireAll(train.shapes == test.shapes && train.classes == test.classes,
                            "\(trainPath) and \(testPath) have different modalities, shapes or class counts", code: 2)
            dataDescription = "\(trainPath) (\(train.count) samples) / \(testPath) (\(test.count))"
        } else {
            let shapes = [InMemoryDataset.ModalityShape(name: "audio", channels: 1, height: size, width: size),
                          InMemoryDataset.ModalityShape(name: "visual", channels: 3, height: size, width: size)]
            let data = SyntheticDataset.make(count: samples + samples / 2, classes: classes, shapes: shapes, noise: 1.5, seed: config.seed)
            (train, test) = split(data, trainCount: samples)
            dataDescription = "\(samples) in-memory generated samples"
        }
        if config.remainder == .dropLast && train.count < comm.size * config.batchSize {
            comm.failTogether("the global batch (\(comm.size) ranks x \(config.batchSize)) is larger than the \(train.count) training samples: "
                              + "use a smaller --batch, fewer ranks or --remainder wrap", code: 2)
        }
        if config.curriculum.source != .model && (train as? SampleMetadata)?.annotatorRatings == nil {
            comm.failTogether("--scores \(a.string("scores", default: "")) needs annotator ratings in the training data "
                              + "(a 'ratings' dataset: spice prepare ratings, or spice synth)", code: 2)
        }
        guard let fusion = FusionKind(rawValue: a.string("fusion", default: "concat")) else {
            throw UsageError("--fusion must be one of \(FusionKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let model = MultimodalModel(modalities: train.shapes.map { Modality(name: $0.name, channels: $0.channels, frames: $0.frames) },
                                    classes: train.classes, width: width, fusion: fusion, fusionHidden: config.fusionHidden)
        model.initialize(seed: config.seed)
        let shapeText = train.shapes.map { "\($0.name) \($0.frames > 1 ? "\($0.frames)x" : "")\($0.channels)x\($0.height)x\($0.width)" }
            .joined(separator: " + ")
        if comm.isRoot {
            print("spice train: \(comm.size) rank(s) x \(threads) thread(s) (\(BLASInfo.coreName) kernels), \(dataDescription), "
                  + "\(train.classes) classes, \(shapeText), ResNet18 width \(width) (\(model.parameterCount) parameters), "
                  + "global batch \(comm.size * config.batchSize), curriculum \(a.string("curriculum", default: "conventional"))")
        }
        if let dir = config.runDirectory, !config.resume,
           FileManager.default.fileExists(atPath: dir + "/checkpoints/latest") || FileManager.default.fileExists(atPath: dir + "/metrics.jsonl") {
            comm.failTogether("--run-dir \(dir) already holds a run; continue it with --resume or choose another directory "
                              + "(nothing was overwritten)", code: 2)
        }
        if let dir = config.runDirectory {
            // Model + momentum + buffers as float32, with room to spare for the temporary copy.
            let problem = comm.isRoot ? RunDirectoryCheck.problem(dir, checkpointBytes: model.parameterCount * 8 + (1 << 20),
                                                                   keep: config.keepCheckpoints) : nil
            comm.requireAll(problem == nil, problem ?? "", code: 2)
        }
        if comm.isRoot, let dir = config.runDirectory {
            // The resolved options (configs, --set and command line merged), so the run can be repeated.
            // A resume never replaces the run's config.json (it may still be refused): it adds
            // config-resume-N.json beside it.
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var name = "config.json"
            if config.resume {
                var n = 1
                while FileManager.default.fileExists(atPath: dir + "/config-resume-\(n).json") { n += 1 }
                name = "config-resume-\(n).json"
            }
            let record: [String: Any] = ["arguments": resolved, "ranks": comm.size, "blas": BLASInfo.summary,
                                         "model_parameters": model.parameterCount]
            if let data = try? JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys]) {
                FileManager.default.createFile(atPath: dir + "/" + name, contents: data)
            }
        }
        let trainer = Trainer(model: model, config: config, comm: comm)
        do {
            let description = "\(dataDescription)|\(shapeText)|classes=\(train.classes)|width=\(width)|fusion=\(fusion)"
            var best = (acc: -1.0, epoch: 0)
            try trainer.run(train: train, test: test, modelDescription: description) { r in
                guard comm.isRoot else { return }
                if r.test.accuracy > best.acc { best = (r.test.accuracy, r.epoch + 1) }
                if let refresh = r.refresh { print("  " + refresh) }
                print(String(format: "epoch %d  %@  steps %d  lr %.4f  loss %.4f  train acc %.3f  test acc %.3f  mAP %.3f  F1 %.3f  "
                             + "updates %d  %.1f samples/s", r.epoch + 1, r.phase, r.steps, r.learningRate, r.loss, r.trainAccuracy,
                             r.test.accuracy, r.test.meanAveragePrecision, r.test.macroF1, r.gradientUpdates, r.samplesPerSecond)
                      + String(format: "  best acc %.3f (epoch %d)  modality acc %@", best.acc, best.epoch,
                               r.test.modalityAccuracy.map { String(format: "%.3f", $0) }.joined(separator: "/")))
            }
        } catch {
            comm.fail("\(error)")
        }
        let (c1, c2) = ReplicaSync.checksum(model)
        if comm.isRoot {
            print(String(format: "final parameter checksum %.9e %.9e (identical on all %d rank(s))", c1, c2, comm.size))
            if let path = a.optional("dump-parameters") { try dumpParameters(model, to: path) }
        }
        comm.finalize()
    }

    static func curriculum(_ a: Arguments, epochs: Int, warmup: Int) throws -> CurriculumConfig {
        var c = CurriculumConfig()
        let refresh = try a.int("refresh", default: 2, min: 1)
        c.schedule = CurriculumSchedule(warmupEpochs: warmup, curriculumEpochs: epochs - warmup, refreshInterval: refresh)
        switch a.string("redraw", default: "epoch") {
        case "epoch", "refresh": break
        case let r: throw UsageError("--redraw must be 'epoch' or 'refresh', got '\(r)'")
        }
        let redraw: OrderRedraw = a.string("redraw", default: "epoch") == "epoch" ? .everyEpoch : .atRefresh
        switch a.string("curriculum", default: "conventional") {
        case "conventional": c.method = .conventional
        case "spice-e": c.method = .spiceE(redraw: redraw)
        case "spice-s": c.method = .spiceS
        case "bss": c.method = .bss
        case "ogm-ge": c.method = .conventional; c.ogmAlpha = Float(try a.double("ogm-alpha", default: 0.1, min: 0))
        case let m: throw UsageError("--curriculum must be conventional, spice-e, spice-s, bss or ogm-ge, got '\(m)'")
        }
        if a.optional("ogm-alpha") != nil && c.ogmAlpha == nil { throw UsageError("--ogm-alpha needs --curriculum ogm-ge") }
        c.ogmGaussian = a.has("ogm-gaussian")
        let synergy = a.string("synergy", default: "paper")
        guard let form = SynergyForm(optionName: synergy) else {
            throw UsageError("--synergy must be \(SynergyForm.allCases.map { "'\($0.optionName)'" }.joined(separator: ", ")), got '\(synergy)'")
        }
        c.synergy = form
        c.scoreWithTrainingAugmentation = a.has("score-augmentation")
        c.harvestScores = a.has("harvest-scores")
        c.compareHarvest = a.has("compare-harvest")
        if c.compareHarvest && !c.harvestScores { throw UsageError("--compare-harvest needs --harvest-scores") }
        switch a.string("scores", default: "model") {
        case "model": c.source = .model
        case "annotator": c.source = .annotator
        case "hybrid-linear": c.source = .hybrid(.linear)
        case "hybrid-cosine": c.source = .hybrid(.cosine)
        case let v: throw UsageError("--scores must be model, annotator, hybrid-linear or hybrid-cosine, got '\(v)'")
        }
        if c.source != .model {
            switch c.method {
            case .spiceE, .spiceS: break
            default: throw UsageError("--scores \(a.string("scores", default: "")) needs --curriculum spice-e or spice-s")
            }
        }
        return c
    }

    /// One compute thread per core this rank may use: cores / ranks on this node under mpirun.
    static func defaultThreadsPerRank() -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
        return max(1, cores / max(1, local))
    }

    static func dumpParameters(_ model: MultimodalModel, to path: String) throws {
        var out = Data()
        for (_, p) in model.namedState().parameters {
            out.append(UnsafeBufferPointer(start: p.value.data, count: p.value.count))
        }
        try out.write(to: URL(fileURLWithPath: path))
    }

    static func split(_ d: InMemoryDataset, trainCount: Int) -> (InMemoryDataset, InMemoryDataset) {
        let train = InMemoryDataset(shapes: d.shapes, classes: d.classes), test = InMemoryDataset(shapes: d.shapes, classes: d.classes)
        for i in 0..<d.count {
            let sample = d.shapes.indices.map { m in Array(d.values[m][(i * d.shapes[m].sampleCount)..<((i + 1) * d.shapes[m].sampleCount)]) }
            (i < trainCount ? train : test).append(label: d.labels[i], sample: sample)
        }
        return (train, test)
    }
}
