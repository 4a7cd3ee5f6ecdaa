import Tensor

/// BatchNorm2d (momentum 0.1, eps 1e-5 by default, as PyTorch), optionally with the following
/// ReLU fused in. Backward rewrites the incoming gradient buffer in place.
public final class BatchNorm2dLayer: Module {
    public let channels: Int, relu: Bool
    public var momentum: Float = 0.1
    public var eps: Float = 1e-5
    public let weight: Parameter, bias: Parameter
    public let runningMean: Tensor, runningVar: Tensor
    /// Count of training forwards (PyTorch's num_batches_tracked).
    public var batchesTracked = 0
    public private(set) var training = true
    let output = Tensor(shape: [0])
    let saveMean: Tensor, saveInvStd: Tensor
    var input: Tensor?
    var inputWasTraining = true

    public init(_ channels: Int, relu: Bool = false) {
        self.channels = channels; self.relu = relu
        weight = Parameter(shape: [channels]); bias = Parameter(shape: [channels])
        weight.value.fill(1)
        runningMean = Tensor(shape: [channels]); runningVar = Tensor(shape: [channels]); runningVar.fill(1)
        saveMean = Tensor(shape: [channels]); saveInvStd = Tensor(shape: [channels])
    }

    public func collect(_ prefix: String, into state: inout NamedState) {
        state.parameters.append((prefix + "weight", weight))
        state.parameters.append((prefix + "bias", bias))
        state.buffers.append((prefix + "running_mean", runningMean))
        state.buffers.append((prefix + "running_var", runningVar))
    }

    public func setTraining(_ training: Bool) { self.training = training }

    /// PyTorch's reset: weight 1, bias 0, running mean 0, running var 1.
    public func reset() {
        weight.value.fill(1); bias.value.zero()
        runningMean.zero(); runningVar.fill(1)
        batchesTracked = 0
    }

    func shape(_ x: Tensor) -> BatchNorm.Shape {
        precondition(x.shape.count >= 2 && x.shape[1] == channels, "batchnorm expects [N, \(channels), ...], got \(x.shape)")
        return BatchNorm.Shape(batch: x.shape[0], channels: channels, plane: x.shape.dropFirst(2).reduce(1, *))
    }

    public func forward(_ x: Tensor) -> Tensor {
        let s = shape(x)
        input = x
        inputWasTraining = training
        output.resize(x.shape)
        Profile.measure("batchnorm+relu") {
        if training {
            BatchNorm.forwardTrain(s, x: x.data, gamma: weight.value.data, beta: bias.value.data,
                                   runningMean: runningMean.data, runningVar: runningVar.data,
                                   momentum: momentum, eps: eps, relu: relu, y: output.data,
                                   saveMean: saveMean.data, saveInvStd: saveInvStd.data)
            batchesTracked += 1
        } else {
            BatchNorm.forwardEval(s, x: x.data, gamma: weight.value.data, beta: bias.value.data,
                                  runningMean: runningMean.data, runningVar: runningVar.data, eps: eps, relu: relu,
                                  y: output.data)
        }
        }
        return output
    }

    /// Gradient w.r.t. the input, written into `dx` (which may be `dy` itself); returns `dx`.
    @discardableResult
    public func backward(_ dy: Tensor, into dx: Tensor? = nil) -> Tensor {
        guard let x = input else { preconditionFailure("backward before forward") }
        let s = shape(x), out = dx ?? dy
        out.resize(x.shape)
        Profile.measure("batchnorm+relu") {
        if inputWasTraining {
            BatchNorm.backwardTrain(s, x: x.data, y: output.data, relu: relu, gamma: weight.value.data,
                                    saveMean: saveMean.data, saveInvStd: saveInvStd.data, dy: dy.data, dx: out.data,
                                    dgamma: weight.grad.data, dbeta: bias.grad.data)
        } else {
            BatchNorm.backwardEval(s, x: x.data, y: output.data, relu: relu, gamma: weight.value.data,
                                   runningMean: runningMean.data, runningVar: runningVar.data, eps: eps,
                                   dy: dy.data, dx: out.data, dgamma: weight.grad.data, dbeta: bias.grad.data)
        }
        }
        weight.gradientReady(); bias.gradientReady()
        return out
    }
}
