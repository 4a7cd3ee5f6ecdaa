import Tensor

/// Scratch buffers for activation gradients. Gradients live only for a layer or two during the
/// backward pass, so instead of one gradient buffer per layer (as large as all activations
/// together) the layers of a network, and the encoders of a model, share three buffers that
/// grow to the largest gradient. `take(excluding:)` hands out a buffer not in use by the caller.
public final class GradientPool {
    let buffers = [Tensor(shape: [0]), Tensor(shape: [0]), Tensor(shape: [0])]

    public init() {}

    /// A buffer that is none of `busy` (compared by identity), resized to `shape`.
    public func take(_ shape: [Int], excluding busy: [Tensor]) -> Tensor {
        guard let t = buffers.first(where: { b in !busy.contains { $0 === b } }) else {
            preconditionFailure("gradient pool exhausted: more than \(buffers.count - 1) busy buffers")
        }
        t.resize(shape)
        return t
    }

    public var bytes: Int { buffers.reduce(0) { $0 + $1.capacity * 4 } }
}
