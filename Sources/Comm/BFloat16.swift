import CMPI

/// bfloat16 gradient compression: half the bytes on the wire, float32's exponent range. MPI has
/// no bfloat16 type, so values travel as 16-bit words and are summed by our own reduction op.
public enum BFloat16 {
    /// Round to nearest even (NaN stays NaN).
    @inline(__always) public static func from(_ f: Float) -> UInt16 {
        let b = f.bitPattern
        if f.isNaN { return UInt16(b >> 16) | 0x40 }
        return UInt16((b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    @inline(__always) public static func toFloat(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }
}

/// inout[i] = bf16(float(in[i]) + float(inout[i])): the reduction MPI applies pairwise.
private let bf16Sum: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?,
                                     UnsafeMutablePointer<MPI_Datatype?>?) -> Void = { input, inout_, len, _ in
    guard let input, let inout_, let len else { return }
    let a = input.assumingMemoryBound(to: UInt16.self), b = inout_.assumingMemoryBound(to: UInt16.self)
    for i in 0..<Int(len.pointee) { b[i] = BFloat16.from(BFloat16.toFloat(a[i]) + BFloat16.toFloat(b[i])) }
}

extension Communicator {
    nonisolated(unsafe) private static var bf16Op: MPI_Op?

    var bfloat16SumOp: MPI_Op {
        if let op = Communicator.bf16Op { return op }
        var op: MPI_Op? = nil
        check(MPI_Op_create(bf16Sum, 1, &op), "MPI_Op_create(bfloat16 sum)")
        Communicator.bf16Op = op
        return op!
    }

    /// Starts an in-place sum of bfloat16 words across ranks.
    public func startAllreduceBFloat16(_ buffer: UnsafeMutablePointer<UInt16>, count: Int, label: String = "allreduce bf16") -> PendingReduction {
        var req: MPI_Request? = cmpi_request_null()
        check(MPI_Iallreduce(cmpi_in_place(), buffer, Int32(count), cmpi_uint16(), bfloat16SumOp, comm, &req),
              "MPI_Iallreduce(\(label), \(count) x bf16)")
        return PendingReduction(req, self, label)
    }
}
