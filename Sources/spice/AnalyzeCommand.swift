import Foundation
import Tensor
import NN
import Data
import Training
import Curriculum

/// `spice analyze`: how well the SPICE scores find planted structure (issue 10).
enum AnalyzeCommand {
    static let help = """
    usage: spice analyze --run-dir DIR --data FILE [--test FILE] [options]
           spice analyze --scores DUMP_DIR [options]
           (one process; both forms may be combined)

    Checkpoint mode (--run-dir, --data): scores every sample of FILE (normally the training set)
    with the model of DIR's latest checkpoint (evaluation preprocessing, as the scoring pass) under
    every synergy form, and reports for data with planted truth (`spice synth`, `spice prepare
    av-digits --planted`: a per-sample kind) the AUC of R for redundant samples, U for unique
    samples (any modality) and S for synergistic samples, the SPICE-S bin sizes, the purity of each
    bin (the fraction of its samples of the matching kind) and each kind's recall; and the model's
    accuracy (argmax of fused + unimodal logits, and of the fused head alone) overall and per
    planted kind on FILE and on --test.
    Data without planted truth: score distributions (quantiles of R^, U^, S^) and bin sizes.

    Dump mode (--scores): the same per refresh from the CSV files a run wrote with --dump-scores
    (scores-epoch-N.csv, the synergy form the run trained with): AUCs and bin purity when the dump
    has a kind column, else score distributions and bin sizes over time.

      --run-dir DIR     a run directory with checkpoints
      --data FILE       HDF5 file to score (with --run-dir)
      --test FILE       HDF5 file for accuracy per planted kind (with --run-dir)
      --scores DIR      a --dump-scores directory
      --synergy F       synergy form(s) to score in checkpoint mode: all (default), or a comma list of
                        \(SynergyForm.allCases.map(\.optionName).joined(separator: ", "))
      --planted         require planted truth: data without kinds is an error (exit 2)
      --json FILE       also write the results as JSON
      --eval-batch N    samples per forward (default 64)
      --frame-size N    model input size of frame modalities (default: as stored)
      --threads N       BLAS threads (default: all cores)
    """

    static func run(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["run-dir", "data", "test", "scores", "synergy", "json", "eval-batch", "frame-size", "threads"],
                              switches: ["help", "planted"])
        if a.has("help") { print(help); return }
        guard a.positional.isEmpty else { throw UsageError("analyze takes no positional arguments, got \(a.positional)") }
        let runDir = a.optional("run-dir"), scoresDir = a.optional("scores")
        guard runDir != nil || scoresDir != nil else { throw UsageError("analyze needs --run-dir DIR --data FILE, or --scores DIR\n\n\(help)") }
        if runDir != nil && a.optional("data") == nil { throw UsageError("analyze --run-dir needs --data FILE (the set to score)") }
        if runDir == nil && (a.optional("data") != nil || a.optional("test") != nil) { throw UsageError("--data and --test need --run-dir DIR") }
        var forms = SynergyForm.allCases
        if let s = a.optional("synergy"), s != "all" {
            forms = try s.split(separator: ",").map { name in
                guard let f = SynergyForm(optionName: String(name)) else {
                    throw UsageError("--synergy must be all or a comma list of \(SynergyForm.allCases.map(\.optionName).joined(separator: ", ")), got '\(name)'")
                }
                return f
            }
        }
        let batch = try a.int("eval-batch", default: 64, min: 1), frame = try a.int("frame-size", default: 0, min: 0)
        Parallel.configure(threads: try a.int("threads", default: ProcessInfo.processInfo.activeProcessorCount, min: 1))
        let requirePlanted = a.has("planted")
        // Check every input before the slow part.
        if let runDir {
            guard FileManager.default.fileExists(atPath: runDir) else { throw UsageError("--run-dir \(runDir): no such directory") }
        }
        for key in ["data", "test"] {
            if let p = a.optional(key), !FileManager.default.fileExists(atPath: p) { throw UsageError("--\(key) \(p): no such file") }
        }
        var dumps: [(epoch: Int, path: String)] = []
        if let scoresDir { dumps = try dumpFiles(scoresDir) }

        var json: [String: Any] = [:]
        if let runDir, let dataPath = a.optional("data") {
            json["checkpoint"] = try checkpointMode(runDir: runDir, dataPath: dataPath, testPath: a.optional("test"), forms: forms,
                                                    batch: batch, frame: frame, requirePlanted: requirePlanted)
        }
        if !dumps.isEmpty { json["refreshes"] = try dumpMode(dumps, requirePlanted: requirePlanted) }
        if let path = a.optional("json") {
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            guard FileManager.default.createFile(atPath: path, contents: data) else { throw UsageError("--json \(path): cannot write the file") }
        }
    }

    // MARK: checkpoint mode

    static func open(_ path: String, frame: Int, model: MultimodalModel) throws -> HDF5Dataset {
        let data: HDF5Dataset
        do { data = try HDF5Dataset(path: path, options: .init(frameSize: frame > 0 ? HDF5Dataset.ImageSize(frame) : nil)) } catch {
            throw UsageError("\(error)")
        }
        let wanted = model.modalities.map { "\($0.name):\($0.channels)x\($0.frames)" }
        let have = data.shapes.map { "\($0.name):\($0.channels)x\($0.frames)" }
        guard wanted == have, data.classes == model.classes else {
            throw UsageError("\(path) has modalities \(have) and \(data.classes) classes; the model expects \(wanted) and \(model.classes)")
        }
        return data
    }

    static func checkpointMode(runDir: String, dataPath: String, testPath: String?, forms: [SynergyForm], batch: Int, frame: Int,
                               requirePlanted: Bool) throws -> [String: Any] {
        let model: MultimodalModel, fusion: String
        do {
            let loaded = try loadCheckpointModel(runDir: runDir)
            model = loaded.model; fusion = loaded.architecture.fusion
        } catch {
            throw UsageError("--run-dir \(runDir): \(error)")
        }
        model.setTraining(false)
        let data = try open(dataPath, frame: frame, model: model)
        let test = try testPath.map { try open($0, frame: frame, model: model) }
        if requirePlanted {
            for d in [data] + (test.map { [$0] } ?? []) where d.kinds == nil {
                throw UsageError("\(d.path) has no planted truth (no 'kinds' dataset; spice synth or spice prepare av-digits --planted write one)")
            }
        }
        var out: [String: Any] = ["run_dir": runDir, "data": dataPath, "samples": data.count, "fusion": fusion]
        print("spice analyze: \(runDir) (fusion \(fusion)) on \(dataPath) (\(data.count) samples)")
        let (fused, uni, labels) = try ScoringPass.logits(model: model, data: data, range: 0..<data.count, batchSize: batch, epoch: 0, training: false)
        out["accuracy"] = accuracyReport(fused: fused, uni: uni, labels: labels, classes: model.classes, kinds: data.kindNames, title: "data")
        let predictions = ModalityPredictions(unimodalLogits: uni, fusedLogits: fused, classes: model.classes)
        let kinds = data.kindNames.map { $0.map(plantedComponent(kindName:)) }
        var perForm: [String: Any] = [:]
        for form in forms {
            let raw = PIDScorer.scores(predictions, labels: labels, synergy: form)
            let normalised = NormalisedScores(raw)
            if let kinds {
                let r = PlantedScoreAnalysis(raw: raw, normalised: normalised, kinds: kinds)
                print("  synergy \(form.optionName): " + describe(r))
                perForm[form.optionName] = encode(r)
            } else {
                let report = ScoreReport(raw: raw, normalised: normalised)
                print("  synergy \(form.optionName): no planted truth in \(dataPath); " + distribution(normalised, bins: report.binSizes))
                perForm[form.optionName] = encodeDistribution(normalised, bins: report.binSizes)
            }
        }
        out["planted"] = kinds != nil
        out["forms"] = perForm
        if let test {
            let (f, u, l) = try ScoringPass.logits(model: model, data: test, range: 0..<test.count, batchSize: batch, epoch: 0, training: false)
            out["test"] = test.path
            out["test_accuracy"] = accuracyReport(fused: f, uni: u, labels: l, classes: model.classes, kinds: test.kindNames,
                                                  title: "test \(test.path)")
        }
        return out
    }

    /// Accuracy overall and per planted kind (argmax of fused + unimodal logits, as the metrics).
    static func accuracyReport(fused: [Float], uni: [[Float]], labels: [Int32], classes: Int, kinds: [String]?, title: String) -> [String: Double] {
        let predictions = Metrics.argmaxRows(sumArrays([fused] + uni), classes: classes)
        var out = ["all": Metrics.accuracy(predictions: predictions, labels: labels)]
        let modality = Metrics.modalityAccuracy(unimodalScores: uni, labels: labels, classes: classes)
        for (m, acc) in modality.enumerated() { out["modality_\(m)"] = acc }
        // The fused head alone (argmax of z_multi): whether the fusion itself learned a kind, without
        // the unimodal heads' votes that the metrics add.
        let fusedOnly = Metrics.argmaxRows(fused, classes: classes)
        out["fused:all"] = Metrics.accuracy(predictions: fusedOnly, labels: labels)
        if let kinds {
            for name in Array(Set(kinds)).sorted() {
                let idx = kinds.indices.filter { kinds[$0] == name }
                out[name] = Metrics.accuracy(predictions: idx.map { predictions[$0] }, labels: idx.map { labels[$0] })
                out["fused:" + name] = Metrics.accuracy(predictions: idx.map { fusedOnly[$0] }, labels: idx.map { labels[$0] })
            }
        }
        let parts = out.keys.sorted().filter { $0 != "all" }.map { String(format: "%@ %.4f", $0, out[$0]!) }
        print(String(format: "  accuracy on %@: %.4f", title, out["all"]!) + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"))
        return out
    }

    // MARK: dump mode

    static func dumpFiles(_ dir: String) throws -> [(epoch: Int, path: String)] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw UsageError("--scores \(dir): no such directory")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let files = names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("scores-epoch-"), name.hasSuffix(".csv"),
                  let e = Int(name.dropFirst("scores-epoch-".count).dropLast(4)) else { return nil }
            return (e, (dir as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
        guard !files.isEmpty else { throw UsageError("--scores \(dir): no scores-epoch-N.csv files (write them with spice train --dump-scores DIR)") }
        return files.map { (epoch: $0.0, path: $0.1) }
    }

    static func dumpMode(_ files: [(epoch: Int, path: String)], requirePlanted: Bool) throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        print("spice analyze: \(files.count) score dump(s)")
        for (epoch, path) in files {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw UsageError("\(path): cannot read the file") }
            let rows = CSV.parse(text).filter { !($0.count == 1 && $0[0].isEmpty) }
            guard let header = rows.first, rows.count > 1 else { throw UsageError("\(path): no rows") }
            func column(_ name: String) throws -> Int {
                guard let i = header.firstIndex(of: name) else { throw UsageError("\(path): no '\(name)' column (not a spice score dump?)") }
                return i
            }
            let cols = try ["R", "U", "S", "R_hat", "U_hat", "S_hat", "bin"].map(column)
            let kindColumn = header.firstIndex(of: "kind")
            if requirePlanted && kindColumn == nil {
                throw UsageError("\(path) has no planted truth (no 'kind' column: the training data had no kinds)")
            }
            var values = [[Float]](repeating: [], count: 6), bins: [PIDComponent] = [], kinds: [PIDComponent?] = []
            for (r, row) in rows.dropFirst().enumerated() {
                guard row.count == header.count else { throw UsageError("\(path): line \(r + 2) has \(row.count) fields, the header \(header.count)") }
                for c in 0..<6 {
                    guard let v = Float(row[cols[c]]), v.isFinite else {
                        throw UsageError("\(path): line \(r + 2): '\(row[cols[c]])' in column \(header[cols[c]]) is not a finite number")
                    }
                    values[c].append(v)
                }
                guard let b = PIDComponent.allCases.first(where: { $0.description == row[cols[6]] }) else {
                    throw UsageError("\(path): line \(r + 2): bin '\(row[cols[6]])' is not R, U or S")
                }
                bins.append(b)
                if let k = kindColumn { kinds.append(plantedComponent(kindName: row[k])) }
            }
            let raw = PIDScores(redundancy: values[0], unique: values[1], synergy: values[2])
            let normalised = NormalisedScores(redundancy: values[3], unique: values[4], synergy: values[5])
            var entry: [String: Any] = ["epoch": epoch, "file": path, "samples": raw.count, "planted": kindColumn != nil]
            if kindColumn != nil {
                let r = PlantedScoreAnalysis(raw: raw, bins: bins, kinds: kinds)
                print("  refresh before epoch \(epoch): " + describe(r))
                entry.merge(encode(r)) { $1 }
            } else {
                let sizes = PIDComponent.allCases.map { c in bins.filter { $0 == c }.count }
                print("  refresh before epoch \(epoch): " + distribution(normalised, bins: sizes))
                entry.merge(encodeDistribution(normalised, bins: sizes)) { $1 }
            }
            out.append(entry)
        }
        return out
    }

    // MARK: formatting

    static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }

    static func describe(_ r: PlantedScoreAnalysis) -> String {
        let base = r.baseRates
        return "AUC R(redundant) \(fmt(r.auc[0]))  U(unique) \(fmt(r.auc[1]))  S(synergistic) \(fmt(r.auc[2]));  "
            + "bins R/U/S \(r.binSizes.map(String.init).joined(separator: "/"))  purity \(r.purity.map(fmt).joined(separator: "/"))"
            + " (base \(base.map { fmt($0) }.joined(separator: "/")))  recall \(r.recall.map(fmt).joined(separator: "/"))"
            + "  agreement \(fmt(r.agreement))"
    }

    static func encode(_ r: PlantedScoreAnalysis) -> [String: Any] {
        func opt(_ v: Double?) -> Any { v ?? NSNull() }
        let names = ["R", "U", "S"]
        return ["auc": Dictionary(uniqueKeysWithValues: zip(names, r.auc.map(opt))),
                "bins": Dictionary(uniqueKeysWithValues: zip(names, r.binSizes)),
                "kind_counts": Dictionary(uniqueKeysWithValues: zip(names, r.kindCounts)),
                "purity": Dictionary(uniqueKeysWithValues: zip(names, r.purity.map(opt))),
                "recall": Dictionary(uniqueKeysWithValues: zip(names, r.recall.map(opt))),
                "agreement": r.agreement]
    }

    static let quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]

    static func distribution(_ n: NormalisedScores, bins: [Int]) -> String {
        let parts = PIDComponent.allCases.map { c -> String in
            let s = ValueSummary(n.component(c), quantiles: quantiles)
            return "\(c)^ mean \(String(format: "%.3f", s.mean)) q05/25/50/75/95 " + s.quantiles.map { String(format: "%.3f", $0.value) }.joined(separator: "/")
        }
        return parts.joined(separator: "  ") + "  bins R/U/S \(bins.map(String.init).joined(separator: "/"))"
    }

    static func encodeDistribution(_ n: NormalisedScores, bins: [Int]) -> [String: Any] {
        var out: [String: Any] = ["bins": Dictionary(uniqueKeysWithValues: zip(["R", "U", "S"], bins))]
        for c in PIDComponent.allCases {
            let s = ValueSummary(n.component(c), quantiles: quantiles)
            out["\(c)_hat"] = ["mean": s.mean, "std": s.std, "quantiles": s.quantiles.map(\.value)]
        }
        return out
    }
}
