import CMPI

/// Element types SPICE moves over MPI.
public protocol MPIElement { static var mpiType: MPI_Datatype { get } }
extension Float: MPIElement { public static var mpiType: MPI_Datatype { cmpi_float() } }
extension Double: MPIElement { public static var mpiType: MPI_Datatype { cmpi_double() } }
extension Int32: MPIElement { public static var mpiType: MPI_Datatype { cmpi_int32() } }
extension Int64: MPIElement { public static var mpiType: MPI_Datatype { cmpi_int64() } }
extension UInt8: MPIElement { public static var mpiType: MPI_Datatype { cmpi_byte() } }
extension UInt16: MPIElement { public static var mpiType: MPI_Datatype { cmpi_uint16() } }

public enum ReduceOp: Sendable {
    case sum, min, max
    var mpi: MPI_Op {
        switch self { case .sum: cmpi_sum(); case .min: cmpi_min(); case .max: cmpi_max() }
    }
}

extension Communicator {
    public func broadcast<T: MPIElement>(_ buffer: UnsafeMutablePointer<T>, count: Int, root: Int = 0) {
        check(guarded("MPI_Bcast", MPI_Bcast(buffer, Int32(count), T.mpiType, Int32(root), comm)), "MPI_Bcast(\(count) x \(T.self), root \(root))")
    }

    public func broadcast<T: MPIElement>(_ array: inout [T], root: Int = 0) {
        var n = Int64(array.count)
        broadcast(&n, count: 1, root: root)
        if rank != root { array = [T](unsafeUninitializedCapacity: Int(n)) { _, c in c = Int(n) } }
        array.withUnsafeMutableBufferPointer { if n > 0 { broadcast($0.baseAddress!, count: Int(n), root: root) } }
    }

    /// In-place allreduce.
    public func allreduce<T: MPIElement>(_ buffer: UnsafeMutablePointer<T>, count: Int, op: ReduceOp = .sum) {
        check(guarded("MPI_Allreduce", MPI_Allreduce(cmpi_in_place(), buffer, Int32(count), T.mpiType, op.mpi, comm)), "MPI_Allreduce(\(count) x \(T.self))")
    }

    public func allreduce<T: MPIElement>(_ values: [T], op: ReduceOp = .sum) -> [T] {
        var v = values
        v.withUnsafeMutableBufferPointer { if !$0.isEmpty { allreduce($0.baseAddress!, count: $0.count, op: op) } }
        return v
    }

    public func allreduce<T: MPIElement>(_ value: T, op: ReduceOp) -> T { allreduce([value], op: op)[0] }

    /// Every rank's `values` concatenated on `root` in rank order (nil elsewhere). Counts may differ.
    public func gatherv<T: MPIElement>(_ values: [T], root: Int = 0) -> [T]? {
        let counts = gather(Int32(values.count), root: root)
        var result: [T]? = nil
        var displs: [Int32] = []
        var total = 0
        if let counts {
            displs = exclusivePrefixSum(counts)
            total = counts.reduce(0) { $0 + Int($1) }
            result = [T](unsafeUninitializedCapacity: total) { _, n in n = total }
        }
        values.withUnsafeBufferPointer { send in
            if var out = result {
                out.withUnsafeMutableBufferPointer { recv in
                    counts!.withUnsafeBufferPointer { cb in
                        displs.withUnsafeBufferPointer { db in
                            check(guarded("MPI_Gatherv", MPI_Gatherv(send.baseAddress, Int32(values.count), T.mpiType, recv.baseAddress, cb.baseAddress,
                                              db.baseAddress, T.mpiType, Int32(root), comm)), "MPI_Gatherv(root \(root))")
                        }
                    }
                }
                result = out
            } else {
                check(guarded("MPI_Gatherv", MPI_Gatherv(send.baseAddress, Int32(values.count), T.mpiType, nil, nil, nil, T.mpiType, Int32(root), comm)),
                      "MPI_Gatherv(root \(root))")
            }
        }
        return result
    }

    /// One value per rank, on `root` in rank order (nil elsewhere).
    public func gather<T: MPIElement>(_ value: T, root: Int = 0) -> [T]? {
        var v = value
        if rank == root {
            var out = [T](unsafeUninitializedCapacity: size) { _, n in n = size }
            out.withUnsafeMutableBufferPointer { check(guarded("MPI_Gather", MPI_Gather(&v, 1, T.mpiType, $0.baseAddress, 1, T.mpiType, Int32(root), comm)), "MPI_Gather") }
            return out
        }
        check(guarded("MPI_Gather", MPI_Gather(&v, 1, T.mpiType, nil, 1, T.mpiType, Int32(root), comm)), "MPI_Gather")
        return nil
    }

    /// `parts[r]` from `root` delivered to rank r (parts is read on root only).
    public func scatterv<T: MPIElement>(_ parts: [[T]]?, root: Int = 0) -> [T] {
        var counts: [Int32] = []
        var flat: [T] = []
        if rank == root {
            guard let parts, parts.count == size else { fail("scatterv needs one part per rank on the root") }
            counts = parts.map { Int32($0.count) }
            flat = parts.flatMap { $0 }
        }
        let myCount = scatter(counts, root: root)
        var mine = [T](unsafeUninitializedCapacity: Int(myCount)) { _, n in n = Int(myCount) }
        let displs = exclusivePrefixSum(counts)
        mine.withUnsafeMutableBufferPointer { recv in
            flat.withUnsafeBufferPointer { send in
                counts.withUnsafeBufferPointer { cb in
                    displs.withUnsafeBufferPointer { db in
                        check(guarded("MPI_Scatterv", MPI_Scatterv(send.baseAddress, cb.baseAddress, db.baseAddress, T.mpiType, recv.baseAddress, myCount,
                                           T.mpiType, Int32(root), comm)), "MPI_Scatterv(root \(root))")
                    }
                }
            }
        }
        return mine
    }

    /// values[r] on root delivered to rank r.
    public func scatter<T: MPIElement>(_ values: [T], root: Int = 0) -> T {
        var out = [T](unsafeUninitializedCapacity: 1) { _, n in n = 1 }
        if rank == root && values.count != size { fail("scatter needs one value per rank on the root") }
        values.withUnsafeBufferPointer { send in
            out.withUnsafeMutableBufferPointer { recv in
                check(guarded("MPI_Scatter", MPI_Scatter(send.baseAddress, 1, T.mpiType, recv.baseAddress, 1, T.mpiType, Int32(root), comm)), "MPI_Scatter")
            }
        }
        return out[0]
    }
}

/// [c0, c1, c2] -> [0, c0, c0 + c1]: MPI displacements from counts.
func exclusivePrefixSum(_ counts: [Int32]) -> [Int32] {
    var out: [Int32] = [], acc: Int32 = 0
    for c in counts { out.append(acc); acc += c }
    return out
}
