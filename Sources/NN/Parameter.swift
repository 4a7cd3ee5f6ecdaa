import Tensor

/// A trainable tensor and its gradient (same shape). Backward passes overwrite `grad`, then call
/// `gradientReady()`, which lets a data-parallel reducer start communicating that gradient while
/// the rest of the backward pass still runs.
public final class Parameter {
    public let value: Tensor
    public let grad: Tensor
    public var onGradientReady: (() -> Void)?

    public init(shape: [Int]) {
        value = Tensor(shape: shape)
        grad = Tensor(shape: shape)
    }

    @inline(__always) public func gradientReady() { onGradientReady?() }

    public var shape: [Int] { value.shape }
}

/// The named state of a module tree, in PyTorch `state_dict` order and with its key names
/// (`conv1.weight`, `layer1.0.bn1.running_mean`, ...), so weights move to and from PyTorch.
public struct NamedState {
    public var parameters: [(name: String, parameter: Parameter)] = []
    public var buffers: [(name: String, tensor: Tensor)] = []
    public init() {}

    public func parameter(_ name: String) -> Parameter? { parameters.first { $0.name == name }?.parameter }
    public func buffer(_ name: String) -> Tensor? { buffers.first { $0.name == name }?.tensor }
    /// Parameters and buffers interleaved as one name -> tensor list.
    public var tensors: [(name: String, tensor: Tensor)] {
        parameters.map { ($0.name, $0.parameter.value) } + buffers.map { ($0.name, $0.tensor) }
    }
}

/// Anything with named state and a train/eval mode.
public protocol Module: AnyObject {
    /// Appends this module's parameters and buffers under `prefix` (e.g. "layer1.0.").
    func collect(_ prefix: String, into state: inout NamedState)
    /// Training mode uses batch statistics in BatchNorm; evaluation uses running statistics.
    func setTraining(_ training: Bool)
}

extension Module {
    public func namedState() -> NamedState {
        var s = NamedState()
        collect("", into: &s)
        return s
    }

    public var parameterCount: Int { namedState().parameters.reduce(0) { $0 + $1.parameter.value.count } }
}
