import Tensor

/// Bias-free 2-D convolution layer (ResNet convs carry no bias: BatchNorm follows).
public final class Conv2dLayer: Module {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    /// Forced GEMM shape; nil picks per geometry (`ConvAlgorithm.automatic`).
    public var algorithm: ConvAlgorithm?
    let workspace: Tensor
    let output = Tensor(shape: [0])
    var input: Tensor?
    /// Geometry of the last forward (for FLOP counts and algorithm reports).
    public private(set) var lastGeometry: ConvGeometry?
    /// Wall time of each pass while `Profile.enabled` (reset by the benchmark).
    public var times = ConvTimes()

    /// Accumulated seconds and calls of a convolution layer's three passes.
    public struct ConvTimes: Sendable {
        public var forward = 0.0, dataGradient = 0.0, weightGradient = 0.0
        public var forwardCalls = 0, backwardCalls = 0, dataGradientCalls = 0
        public init() {}
    }

    /// The algorithm the layer runs for geometry `g` (forced or automatic).
    public func algorithm(for g: ConvGeometry) -> ConvAlgorithm { algorithm ?? .automatic(for: g) }

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, workspace: Tensor) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.workspace = workspace
        weight = Parameter(shape: [outChannels, inChannels, kernel, kernel])
    }

    public func collect(_ prefix: String, into state: inout NamedState) {
        state.parameters.append((prefix + "weight", weight))
    }

    public func setTraining(_ training: Bool) {}

    public func geometry(for x: Tensor) -> ConvGeometry {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels,
                     "conv expects [N, \(inChannels), H, W], got \(x.shape)")
        return ConvGeometry(batch: x.shape[0], inChannels: inChannels, height: x.shape[2], width: x.shape[3],
                            outChannels: outChannels, kernel: kernel, stride: stride, padding: padding)
    }

    /// PyTorch's kaiming_normal_(mode="fan_out", nonlinearity="relu").
    public func initialize(_ rng: inout SeededRandom) {
        let std = (2.0 / Float(outChannels * kernel * kernel)).squareRoot()
        rng.fillNormal(weight.value, std: std)
    }

    public func forward(_ x: Tensor) -> Tensor {
        let g = geometry(for: x)
        input = x
        lastGeometry = g
        output.resize(g.outputShape)
        let t0 = Profile.enabled ? Profile.now() : 0
        Conv2d.forward(g, algorithm: algorithm(for: g), x: x.data, w: weight.value.data,
                       y: output.data, workspace: workspace)
        if Profile.enabled { times.forward += Profile.now() - t0; times.forwardCalls += 1 }
        return output
    }

    /// Writes weight.grad and, when `dx` is given, the input gradient into it (resized).
    public func backward(_ dy: Tensor, into dx: Tensor?) {
        guard let x = input else { preconditionFailure("backward before forward") }
        let g = geometry(for: x)
        dx?.resize(g.inputShape)
        let algorithm = algorithm(for: g)
        let t0 = Profile.enabled ? Profile.now() : 0
        Conv2d.backwardWeight(g, algorithm: algorithm, x: x.data, dy: dy.data, dw: weight.grad.data, workspace: workspace)
        let t1 = Profile.enabled ? Profile.now() : 0
        if let dx {
            Conv2d.backwardData(g, algorithm: algorithm, w: weight.value.data, dy: dy.data, dx: dx.data, workspace: workspace,
                                afterWeightGradient: true)
        }
        if Profile.enabled {
            let t2 = Profile.now()
            times.weightGradient += t1 - t0; times.dataGradient += t2 - t1; times.backwardCalls += 1
            if dx != nil { times.dataGradientCalls += 1 }
        }
        weight.gradientReady()
    }
}
