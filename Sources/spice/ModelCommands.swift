import Foundation
import Tensor
import NN
import Data
import Comm
import Training

/// `spice export` and `spice eval`: the trained model outside of training.

/// The model of a run's latest checkpoint (checksum-verified), rebuilt from the architecture in
/// its metadata and loaded strictly; also the file's bytes and where it came from.
func loadCheckpointModel(runDir: String) throws -> (model: MultimodalModel, architecture: ModelArchitecture, data: Data, source: String,
                                                     tensors: Int) {
    let (data, source) = try Checkpoint.latestModelFile(runDir: runDir)
    let decoded = try SafeTensors.decode(data, source: source + "/model.safetensors")
    guard let json = decoded.metadata[ModelArchitecture.metadataKey] else {
        throw Checkpoint.CheckpointError(description: "\(source)/model.safetensors has no architecture metadata (written by an older spice?)")
    }
    let arch = try ModelArchitecture(json: json)
    let model = try arch.build()
    try model.loadStateDict(decoded.tensors, source: source)   // proves names and shapes are complete
    return (model, arch, data, source, decoded.tensors.count)
}

enum ExportCommand {
    static let help = """
    usage: spice export --run-dir DIR --out FILE.safetensors

    Writes the model of DIR's latest checkpoint (checksum-verified) as a safetensors file with
    PyTorch state_dict names (torchvision resnet18 keys per modality, head_fusion, head_<m>) and the
    architecture in its metadata. docs/pytorch.md shows how to load it into torchvision models.
    """

    static func run(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["run-dir", "out"], switches: ["help"])
        if a.has("help") { print(help); return }
        guard let dir = a.optional("run-dir"), let out = a.optional("out") else { throw UsageError("export needs --run-dir DIR and --out FILE") }
        let (model, arch, data, source, count) = try loadCheckpointModel(runDir: dir)
        let tmp = out + ".tmp"
        try data.write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, out) == 0 else { throw Checkpoint.CheckpointError(description: "cannot write \(out): \(String(cString: strerror(errno)))") }
        print("spice export: \(out): \(count) tensors, \(model.parameterCount) parameters, "
              + "modalities \(arch.modalities.map { "\($0.name)(\($0.channels)ch\($0.frames > 1 ? " x\($0.frames)" : ""))" }.joined(separator: ", ")), "
              + "\(arch.classes) classes, width \(arch.width), fusion \(arch.fusion) (from \(source))")
    }
}

enum EvalCommand {
    static let help = """
    usage: spice eval --run-dir DIR --test FILE [options]     (also under mpirun)

    Evaluates the model of DIR's latest checkpoint on an HDF5 file: ACC, macro mAP, macro-F1 and
    per-modality ACC over the whole file (ranks evaluate slices; rank 0 computes the metrics).

      --eval-batch N    samples per forward (default 64)
      --frame-size N    model input size of frame modalities (default: as stored)
      --threads N       compute threads per rank (default: cores / ranks on this node)
    """

    static func run(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["run-dir", "test", "eval-batch", "frame-size", "threads"], switches: ["help"])
        if a.has("help") { print(help); return }
        guard let dir = a.optional("run-dir"), let testPath = a.optional("test") else { throw UsageError("eval needs --run-dir DIR and --test FILE") }
        let batch = try a.int("eval-batch", default: 64, min: 1), frame = try a.int("frame-size", default: 0, min: 0)
        let threads = try a.int("threads", default: TrainCommand.defaultThreadsPerRank(), min: 1)
        let comm = Communicator.world()
        Parallel.configure(threads: threads)
        var loaded: (MultimodalModel, HDF5Dataset)?
        var problem = ""
        do {
            let model = try loadCheckpointModel(runDir: dir).model
            let test = try HDF5Dataset(path: testPath, options: .init(frameSize: frame > 0 ? HDF5Dataset.ImageSize(frame) : nil))
            let wanted = model.modalities.map { "\($0.name):\($0.channels)x\($0.frames)" }
            let have = test.shapes.map { "\($0.name):\($0.channels)x\($0.frames)" }
            guard wanted == have, test.classes == model.classes else {
                throw UsageError("\(testPath) has modalities \(have) and \(test.classes) classes; the model expects \(wanted) and \(model.classes)")
            }
            loaded = (model, test)
        } catch {
            problem = "\(error)"
        }
        comm.requireAll(loaded != nil, problem, code: 2)
        let (model, test) = loaded!
        let trainer = Trainer(model: model, config: TrainConfig(), comm: comm)
        let r = try trainer.evaluate(test, batchSize: batch, epoch: 0)
        if comm.isRoot {
            print(String(format: "spice eval: %@ on %@ (%d samples): acc %.4f  mAP %.4f  F1 %.4f  modality acc %@", dir, testPath, test.count,
                         r.accuracy, r.meanAveragePrecision, r.macroF1,
                         zip(model.modalities, r.modalityAccuracy).map { "\($0.name) \(String(format: "%.4f", $1))" }.joined(separator: ", ")))
        }
        comm.finalize()
    }
}
