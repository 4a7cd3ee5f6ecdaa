import Tensor

/// torch.optim.SGD with momentum and weight decay (dampening 0, not Nesterov):
///   g = grad + wd * theta;  v = momentum * v + g  (v = g on the first step);  theta -= lr * v
public final class SGD {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    let velocity: [Tensor]
    var started = false

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 1e-4) {
        self.parameters = parameters; self.learningRate = learningRate
        self.momentum = momentum; self.weightDecay = weightDecay
        velocity = parameters.map { Tensor(shape: $0.shape) }
    }

    public func step() {
        let lr = learningRate, m = momentum, wd = weightDecay, first = !started
        for (p, v) in zip(parameters, velocity) {
            let th = p.value.data, g = p.grad.data, vb = v.data
            Parallel.forEachBlock(p.value.count) { r in
                for i in r {
                    let gi = g[i] + wd * th[i]
                    let vi = first ? gi : m * vb[i] + gi
                    vb[i] = vi
                    th[i] -= lr * vi
                }
            }
        }
        started = true
    }

    /// Momentum buffers in parameter order (for checkpoints).
    public var momentumBuffers: [Tensor] { velocity }

    /// Whether a step has been taken (the first step initialises momentum with the gradient).
    public var hasStarted: Bool {
        get { started }
        set { started = newValue }
    }
}
