import Foundation

/// OpenBLAS 0.3.21 (Debian 12) mis-detects recent AVX-512 CPUs as "Prescott" and runs its SSE3
/// kernels, ~5x slower. It reads OPENBLAS_CORETYPE only when the library is loaded, so the only
/// fix is to have the variable in the environment before the process starts. Executables call
/// `FastBLASCore.ensure(arguments:)` first thing: when the loaded core is weaker than the CPU
/// supports and the user set nothing, it sets OPENBLAS_CORETYPE and re-executes itself (same pid,
/// so under mpirun this happens before MPI_Init and is invisible to the launcher).
public enum FastBLASCore {
    /// Environment flag that marks the re-executed process, so we never loop.
    static let marker = "SPICE_BLAS_REEXEC"

    /// The best OpenBLAS core name this CPU supports, from /proc/cpuinfo flags.
    public static func bestCoreForCPU(flags: Set<String>? = nil) -> String? {
        let f = flags ?? cpuFlags()
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(f.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(f.contains) { return "Haswell" }
        if f.contains("avx") { return "Sandybridge" }
        return nil
    }

    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            if let colon = line.firstIndex(of: ":") {
                return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            }
        }
        return []
    }

    /// Kernel families that are never the right choice on a CPU with AVX or better.
    static let weakCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
                                         "katmai", "coppermine", "northwood", "banias", "unknown"]

    /// The OPENBLAS_CORETYPE to re-execute with, or nil to carry on: nil when the user chose a core
    /// or we already re-executed, when the loaded kernels are not a weak fallback, or when the CPU
    /// supports nothing better.
    public static func coreToRequest(environment: [String: String], loadedCore: String, cpuFlags: Set<String>) -> String? {
        if environment["OPENBLAS_CORETYPE"] != nil || environment[marker] != nil { return nil }
        guard weakCores.contains(loadedCore.lowercased()) else { return nil }
        return bestCoreForCPU(flags: cpuFlags)
    }

    /// Re-executes the program with OPENBLAS_CORETYPE set when that gives faster kernels.
    /// Returns normally when nothing needs to change (or re-execution is impossible).
    public static func ensure(arguments: [String] = CommandLine.arguments) {
        guard let best = coreToRequest(environment: ProcessInfo.processInfo.environment, loadedCore: BLASInfo.coreName,
                                       cpuFlags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", best, 1)
        setenv(marker, "1", 1)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        // execv only returns on failure: carry on with the slow kernels rather than die.
        unsetenv("OPENBLAS_CORETYPE")
        FileHandle.standardError.write("warning: could not re-exec with OPENBLAS_CORETYPE=\(best); BLAS runs \(BLASInfo.coreName) kernels\n".data(using: .utf8)!)
    }
}
