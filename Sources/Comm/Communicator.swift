import CMPI
import Foundation

/// The job's MPI world: the only place in SPICE that calls MPI.
///
/// Every call's return code is checked (the world communicator returns errors instead of
/// aborting inside MPI, so we can say which call failed). Any failure — an MPI error or a fatal
/// error anywhere in the program via `fail` — prints one line naming the rank and ends the whole
/// job with MPI_Abort, so no rank is ever left waiting in a collective for a peer that is gone.
/// Started without mpirun, MPI runs as a singleton: a world of one rank.
public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    let comm: MPI_Comm
    nonisolated(unsafe) private static var shared: Communicator?

    /// Initialises MPI once per process; later calls return the same world.
    public static func world() -> Communicator {
        if let c = shared { return c }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
            if rc != MPI_SUCCESS {
                FileHandle.standardError.write("spice: MPI_Init_thread failed (code \(rc))\n".data(using: .utf8)!)
                exit(1)
            }
        }
        let world = cmpi_comm_world()!
        MPI_Comm_set_errhandler(world, cmpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        let c = Communicator(comm: world, rank: Int(r), size: Int(s))
        shared = c
        return c
    }

    /// The world, when this process has initialised MPI (nil otherwise).
    public static var running: Communicator? { shared }

    init(comm: MPI_Comm, rank: Int, size: Int) {
        self.comm = comm; self.rank = rank; self.size = size
    }

    public var isRoot: Bool { rank == 0 }

    /// Prints `rank R: message` and ends every rank of the job with a non-zero status.
    public func fail(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write("spice: rank \(rank)/\(size): \(message)\n".data(using: .utf8)!)
        if size > 1 { MPI_Abort(comm, code) }
        exit(code)
    }

    /// For errors every rank detects identically (e.g. a configuration check): rank 0 prints the
    /// message once and all ranks exit with `code` without aborting the job mid-flight.
    public func failTogether(_ message: String, code: Int32 = 2) -> Never {
        if rank == 0 { FileHandle.standardError.write("spice: \(message)\n".data(using: .utf8)!) }
        finalize()
        exit(code)
    }

    /// For checks that may fail on some ranks only (a file one node cannot see): every rank learns
    /// whether all succeeded; failing ranks print their own message; all exit with `code` together.
    public func requireAll(_ ok: Bool, _ message: @autoclosure () -> String, code: Int32 = 1) {
        var flag: Int32 = ok ? 1 : 0
        check(guarded("MPI_Allreduce", MPI_Allreduce(cmpi_in_place(), &flag, 1, cmpi_int32(), cmpi_min(), comm)), "MPI_Allreduce(requireAll)")
        if flag == 1 { return }
        if !ok { FileHandle.standardError.write("spice: rank \(rank)/\(size): \(message())\n".data(using: .utf8)!) }
        finalize()
        exit(code)
    }

    @inline(__always)
    func check(_ rc: Int32, _ call: @autoclosure () -> String) {
        if rc == MPI_SUCCESS { return }
        var buf = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var len: Int32 = 0
        MPI_Error_string(rc, &buf, &len)
        fail("\(call()) failed: \(String(cString: buf))")
    }

    public func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { check(MPI_Finalize(), "MPI_Finalize") }
    }

    public func barrier() { check(guarded("MPI_Barrier", MPI_Barrier(comm)), "MPI_Barrier") }

    public var processorName: String {
        var buf = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
        var len: Int32 = 0
        MPI_Get_processor_name(&buf, &len)
        return String(cString: buf)
    }
}
