// swift-tools-version:6.0
import PackageDescription

// Kernels are bounds-checked in debug builds; release builds drop the checks
// (-Ounchecked) because the hot loops index raw buffers whose sizes the layers own.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "SPICE",
    products: [
        .executable(name: "spice", targets: ["spice"]),
    ],
    targets: [
        // C system libraries (Debian: libopenmpi-dev, libopenblas-dev, libhdf5-openmpi-dev).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-openmpi", providers: [.apt(["libhdf5-openmpi-dev"])]),
        // PNG and JPEG decoding for `spice prepare` (Debian: libpng-dev, libjpeg62-turbo-dev).
        .systemLibrary(name: "CImage", pkgConfig: "libpng", providers: [.apt(["libpng-dev", "libjpeg62-turbo-dev"])]),

        // Tensor kernels: buffers, GEMM, convolution, normalisation, pooling, losses.
        .target(name: "Tensor", dependencies: ["COpenBLAS"], swiftSettings: fast),
        // Layers with explicit forward/backward, ResNet18, the multimodal model, optimizers.
        .target(name: "NN", dependencies: ["Tensor"], swiftSettings: fast),
        // Communication: the only code that calls MPI.
        .target(name: "Comm", dependencies: ["CMPI"], swiftSettings: fast),
        // Datasets: in-memory samples and the generated demo data (HDF5 comes with the data issue).
        .target(name: "Data", dependencies: ["CHDF5", "CImage", "Tensor"], swiftSettings: fast),
        // The curriculum: scores, normalisation, orders and plans, metrics. No MPI, no model.
        .target(name: "Curriculum", dependencies: ["Tensor"], swiftSettings: fast),
        // The training loop, metrics and the benchmark.
        .target(name: "Training", dependencies: ["Curriculum", "NN", "Data", "Comm", "Tensor"], swiftSettings: fast),
        // The command-line tool.
        .executableTarget(name: "spice", dependencies: ["Training", "Comm", "NN", "Data", "Tensor"], swiftSettings: fast),

        // Test helpers: PyTorch fixture loading, finite differences, HDF5 fixtures and surgery.
        .target(name: "TestSupport", dependencies: ["Tensor", "Data", "CHDF5"], path: "Tests/Support"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "TestSupport"]),
        .testTarget(name: "CommTests", dependencies: ["Comm"]),
        .testTarget(name: "CurriculumTests", dependencies: ["Curriculum", "Tensor", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Tensor", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["spice"]),
        .testTarget(name: "DistributedTests", dependencies: ["spice", "Data", "TestSupport"]),
    ]
)
