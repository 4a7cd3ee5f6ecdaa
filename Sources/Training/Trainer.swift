import Foundation
import Tensor
import NN
import Data
import Comm
import Curriculum

/// Data-parallel training: every rank holds a replica, trains on its slice of each global batch,
/// and averages gradients with the other ranks before every SGD step. With one rank it is plain
/// single-process training.
public final class Trainer {
    public let model: MultimodalModel
    public let config: TrainConfig
    public let comm: Communicator
    let optimizer: SGD
    /// The model's named parameters and buffers (fixed for the model's life; built once).
    let state: NamedState
    let reducer: GradientReducer?
    let inputs: [Tensor]

    public init(model: MultimodalModel, config: TrainConfig, comm: Communicator) {
        self.model = model; self.config = config; self.comm = comm
        state = model.namedState()
        let params = state.parameters.map(\.parameter)
        optimizer = SGD(parameters: params, learningRate: Float(config.learningRate),
                        momentum: config.momentum, weightDecay: config.weightDecay)
        reducer = comm.size > 1 ? GradientReducer(parameters: params, communicator: comm, bucketBytes: config.bucketBytes,
                                                     precision: config.gradientPrecision, overlap: config.overlapGradients) : nil
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

    /// Each rank evaluates a contiguous slice of the test set; the logits are gathered to rank 0,
    /// which computes ACC, macro mAP, macro-F1 and per-modality ACC over the whole set (exact, not
    /// averaged per rank) and sends them to everyone.
    public func evaluate(_ data: SampleSource, batchSize: Int, epoch: Int) throws -> ClassificationReport {
        ReplicaSync.averageBuffers(model, comm)
        model.setTraining(false)
        defer { setTrainingMode() }
        let range = ScoringPass.shard(count: data.count, rank: comm.rank, size: comm.size)
        let c = model.classes, M = model.modalities.count
        let (fused, uni, labels) = try ScoringPass.logits(model: model, data: data, range: range, batchSize: batchSize,
                                                          epoch: epoch, training: false)
        let gFused = comm.gatherv(fused), gLabels = comm.gatherv(labels)
        let gUni = uni.map { comm.gatherv($0) }
        // Rank 0 computes; the figures travel as doubles.
        var figures = [Double](repeating: 0, count: 3 + M)
        if let f = gFused, let l = gLabels {
            let r = ClassificationReport(fusedLogits: f, unimodalLogits: gUni.map { $0! }, labels: l, classes: c)
            figures = [r.accuracy, r.meanAveragePrecision, r.macroF1] + r.modalityAccuracy
        }
        comm.broadcast(&figures)
        return ClassificationReport(accuracy: figures[0], meanAveragePrecision: figures[1], macroF1: figures[2],
                                    modalityAccuracy: Array(figures[3...]))
    }

    var globalStep = 0
    var gradientUpdates = 0

    func injectFaults(step: Int) throws {
        guard let f = FaultInjection.current else { return }
        if f.fires(rank: comm.rank, step: step, .throw) { throw InjectedFault(description: "injected fault at step \(step)") }
        if f.fires(rank: comm.rank, step: step, .exit) { exit(3) }
        if f.fires(rank: comm.rank, step: step, .perturb) { model.fusion.outputBias.value[0] += 1e-3 }
        if f.fires(rank: comm.rank, step: step, .nan) { injectNaN = true }
        if f.fires(rank: comm.rank, step: step, .stall) { while true { Thread.sleep(forTimeInterval: 3600) } }
    }

    var injectNaN = false
    /// Steps dropped under the `skip` policy.
    public private(set) var skippedSteps = 0

    /// Collective check before the update: every rank looks at its own loss and its own gradients
    /// before averaging (the reducer checks each bucket as it packs it), and one allreduce tells all
    /// ranks which rank went non-finite first (averaged gradients are checked only when no rank's
    /// own values were). `stop` ends the job with that
    /// rank's message naming epoch, step and the first non-finite tensor; `skip` drops the step on
    /// every rank and counts it.
    func stepIsFinite(loss: Float, epoch: Int, step: Int) -> Bool {
        let names = state.parameters
        func name(_ p: Parameter) -> String { names.first { $0.parameter === p }?.name ?? "a parameter" }
        // This rank's own values: the loss, then its gradients before averaging (seen by the
        // reducer while packing) — so the rank that produced the NaN is the one named.
        var culprit: String? = loss.isFinite ? nil : "the loss (\(loss))"
        if culprit == nil, let p = reducer?.firstNonFinite { culprit = "the gradient of \(name(p))" }
        if culprit == nil, reducer == nil, let p = names.first(where: { !allFinite($0.parameter.grad.data, $0.parameter.grad.count) }) {
            culprit = "the gradient of \(p.name)"
        }
        var averagedBad = false
        if culprit == nil, reducer != nil {
            averagedBad = names.contains { !allFinite($0.parameter.grad.data, $0.parameter.grad.count) }
        }
        let key = culprit != nil ? comm.rank : (averagedBad ? comm.size + comm.rank : 2 * comm.size)
        let first = Int(comm.allreduce(Int64(key), op: .min))
        if first == 2 * comm.size { return true }
        let origin = first < comm.size ? first : first - comm.size
        switch config.nonFinitePolicy {
        case .skip:
            if comm.isRoot {
                FileHandle.standardError.write("spice: epoch \(epoch + 1) step \(step): non-finite values (from rank \(origin)); step skipped\n"
                    .data(using: .utf8)!)
            }
            return false
        case .stop:
            let message = culprit.map { "epoch \(epoch + 1), step \(step): \($0) is not finite" }
                ?? "epoch \(epoch + 1), step \(step): the averaged gradients are not finite (no rank's own values were)"
            comm.requireAll(comm.rank != origin, message + "; stopping before the update (--non-finite skip drops such steps instead)",
                            code: 1)
            return false
        }
    }

    /// NaN or Inf anywhere makes the (vectorised) sum non-finite; so would an overflow of finite
    /// values past 3e38, which is as good a reason to stop.
    func allFinite(_ p: UnsafePointer<Float>, _ n: Int) -> Bool { sum(p, n).isFinite }

    /// Under the skip policy the BatchNorm running statistics of a dropped step are restored, so a
    /// NaN batch cannot poison evaluation later.
    lazy var bufferSnapshot: [Tensor] = state.buffers.map { $0.tensor.clone() }

    func snapshotBuffers() {
        for (snap, (_, t)) in zip(bufferSnapshot, state.buffers) { snap.data.update(from: t.data, count: t.count) }
    }

    func restoreBuffers() {
        for (snap, (_, t)) in zip(bufferSnapshot, state.buffers) { t.data.update(from: snap.data, count: t.count) }
    }

    /// Loads the latest checkpoint on rank 0 and gives its state to every rank. Returns the
    /// number of epochs already done.
    func resumeFromCheckpoint(_ dir: String, fingerprint: String) -> Int {
        var header: [Int64] = [0, 0, 0]
        if comm.isRoot {
            do {
                let st = try Checkpoint.load(runDir: dir, model: model, optimizer: optimizer, configFingerprint: fingerprint, worldSize: comm.size)
                try restoreCurriculum(dir)
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
                let arch = ModelArchitecture(model, fusionHidden: config.fusionHidden)
                try Checkpoint.save(runDir: dir, model: model, optimizer: optimizer, state: st, keep: config.keepCheckpoints,
                                    metadata: [ModelArchitecture.metadataKey: arch.json], extraFiles: curriculumCheckpoint())
            } catch {
                comm.fail("checkpoint after epoch \(epochsDone) failed: \(error)")
            }
        }
        comm.barrier()
    }

    /// The curriculum planner; only rank 0 holds scores, every rank knows the schedule.
    lazy var planner = CurriculumPlanner(count: 0, method: .conventional, schedule: config.curriculum.schedule, seed: config.seed, source: .model)

    /// Scores before `epoch` when the schedule asks for it (rank 0 keeps them). Returns a log line.
    let harvest = ScoreHarvest()
    /// Rank 0: the raw inputs of the current plan, checkpointed so a resumed run plans exactly alike.
    var lastScores: PIDScores?
    var lastBSS: BSSMeasures?
    static let curriculumFile = "curriculum.safetensors"
    /// SPICE-S bin sizes (R, U, S) and mean normalised scores of the latest refresh, for the log.
    var refreshStats: [String: Any]?

    func noteRefresh(_ scores: PIDScores) {
        let n = NormalisedScores(scores)
        func mean(_ v: [Float]) -> Double { v.isEmpty ? 0 : v.reduce(0.0) { $0 + Double($1) } / Double(v.count) }
        refreshStats = ["bins": StageBins(n).sizes, "score_mean": [mean(n.redundancy), mean(n.unique), mean(n.synergy)]]
    }

    func curriculumCheckpoint() throws -> [(String, Data)] {
        var entries: [(String, SafeTensors.Value)] = []
        if let s = lastScores { entries.append(("pid_scores", .float32(shape: [s.count, 3], values: s.interleaved))) }
        if let b = lastBSS {
            entries.append(("bss_loss", .float32(shape: [b.count], values: b.loss)))
            entries.append(("bss_similarity", .float32(shape: [b.count], values: b.similarity)))
        }
        return entries.isEmpty ? [] : [(Trainer.curriculumFile, try SafeTensors.encode(entries))]
    }

    /// Rank 0, on resume: the scores of the last refresh back into the planner.
    func restoreCurriculum(_ dir: String) throws {
        guard let data = try Checkpoint.latestExtraFile(runDir: dir, name: Trainer.curriculumFile) else { return }
        let t = try SafeTensors.decode(data, source: dir + "/" + Trainer.curriculumFile).tensors
        if case let .float32(_, v)? = t["pid_scores"] {
            let s = PIDScores(interleaved: v)
            lastScores = s; harvest.previous = s
            planner.setModelScores(s)
        }
        if case let .float32(_, l)? = t["bss_loss"], case let .float32(_, sim)? = t["bss_similarity"] {
            let b = BSSMeasures(loss: l, similarity: sim)
            lastBSS = b
            planner.setBSSMeasures(b)
        }
    }

    /// Whether this epoch's forward passes feed the next refresh.
    func harvesting(epoch: Int) -> Bool {
        guard config.curriculum.harvestScores, epoch + 1 < config.epochs, planner.needsScoring(before: epoch + 1) else { return false }
        switch config.curriculum.method {
        case .spiceE, .spiceS: return true
        default: return false
        }
    }

    /// Refresh from harvested scores (rank 0 gets them); with `compareHarvest`, also runs the
    /// scoring pass and reports both costs and the rank agreement of R, U, S.
    func refreshFromHarvest(_ train: SampleSource, epoch: Int) throws -> String? {
        let harvestSeconds = comm.allreduce(harvest.seconds, op: .max)
        let (scores, seen) = harvest.assemble(count: train.count, comm: comm)
        harvest.reset()
        var line: String? = nil
        if let scores {
            planner.setModelScores(scores)
            lastScores = scores
            noteRefresh(scores)
            line = String(format: "refresh before epoch %d from harvested scores: %d of %d samples seen, score arithmetic %.3f s; ",
                          epoch + 1, seen, train.count, harvestSeconds) + ScoreReport(raw: scores, normalised: NormalisedScores(scores)).description
        }
        if config.curriculum.compareHarvest {
            let g = try ScoringPass.run(model: model, data: train, comm: comm, batchSize: config.evaluationBatchSize, epoch: epoch,
                                        trainingAugmentation: config.curriculum.scoreWithTrainingAugmentation, synergy: config.curriculum.synergy)
            if let pass = g.scores, let harvested = scores {
                let rho = PIDComponent.allCases.map { spearman(pass.component($0), harvested.component($0)) }
                let binsAgree = zip(StageBins(NormalisedScores(pass)).assignment, StageBins(NormalisedScores(harvested)).assignment)
                    .filter { $0 == $1 }.count
                line! += String(format: "\n  harvest vs scoring pass: pass %.2f s vs harvest %.3f s; Spearman R %.3f U %.3f S %.3f; "
                                + "SPICE-S bins agree on %.1f%% of samples", g.seconds, harvestSeconds, rho[0], rho[1], rho[2],
                                100 * Double(binsAgree) / Double(train.count))
            }
        }
        return line
    }

    func refreshScores(_ train: SampleSource, epoch: Int) throws -> String? {
        guard planner.needsScoring(before: epoch) else { return nil }
        if config.curriculum.harvestScores && !harvest.isEmpty { return try refreshFromHarvest(train, epoch: epoch) }
        let g = try ScoringPass.run(model: model, data: train, comm: comm, batchSize: config.evaluationBatchSize, epoch: epoch,
                                    trainingAugmentation: config.curriculum.scoreWithTrainingAugmentation, synergy: config.curriculum.synergy,
                                    details: config.scoreDumpDirectory != nil)
        guard let scores = g.scores, let bss = g.bss else { return nil }
        if let dir = config.scoreDumpDirectory, let details = g.details, let labels = g.labels {
            var extra: [(name: String, values: [String])] = []
            if let kinds = (train as? SampleMetadata)?.kindNames { extra.append(("kind", kinds)) }
            let csv = ScoreDump.csv(details: details, scores: scores, normalised: NormalisedScores(scores), labels: labels,
                                    phase: config.curriculum.schedule.phase(epoch), extraColumns: extra)
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try csv.write(toFile: dir + "/scores-epoch-\(epoch + 1).csv", atomically: true, encoding: .utf8)
            } catch {
                comm.fail("cannot write the score dump to \(dir): \(error)")
            }
        }
        let t0 = monotonicSeconds()
        switch config.curriculum.method {
        case .bss: planner.setBSSMeasures(bss); lastBSS = bss
        default: planner.setModelScores(scores); lastScores = scores
        }
        noteRefresh(scores)
        let report = ScoreReport(raw: scores, normalised: NormalisedScores(scores))
        return String(format: "refresh before epoch %d: scoring %.2f s, gather %d bytes, plan %.3f s; ", epoch + 1, g.seconds, g.bytes,
                      monotonicSeconds() - t0) + report.description
    }

    /// OGM-GE: from the batch's summed true-class softmax per modality (summed over ranks, so every
    /// rank uses the same coefficients), the dominant modality's encoder conv gradients get
    /// 1 - tanh(alpha * ratio), ratio = its score / the mean of the others' (M = 2: the paper's ratio).
    func ogmCoefficients(labels: [Int32], alpha: Float) -> [Float] {
        let M = model.modalities.count, c = model.classes
        var score = [Double](repeating: 0, count: M)
        for m in 0..<M { for (n, y) in labels.enumerated() { score[m] += Double(model.headProbs[m].data[n * c + Int(y)]) } }
        score = comm.allreduce(score)
        var coeff = [Float](repeating: 1, count: M)
        guard let top = score.indices.max(by: { score[$0] < score[$1] }) else { return coeff }
        let others = score.indices.filter { $0 != top }.map { score[$0] }
        let ratio = score[top] / max(others.reduce(0, +) / Double(others.count), 1e-12)
        if ratio > 1 { coeff[top] = 1 - tanh(alpha * Float(ratio)) }
        return coeff
    }

    /// Which modality's encoder each conv weight belongs to (OGM-GE modulates conv gradients only).
    lazy var convOwner: [ObjectIdentifier: Int] = {
        var d: [ObjectIdentifier: Int] = [:]
        for (m, e) in model.encoders.enumerated() { for c in e.convolutions { d[ObjectIdentifier(c.weight)] = m } }
        return d
    }()

    /// Scales one conv weight gradient by its modality's OGM-GE coefficient (+ optional Gaussian
    /// noise with the gradient's own standard deviation).
    func modulate(_ p: Parameter, _ coeff: [Float], step: Int) {
        guard let m = convOwner[ObjectIdentifier(p)] else { return }
        let g = p.grad
        var std: Float = 0
        if config.curriculum.ogmGaussian {
            let mean = sum(g.data, g.count) / Float(g.count)
            std = (sumSquaredDeviation(g.data, g.count, shift: mean) / Float(max(1, g.count - 1))).squareRoot()
        }
        if coeff[m] == 1 && std == 0 { return }
        var rng = SeededRandom(seed: config.seed, stream: 0x06E, UInt64(step), UInt64(comm.rank), UInt64(g.count))
        for i in 0..<g.count { g.data[i] = g.data[i] * coeff[m] + (std > 0 ? std * rng.normal() : 0) }
    }

    /// Annotator and hybrid curricula: static scores from the data's annotator ratings, set once.
    func setAnnotatorScores(_ train: SampleSource) throws {
        switch config.curriculum.source {
        case .model: return
        case .annotator, .hybrid: break
        }
        guard let meta = train as? SampleMetadata, let ratings = meta.annotatorRatings else {
            throw PlanError("the annotator / hybrid curriculum needs annotator ratings in the training data "
                            + "(a 'ratings' dataset: spice prepare ratings, or spice synth)")
        }
        guard comm.isRoot else { return }
        let p = AnnotatorResponses.predictions(correctFractions: ratings, labels: meta.sampleLabels,
                                               modalities: model.modalities.count, classes: model.classes)
        planner.setAnnotatorScores(PIDScorer.scores(p, labels: meta.sampleLabels, synergy: config.curriculum.synergy))
    }

    /// Rank 0 draws a progress bar while the epoch runs, only when its output is a terminal.
    /// mpirun hands ranks a pseudo-terminal even when its own output goes to a file, so the
    /// launchers pass SPICE_PROGRESS=0 when theirs is not a terminal.
    lazy var showProgress: Bool = comm.isRoot && isatty(1) == 1 && ProcessInfo.processInfo.environment["SPICE_PROGRESS"] != "0"

    func progress(epoch: Int, step: Int, of steps: Int, since t0: Double) {
        let elapsed = monotonicSeconds() - t0, width = 30
        let filled = steps > 0 ? width * step / steps : width
        let rate = Double(step * config.batchSize * comm.size) / max(elapsed, 1e-9)
        let eta = steps > step ? elapsed / Double(step) * Double(steps - step) : 0
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "\repoch %d [%@] %d/%d steps  %.1f samples/s  ETA %.0f s", epoch + 1, bar, step, steps, rate, eta)
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// One JSON line per epoch in RUN_DIR/metrics.jsonl (rank 0): what `spice report` and scripts read.
    func appendMetrics(_ dir: String, _ r: EpochReport, lossSteps: Int) {
        var o: [String: Any] = [
            "epoch": r.epoch + 1, "phase": r.phase, "steps": r.steps, "lr": r.learningRate, "loss": r.loss,
            "train_acc": r.trainAccuracy, "acc": r.test.accuracy, "map": r.test.meanAveragePrecision, "macro_f1": r.test.macroF1,
            "modality_acc": Dictionary(uniqueKeysWithValues: zip(model.modalities.map(\.name), r.test.modalityAccuracy)),
            "gradient_updates": r.gradientUpdates, "skipped_steps": skippedSteps, "samples_per_s": r.samplesPerSecond,
            "seconds": r.seconds, "exposed_comm_s": r.exposedCommSeconds, "data_wait_s": r.dataWaitSeconds, "ranks": comm.size,
        ]
        if let refresh = r.refresh {
            o["refresh"] = refresh
            for (k, v) in refreshStats ?? [:] { o[k] = v }
        }
        guard let line = try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]) else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/metrics.jsonl"
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { comm.fail("cannot write \(path)") }
        h.seekToEndOfFile()
        h.write(line + Data("\n".utf8))
        h.closeFile()
    }

    func dumpPlan(_ dir: String, epoch: Int, global: [Int]?, mine: [Int]) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func write(_ name: String, _ v: [Int]) {
            try? v.map(String.init).joined(separator: "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        if let global { write("global-epoch-\(epoch).txt", global) }
        write("rank-\(comm.rank)-epoch-\(epoch).txt", mine)
    }

    public func run(train: SampleSource, test: SampleSource, modelDescription: String = "",
                    report: (EpochReport) -> Void) throws {
        setTrainingMode()
        let fingerprint = config.fingerprint(model: modelDescription)
        planner = CurriculumPlanner(count: train.count, method: config.curriculum.method, schedule: config.curriculum.schedule,
                                    seed: config.seed, source: config.curriculum.source, minimumStageCount: comm.size * config.batchSize)
        try setAnnotatorScores(train)
        var startEpoch = 0
        if config.resume, let dir = config.runDirectory { startEpoch = resumeFromCheckpoint(dir, fingerprint: fingerprint) }
        // A resumed curriculum run between refreshes plans from the checkpointed scores; with
        // harvesting, the epoch before the next refresh is re-run and re-harvested.
        for epoch in startEpoch..<config.epochs {
            let refresh = try refreshScores(train, epoch: epoch)
            let order = comm.isRoot ? planner.order(epoch: epoch) : nil
            let plan = DistributedPlan.scatter(order: order?.indices, comm: comm, perRankBatch: config.batchSize, remainder: config.remainder)
            if let dir = config.planDumpDirectory { dumpPlan(dir, epoch: epoch, global: order?.indices, mine: plan.indices) }
            let lr = config.rate(epoch: epoch)
            optimizer.learningRate = Float(lr)
            let t0 = monotonicSeconds()
            var lossSum = 0.0, correct = 0.0, exposed = 0.0, wait = 0.0
            // The next batches are read and augmented on a background thread while this one trains.
            let loader = PrefetchingLoader(source: train, batches: (0..<plan.steps).map { Array(plan.batch($0)) }, epoch: epoch, training: true)
            defer { loader.cancel() }
            let harvestNow = harvesting(epoch: epoch)
            var stepsRun = 0
            for s in 0..<plan.steps {
                try injectFaults(step: globalStep)
                stepsRun += 1
                Watchdog.shared.step = globalStep
                globalStep += 1
                guard let labels = try loader.next(into: inputs) else { comm.fail("the data loader ended before the epoch's last step") }
                if injectNaN { inputs[0].data[0] = .nan; injectNaN = false }
                if config.nonFinitePolicy == .skip { snapshotBuffers() }
                reducer?.beginStep()
                let logits = model.forward(inputs)
                correct += Double(zip(Trainer.predictions(logits), labels).filter { $0 == Int($1) }.count)
                let stepLoss = model.loss(logits, labels: labels).total
                lossSum += Double(stepLoss)
                if harvestNow { harvest.record(model: model, batch: plan.batch(s), labels: labels, synergy: config.curriculum.synergy) }
                let coeff = config.curriculum.ogmAlpha.map { ogmCoefficients(labels: labels, alpha: $0) }
                if let coeff {
                    let step = globalStep
                    reducer?.transform = { [unowned self] p in self.modulate(p, coeff, step: step) }
                }
                model.backward()
                if let coeff, reducer == nil {
                    for (_, p) in state.parameters { modulate(p, coeff, step: globalStep) }
                }
                if let reducer { reducer.finish(); exposed += reducer.lastExposedSeconds }
                if !stepIsFinite(loss: stepLoss, epoch: epoch, step: globalStep - 1) { skippedSteps += 1; restoreBuffers(); continue }
                optimizer.step()
                gradientUpdates += 1
                if showProgress { progress(epoch: epoch, step: s + 1, of: plan.steps, since: t0) }
            }
            if showProgress { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
            let dt = monotonicSeconds() - t0
            wait = loader.waitSeconds
            TestHooks.recordSteps(rank: comm.rank, epoch: epoch, steps: stepsRun)
            ReplicaSync.verify(model, steps: plan.steps, epoch: epoch, comm)
            let sums = comm.allreduce([lossSum, correct, dt, exposed, wait])
            let metrics = try evaluate(test, batchSize: config.evaluationBatchSize, epoch: epoch)
            let samples = Double(plan.steps * config.batchSize * comm.size)
            let n = Double(comm.size)
            let epochReport = EpochReport(epoch: epoch, phase: config.curriculum.method == .conventional ? "shuffled" : "\(config.curriculum.schedule.phase(epoch))", steps: plan.steps, learningRate: lr,
                               loss: sums[0] / Double(max(1, plan.steps * comm.size)), trainAccuracy: sums[1] / max(1, samples),
                               test: metrics, seconds: sums[2] / n, samplesPerSecond: samples / (sums[2] / n),
                               exposedCommSeconds: sums[3] / n, dataWaitSeconds: sums[4] / n, gradientUpdates: gradientUpdates,
                               refresh: refresh)
            if comm.isRoot, let dir = config.runDirectory { appendMetrics(dir, epochReport, lossSteps: plan.steps) }
            report(epochReport)
            if let dir = config.runDirectory, (epoch + 1) % max(1, config.checkpointEvery) == 0 || epoch + 1 == config.epochs {
                saveCheckpoint(dir, epochsDone: epoch + 1, fingerprint: fingerprint)
            }
        }
    }
}
