import XCTest
import Foundation
import Data
import TestSupport
import CHDF5

/// Every kind of bad input, run as a real 2-rank job: each ends with one clear message and a
/// non-zero exit (every rank: the job as a whole ends, no rank is left waiting), within the
/// timeout (no hang), and leaves every file that existed before untouched.
final class BadInputTests: XCTestCase {
    var dir = ""
    var train = "", test = ""

    struct Case {
        let name: String
        let args: [String]
        let mentions: [String]
        /// 2 = configuration error found before any work; nil = any non-zero status.
        var status: Int32? = nil
        var np = 2
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
        dir = NSTemporaryDirectory() + "spice-bad-input-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        train = dir + "/train.h5"; test = dir + "/test.h5"
        let synth = try MPIRunner.spiceCommand(["synth", "--train", train, "--test", test, "--samples", "48", "--test-samples", "16",
                                                "--classes", "4", "--audio-size", "8", "--visual-size", "8"])
        XCTAssertEqual(synth.status, 0, synth.err)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func trainArgs(train: String? = nil, test: String? = nil) -> [String] {
        ["train", "--train", train ?? self.train, "--test", test ?? self.test, "--width", "1", "--epochs", "1", "--batch", "4",
         "--threads", "1", "--eval-batch", "8", "--lr", "0.01"]
    }

    /// A copy of the good training file with `edit` applied.
    func broken(_ name: String, _ edit: (hid_t) throws -> Void) throws -> String {
        let p = dir + "/" + name
        try FileManager.default.copyItem(atPath: train, toPath: p)
        try RawHDF5.edit(p, edit)
        return p
    }

    func file(_ name: String, bytes: Data) throws -> String {
        let p = dir + "/" + name
        try bytes.write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Every file under the directory with its whole content (the files are small; Data's hash
    /// covers only a prefix, so contents are compared in full).
    func snapshot() -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: dir)
        while let f = e?.nextObject() as? String {
            if let d = FileManager.default.contents(atPath: dir + "/" + f) { out[f] = d }
        }
        return out
    }

    /// A three-modality file (audio, visual, a second spectrogram) in the same format.
    func threeModalityFile(_ name: String) throws -> String {
        let p = dir + "/" + name
        let header = DatasetHeader(modalities: [.spectrogram("audio", height: 8, width: 8), .frames("visual", height: 8, width: 8),
                                                .spectrogram("depth", height: 8, width: 8)], classes: 4)
        let w = try HDF5Writer(path: p, header: header)
        for i in 0..<24 {
            let a = (0..<64).map { Float(($0 * 7 + i * 13) % 17) / 17 }
            try w.append(label: i % 4, values: [.float(a), .bytes((0..<192).map { UInt8(($0 + i * 5) % 256) }), .float(a.reversed())])
        }
        try w.finish()
        return p
    }

    func cases() throws -> [Case] {
        let n = 48
        let conf = { (name: String, json: String) throws -> String in try self.file(name, bytes: Data(json.utf8)) }
        var truncated = try Data(contentsOf: URL(fileURLWithPath: train))
        truncated = truncated.prefix(truncated.count / 2)
        let run = dir + "/run"
        let done = try MPIRunner.run(np: 2, trainArgs() + ["--run-dir", run])
        XCTAssertEqual(done.status, 0, done.err)
        let corrupt = dir + "/run-corrupt"
        try FileManager.default.copyItem(atPath: run, toPath: corrupt)
        let model = corrupt + "/checkpoints/epoch-000001/model.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        bytes[bytes.count - 5] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: model))
        let empty = dir + "/run-empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let three = try threeModalityFile("three.h5")
        return [
            // The data files.
            Case(name: "HDF5 file truncated", args: trainArgs(train: try file("truncated.h5", bytes: truncated)), mentions: ["truncated.h5"]),
            Case(name: "not an HDF5 file", args: trainArgs(train: try file("text.h5", bytes: Data("label,audio\n1,2\n".utf8))),
                 mentions: ["text.h5", "not an HDF5 file"]),
            Case(name: "data file missing", args: trainArgs(train: dir + "/nowhere.h5"), mentions: ["nowhere.h5"]),
            Case(name: "a modality missing", args: trainArgs(train: try broken("novisual.h5") { RawHDF5.delete($0, "visual") }),
                 mentions: ["novisual.h5", "'visual'", "missing"]),
            Case(name: "wrong rank of dims", args: trainArgs(train: try broken("rank.h5") {
                try RawHDF5.putFloat32($0, "audio", dims: [n, 64], [Float](repeating: 0, count: n * 64))
            }), mentions: ["rank.h5", "'audio'", "rank 2"]),
            Case(name: "sample counts differ between modalities", args: trainArgs(train: try broken("counts.h5") {
                try RawHDF5.putFloat32($0, "audio", dims: [n - 1, 1, 8, 8], [Float](repeating: 0, count: (n - 1) * 64))
            }), mentions: ["counts.h5", "'visual'", "has 48 samples but 'audio' has 47"]),
            Case(name: "wrong dtype", args: trainArgs(train: try broken("dtype.h5") {
                try RawHDF5.putInt32($0, "audio", dims: [n, 1, 8, 8], [Int32](repeating: 0, count: n * 64))
            }), mentions: ["dtype.h5", "'audio'"]),
            Case(name: "label out of range", args: trainArgs(train: try broken("label.h5") {
                try RawHDF5.putInt32($0, "label", dims: [n], (0..<n).map { $0 == 7 ? 4 : Int32($0 % 4) })
            }), mentions: ["label.h5", "'label'", "sample 7", "[0, 4)"]),
            Case(name: "negative label", args: trainArgs(train: try broken("negative.h5") {
                try RawHDF5.putInt32($0, "label", dims: [n], (0..<n).map { $0 == 3 ? -1 : Int32($0 % 4) })
            }), mentions: ["negative.h5", "'label'", "sample 3"]),
            Case(name: "NaN in a sample", args: trainArgs(train: try broken("nan.h5") {
                RawHDF5.poke($0, "audio", sample: 5, offset: 9, value: .nan)
            }), mentions: ["nan.h5", "'audio'", "sample 5", "nan"]),
            Case(name: "Inf in a sample", args: trainArgs(train: try broken("inf.h5") {
                RawHDF5.poke($0, "audio", sample: 11, offset: 0, value: .infinity)
            }), mentions: ["inf.h5", "'audio'", "sample 11", "inf"]),
            Case(name: "zero samples", args: trainArgs(train: try broken("empty.h5") { f in
                try RawHDF5.putFloat32(f, "audio", dims: [0, 1, 8, 8], [])
                try RawHDF5.putUInt8(f, "visual", dims: [0, 1, 3, 8, 8], [])
                try RawHDF5.putInt32(f, "label", dims: [0], [])
            }), mentions: ["empty.h5", "no samples"]),
            Case(name: "duplicate ids", args: trainArgs(train: try broken("dupids.h5") {
                RawHDF5.putVariableStrings($0, "id", (0..<n).map { $0 == 30 ? "s2" : "s\($0)" })
            }), mentions: ["dupids.h5", "duplicate id 's2'"]),
            Case(name: "test set with other modalities than the training set", args: trainArgs(test: three),
                 mentions: ["three.h5", "modalit"]),
            // Configuration.
            Case(name: "config: unknown key", args: ["train", "--config", try conf("unknown.json", #"{"epochz": 3}"#)],
                 mentions: ["unknown.json", "epochz"], status: 2),
            Case(name: "config: wrong type", args: ["train", "--config", try conf("type.json", #"{"epochs": "three"}"#)],
                 mentions: ["--epochs", "three"], status: 2),
            Case(name: "config: not JSON", args: ["train", "--config", try conf("broken.json", #"{"epochs": 3"#)],
                 mentions: ["broken.json"], status: 2),
            Case(name: "config file missing", args: ["train", "--config", dir + "/absent.json"], mentions: ["absent.json"], status: 2),
            Case(name: "zero epochs", args: trainArgs() + ["--epochs", "0"], mentions: ["--epochs"], status: 2),
            Case(name: "negative epochs", args: trainArgs() + ["--epochs", "-2"], mentions: ["--epochs"], status: 2),
            Case(name: "zero batch", args: trainArgs() + ["--batch", "0"], mentions: ["--batch"], status: 2),
            Case(name: "zero refresh interval k", args: trainArgs() + ["--curriculum", "spice-e", "--refresh", "0"],
                 mentions: ["--refresh"], status: 2),
            Case(name: "stage lengths that do not add up (warm-up beyond the epochs)",
                 args: trainArgs() + ["--curriculum", "spice-e", "--warmup", "3"], mentions: ["--warmup 3 exceeds --epochs 1"], status: 2),
            Case(name: "unknown curriculum", args: trainArgs() + ["--curriculum", "spice-x"], mentions: ["--curriculum", "spice-x"], status: 2),
            Case(name: "unknown fusion", args: trainArgs() + ["--fusion", "attention"], mentions: ["--fusion", "concat"], status: 2),
            Case(name: "annotator curriculum without annotator data",
                 args: trainArgs(train: try broken("noratings.h5") { RawHDF5.delete($0, "ratings") }) + ["--curriculum", "spice-e", "--scores", "annotator"],
                 mentions: ["annotator ratings"], status: 2),
            Case(name: "global batch larger than the data", args: trainArgs() + ["--batch", "40"], mentions: ["2 ranks x 40) is larger than the 48 training samples"], status: 2),
            Case(name: "more ranks than samples", args: trainArgs(train: try broken("two.h5") { f in
                try RawHDF5.putFloat32(f, "audio", dims: [2, 1, 8, 8], [Float](repeating: 0.5, count: 128))
                try RawHDF5.putUInt8(f, "visual", dims: [2, 1, 3, 8, 8], [UInt8](repeating: 9, count: 384))
                try RawHDF5.putInt32(f, "label", dims: [2], [0, 1])
                for extra in ["id", "kind", "ratings"] { RawHDF5.delete(f, extra) }
            }) + ["--batch", "1"], mentions: ["3 ranks x 1) is larger than the 2 training samples"], status: 2, np: 3),
            // Run directories and checkpoints.
            Case(name: "run directory already holds a run (no --resume)", args: trainArgs() + ["--run-dir", run],
                 mentions: ["already holds a run"], status: 2),
            Case(name: "--resume without a checkpoint", args: trainArgs() + ["--run-dir", empty, "--resume"], mentions: ["checkpoint"]),
            Case(name: "checkpoint of a different model shape", args: trainArgs() + ["--run-dir", run, "--resume", "--width", "2"],
                 mentions: ["different configuration"]),
            Case(name: "checkpoint of a different modality count", args: trainArgs(train: three, test: three) + ["--run-dir", run, "--resume"],
                 mentions: ["different configuration"]),
            Case(name: "resume into a different world size", args: trainArgs() + ["--run-dir", run, "--resume"],
                 mentions: ["written by 2 ranks"], np: 3),
            Case(name: "corrupted checkpoint", args: trainArgs() + ["--run-dir", corrupt, "--resume"],
                 mentions: ["corrupted or truncated"]),
        ]
    }

    func testEveryBadInputFailsClearlyOnEveryRank() throws {
        let all = try cases()
        var hangs = 0
        for c in all {
            let before = snapshot()
            let r = try MPIRunner.run(np: c.np, c.args, timeout: 60)
            let firstError = r.err.split(separator: "\n").first { $0.contains("spice") } ?? ""
            print("bad input: \(c.name): exit \(r.status), \(String(format: "%.1f", r.seconds)) s: \(firstError)")
            if r.timedOut { hangs += 1 }
            XCTAssertFalse(r.timedOut, "\(c.name): hung")
            XCTAssertNotEqual(r.status, 0, "\(c.name): \(r.out)")
            if let s = c.status { XCTAssertEqual(r.status, s, "\(c.name): \(r.err)") }
            for m in c.mentions { XCTAssertTrue(r.err.contains(m), "\(c.name): no '\(m)' in: \(r.err)") }
            let after = snapshot()
            for (f, content) in before { XCTAssertTrue(after[f] == content, "\(c.name): \(f) was changed or removed") }
        }
        print("bad input: \(all.count) cases, \(hangs) hangs")
        XCTAssertGreaterThanOrEqual(all.count, 25)
    }

    /// A data file that one rank cannot see (as on a node without the mount): every rank checks
    /// its own open and the job ends before training, naming the rank. MPMD launch gives rank 1
    /// a path that does not exist on it.
    func testADataFileOnlySomeRanksCanSeeIsFoundAtStart() throws {
        let hidden = dir + "/not-mounted-here/train.h5"
        let first = trainArgs() + ["--run-dir", dir + "/run-mpmd"]
        let r = try MPIRunner.run(np: 1, first + [":", "-np", "1", MPIRunner.spice] + trainArgs(train: hidden) + ["--run-dir", dir + "/run-mpmd"],
                                  timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("rank 1/2"), r.err)
        XCTAssertTrue(r.err.contains("not-mounted-here/train.h5: no such file"), r.err)
        XCTAssertFalse(r.out.contains("epoch 1"), r.out)
    }

    /// A run directory on a nearly full file system (a 2 MB tmpfs; needs root) is refused before
    /// training, with the free space and the need named.
    func testANearlyFullRunDirectoryIsRefusedAtStart() throws {
        let mnt = dir + "/small"
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]
        mount.standardError = FileHandle.nullDevice
        try mount.run(); mount.waitUntilExit()
        try XCTSkipUnless(mount.terminationStatus == 0, "cannot mount a small tmpfs here (needs root)")
        defer {
            let u = Process(); u.executableURL = URL(fileURLWithPath: "/bin/umount"); u.arguments = [mnt]
            try? u.run(); u.waitUntilExit()
        }
        let r = try MPIRunner.run(np: 2, trainArgs() + ["--width", "8", "--run-dir", mnt + "/run"], timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("MB free"), r.err)
        XCTAssertFalse(r.out.contains("epoch 1"), r.out)
    }
}
