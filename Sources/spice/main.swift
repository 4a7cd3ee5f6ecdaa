import Foundation
import Tensor
import Comm

// Must run before anything else touches BLAS: may re-exec this process with faster kernels.
FastBLASCore.ensure()
// Denormal floats make arithmetic on them ~100x slower and carry nothing for training.
BLASInfo.flushDenormals()

let version = "0.1.0"

let usage = """
usage: spice <command> [options]

commands:
  train     train the multimodal model (HDF5 data, or a short run on a generated dataset)
  synth     write a generated dataset with planted redundant/unique/synergistic structure
  eval      evaluate a run's latest checkpoint on an HDF5 file
  analyze   how well a run's R/U/S scores find planted structure (checkpoint or score dumps)
  report    write an HTML report (inline SVG plots, final table) of one or more run directories
  export    write a run's model as safetensors with PyTorch names (docs/pytorch.md)
  prepare   convert real data (AV-Digits, manifests of WAV/PNG/JPEG, CREMA-D ratings) to HDF5
  bench     time the training step and forward pass on the PyTorch anchor configurations
  --version print the version and the BLAS kernels in use

`spice <command> --help` describes a command's options.
"""

let args = Array(CommandLine.arguments.dropFirst())
let command = args.first ?? "--help"
let rest = Array(args.dropFirst())

do {
    switch command {
    case "--version", "version":
        print("spice \(version) (\(BLASInfo.summary))")
    case "--help", "-h", "help":
        print(usage)
    case "train":
        try TrainCommand.run(rest)
    case "bench":
        try BenchCommand.run(rest)
    case "synth":
        try SynthCommand.run(rest)
    case "prepare":
        try PrepareCommand.run(rest)
    case "eval":
        try EvalCommand.run(rest)
    case "report":
        try ReportCommand.run(rest)
    case "analyze":
        try AnalyzeCommand.run(rest)
    case "export":
        try ExportCommand.run(rest)
    default:
        throw UsageError("unknown command '\(command)'\n\n\(usage)")
    }
} catch let e as UsageError {
    printError(e.description)
    exit(2)
} catch {
    // A runtime failure on one rank of a job ends every rank (MPI_Abort), not just this one.
    if let comm = Communicator.running, comm.size > 1 { comm.fail("\(error)") }
    printError("\(error)")
    exit(1)
}
