import Foundation

/// A float32 buffer with a shape: contiguous, row-major (NCHW for images).
///
/// Layers own their tensors and keep them across steps; `resize` only reallocates
/// when the new shape needs more room than the buffer already has, so a training
/// loop over same-shaped batches allocates nothing after the first step.
public final class Tensor {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    public private(set) var capacity: Int
    public private(set) var data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.capacity = max(count, 1)
        self.data = Tensor.allocate(capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { free(data) }

    /// 64-byte aligned so SIMD loads and BLAS packing start on a cache line.
    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride)
        guard rc == 0, let raw else { fatalError("out of memory allocating \(n) floats") }
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    /// Gives the tensor a new shape, keeping the buffer when it is large enough.
    /// Contents are unspecified afterwards unless the element count is unchanged.
    public func resize(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n > capacity {
            free(data)
            capacity = n
            data = Tensor.allocate(n)
            data.initialize(repeating: 0, count: n)
        }
        shape = newShape
        count = n
    }

    /// Same element count, different view of the dimensions.
    public func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    public func zero() { data.update(repeating: 0, count: count) }

    public func fill(_ v: Float) { data.update(repeating: v, count: count) }

    public func copy(from other: Tensor) {
        resize(other.shape)
        data.update(from: other.data, count: count)
    }

    public func copy(from values: [Float]) {
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    public func clone() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public var bytes: Int { count * MemoryLayout<Float>.stride }
}
