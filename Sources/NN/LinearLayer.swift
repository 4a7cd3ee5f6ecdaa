import Tensor

/// Fully connected layer, weight [out, in] and bias [out] as torch.nn.Linear.
public final class LinearLayer: Module {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter, bias: Parameter
    let output = Tensor(shape: [0])
    let inputGrad = Tensor(shape: [0])
    var input: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = Parameter(shape: [outFeatures, inFeatures]); bias = Parameter(shape: [outFeatures])
    }

    public func collect(_ prefix: String, into state: inout NamedState) {
        state.parameters.append((prefix + "weight", weight))
        state.parameters.append((prefix + "bias", bias))
    }

    public func setTraining(_ training: Bool) {}

    /// xavier_normal_ weight, zero bias (the reference code's head initialisation).
    public func initialize(_ rng: inout SeededRandom) {
        let std = (2.0 / Float(inFeatures + outFeatures)).squareRoot()
        rng.fillNormal(weight.value, std: std)
        bias.value.zero()
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == inFeatures, "linear expects [N, \(inFeatures)], got \(x.shape)")
        input = x
        output.resize([x.shape[0], outFeatures])
        LinearKernel.forward(batch: x.shape[0], inFeatures: inFeatures, outFeatures: outFeatures,
                             x: x.data, w: weight.value.data, b: bias.value.data, y: output.data)
        return output
    }

    /// Writes weight.grad and bias.grad; returns dx (owned by this layer).
    @discardableResult
    public func backward(_ dy: Tensor, inputGradient: Bool = true) -> Tensor? {
        guard let x = input else { preconditionFailure("backward before forward") }
        if inputGradient { inputGrad.resize(x.shape) }
        LinearKernel.backward(batch: x.shape[0], inFeatures: inFeatures, outFeatures: outFeatures,
                              x: x.data, w: weight.value.data, dy: dy.data, dw: weight.grad.data, db: bias.grad.data,
                              dx: inputGradient ? inputGrad.data : nil)
        weight.gradientReady(); bias.gradientReady()
        return inputGradient ? inputGrad : nil
    }
}
