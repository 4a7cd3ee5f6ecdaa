import Foundation
import Tensor
import NN

/// Checkpoints: a directory per checkpoint under RUN_DIR/checkpoints, written so that a crash at
/// any moment leaves the previous checkpoint intact and `latest` naming a complete one:
///   1. files go into `<name>.tmp`, each fsync'd, with their checksums recorded in state.json;
///   2. the directory is renamed to `<name>` (atomic) and the parent fsync'd;
///   3. `latest` is written to `latest.tmp`, fsync'd, renamed over `latest`.
/// Loading verifies every file's checksum, so truncation or corruption is a clear error.
public enum Checkpoint {
    public struct State: Codable, Equatable, Sendable {
        public var format = 1
        /// Epochs completed when the checkpoint was written.
        public var epochsDone: Int
        public var globalStep: Int
        public var worldSize: Int
        public var optimizerStarted: Bool
        /// The configuration's fingerprint: resuming under a different one is refused.
        public var configFingerprint: String
        /// File name -> FNV-1a 64 checksum (hex).
        public var checksums: [String: String] = [:]
        public init(epochsDone: Int, globalStep: Int, worldSize: Int, optimizerStarted: Bool, configFingerprint: String) {
            self.epochsDone = epochsDone; self.globalStep = globalStep; self.worldSize = worldSize
            self.optimizerStarted = optimizerStarted; self.configFingerprint = configFingerprint
        }
    }

    public struct CheckpointError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Test-only crash points (SPICE_CHECKPOINT_CRASH=before-rename | before-latest).
    static let crashPoint = ProcessInfo.processInfo.environment["SPICE_CHECKPOINT_CRASH"]

    public static func directory(_ runDir: String) -> URL { URL(fileURLWithPath: runDir).appendingPathComponent("checkpoints") }

    public static func name(epochsDone: Int) -> String { String(format: "epoch-%06d", epochsDone) }

    /// Writes a checkpoint and keeps the newest `keep` of them.
    public static func save(runDir: String, model: Module, optimizer: SGD, state: State, keep: Int,
                            metadata: [String: String] = [:], extraFiles: [(String, Data)] = []) throws {
        let fm = FileManager.default
        let root = directory(runDir)
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        let name = name(epochsDone: state.epochsDone)
        let tmp = root.appendingPathComponent(name + ".tmp"), final = root.appendingPathComponent(name)
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        var st = state
        let params = model.namedState().parameters
        let files: [(String, Data)] = [
            ("model.safetensors", try SafeTensors.encode(model.stateDictEntries(), metadata: metadata.merging(["format": "pt"]) { a, _ in a })),
            ("optimizer.safetensors", try SafeTensors.encode(zip(params, optimizer.momentumBuffers).map {
                ($0.0.name, SafeTensors.Value.float32(shape: $0.1.shape, values: $0.1.array))
            })),
        ] + extraFiles
        for (file, data) in files {
            try writeDurably(data, to: tmp.appendingPathComponent(file))
            st.checksums[file] = fnv1a(data)
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeDurably(try enc.encode(st), to: tmp.appendingPathComponent("state.json"))
        fsyncPath(tmp.path)
        if crashPoint == "before-rename" { exit(9) }
        try? fm.removeItem(at: final)
        try fm.moveItem(at: tmp, to: final)
        fsyncPath(root.path)
        if crashPoint == "before-latest" { exit(9) }
        let latestTmp = root.appendingPathComponent("latest.tmp")
        try writeDurably(Data((name + "\n").utf8), to: latestTmp)
        if rename(latestTmp.path, root.appendingPathComponent("latest").path) != 0 {
            throw CheckpointError(description: "cannot update \(root.path)/latest: \(String(cString: strerror(errno)))")
        }
        fsyncPath(root.path)
        // Retention: complete checkpoints only, oldest first.
        let all = (try fm.contentsOfDirectory(atPath: root.path)).filter { $0.hasPrefix("epoch-") && !$0.hasSuffix(".tmp") }.sorted()
        for old in all.dropLast(max(1, keep)) { try? fm.removeItem(at: root.appendingPathComponent(old)) }
    }

    /// The verified bytes of the latest checkpoint's model.safetensors and its directory.
    public static func latestModelFile(runDir: String) throws -> (data: Data, directory: String) {
        let root = directory(runDir)
        guard let pointer = try? String(contentsOf: root.appendingPathComponent("latest"), encoding: .utf8) else {
            throw CheckpointError(description: "no checkpoint in \(root.path) (no 'latest')")
        }
        let dir = root.appendingPathComponent(pointer.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let stateData = try? Data(contentsOf: dir.appendingPathComponent("state.json")),
              let state = try? JSONDecoder().decode(State.self, from: stateData) else {
            throw CheckpointError(description: "\(dir.path)/state.json is missing or unreadable")
        }
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("model.safetensors")) else {
            throw CheckpointError(description: "\(dir.path)/model.safetensors is missing")
        }
        guard fnv1a(data) == state.checksums["model.safetensors"] else {
            throw CheckpointError(description: "\(dir.path)/model.safetensors is corrupted or truncated (checksum mismatch)")
        }
        return (data, dir.path)
    }

    /// An extra file of the latest checkpoint (checksum-verified), nil when the checkpoint has none.
    public static func latestExtraFile(runDir: String, name: String) throws -> Data? {
        let root = directory(runDir)
        guard let pointer = try? String(contentsOf: root.appendingPathComponent("latest"), encoding: .utf8) else { return nil }
        let dir = root.appendingPathComponent(pointer.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let stateData = try? Data(contentsOf: dir.appendingPathComponent("state.json")),
              let state = try? JSONDecoder().decode(State.self, from: stateData), let sum = state.checksums[name] else { return nil }
        guard let data = try? Data(contentsOf: dir.appendingPathComponent(name)), fnv1a(data) == sum else {
            throw CheckpointError(description: "\(dir.path)/\(name) is missing, corrupted or truncated (checksum mismatch)")
        }
        return data
    }

    /// The checkpoint `latest` names, verified and loaded into `model` and `optimizer`.
    public static func load(runDir: String, model: Module, optimizer: SGD, configFingerprint: String, worldSize: Int) throws -> State {
        let root = directory(runDir)
        guard let pointer = try? String(contentsOf: root.appendingPathComponent("latest"), encoding: .utf8) else {
            throw CheckpointError(description: "no checkpoint to resume from in \(root.path) (no 'latest')")
        }
        let dir = root.appendingPathComponent(pointer.trimmingCharacters(in: .whitespacesAndNewlines))
        let stateURL = dir.appendingPathComponent("state.json")
        guard let stateData = try? Data(contentsOf: stateURL),
              let state = try? JSONDecoder().decode(State.self, from: stateData) else {
            throw CheckpointError(description: "\(stateURL.path) is missing or unreadable")
        }
        guard state.configFingerprint == configFingerprint else {
            throw CheckpointError(description: "\(dir.path) was written with a different configuration (model, data or schedule); refusing to resume")
        }
        guard state.worldSize == worldSize else {
            throw CheckpointError(description: "\(dir.path) was written by \(state.worldSize) ranks; resuming with \(worldSize) would change the "
                                  + "global batch and the data order, so it is refused (use -np \(state.worldSize))")
        }
        func verified(_ file: String) throws -> Data {
            let url = dir.appendingPathComponent(file)
            guard let data = try? Data(contentsOf: url) else { throw CheckpointError(description: "\(url.path) is missing") }
            guard fnv1a(data) == state.checksums[file] else {
                throw CheckpointError(description: "\(url.path) is corrupted or truncated (checksum mismatch)")
            }
            return data
        }
        let modelTensors = try SafeTensors.decode(try verified("model.safetensors"), source: dir.path + "/model.safetensors").tensors
        try model.loadStateDict(modelTensors, source: dir.path + "/model.safetensors")
        let opt = try SafeTensors.decode(try verified("optimizer.safetensors"), source: dir.path + "/optimizer.safetensors").tensors
        for ((name, p), v) in zip(model.namedState().parameters, optimizer.momentumBuffers) {
            guard case let .float32(shape, values)? = opt[name], shape == p.shape else {
                throw CheckpointError(description: "\(dir.path)/optimizer.safetensors has no matching momentum for '\(name)'")
            }
            v.copy(from: values)
        }
        optimizer.hasStarted = state.optimizerStarted
        return state
    }

    static func writeDurably(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError(description: "cannot write \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { throw CheckpointError(description: "writing \(url.path) failed: \(String(cString: strerror(errno)))") }
                off += n
            }
        }
        guard fsync(fd) == 0 else { throw CheckpointError(description: "fsync \(url.path) failed: \(String(cString: strerror(errno)))") }
    }

    static func fsyncPath(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    static func fnv1a(_ data: Data) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        data.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 } }
        return String(h, radix: 16)
    }
}
