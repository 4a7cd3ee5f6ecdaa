import CMPI

/// An outstanding non-blocking collective. MPI makes progress on it only inside MPI calls, so
/// the owner calls `test()` now and then (e.g. whenever a gradient bucket is handed over) and
/// `wait()` before using the result.
public final class PendingReduction {
    var request: MPI_Request?
    unowned let communicator: Communicator
    let what: String

    init(_ request: MPI_Request?, _ communicator: Communicator, _ what: String) {
        self.request = request; self.communicator = communicator; self.what = what
    }

    public var isDone: Bool { request == nil }

    /// Drives progress; returns true once complete.
    @discardableResult
    public func test() -> Bool {
        guard request != nil else { return true }
        var flag: Int32 = 0
        communicator.check(MPI_Test(&request, &flag, cmpi_status_ignore()), "MPI_Test(\(what))")
        if flag != 0 { request = nil }
        return request == nil
    }

    public func wait() {
        guard request != nil else { return }
        communicator.check(communicator.guarded("MPI_Wait(\(what))", MPI_Wait(&request, cmpi_status_ignore())), "MPI_Wait(\(what))")
        request = nil
    }
}

extension Communicator {
    /// Starts an in-place allreduce; the buffer must stay untouched until the reduction completes.
    public func startAllreduce<T: MPIElement>(_ buffer: UnsafeMutablePointer<T>, count: Int, op: ReduceOp = .sum,
                                              label: String = "allreduce") -> PendingReduction {
        var req: MPI_Request? = cmpi_request_null()
        check(MPI_Iallreduce(cmpi_in_place(), buffer, Int32(count), T.mpiType, op.mpi, comm, &req), "MPI_Iallreduce(\(label), \(count) x \(T.self))")
        return PendingReduction(req, self, label)
    }
}
