import Tensor

/// ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut is
/// identity or downsample = (1x1 conv with stride, BatchNorm) when the shape changes.
public final class BasicBlock: Module {
    public let conv1: Conv2dLayer, bn1: BatchNorm2dLayer
    public let conv2: Conv2dLayer, bn2: BatchNorm2dLayer
    public let downsample: (conv: Conv2dLayer, bn: BatchNorm2dLayer)?
    var output: Tensor?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int, workspace: Tensor) {
        conv1 = Conv2dLayer(inPlanes, planes, kernel: 3, stride: stride, padding: 1, workspace: workspace)
        bn1 = BatchNorm2dLayer(planes, relu: true)
        conv2 = Conv2dLayer(planes, planes, kernel: 3, stride: 1, padding: 1, workspace: workspace)
        bn2 = BatchNorm2dLayer(planes)
        if stride != 1 || inPlanes != planes {
            downsample = (Conv2dLayer(inPlanes, planes, kernel: 1, stride: stride, workspace: workspace), BatchNorm2dLayer(planes))
        } else {
            downsample = nil
        }
    }

    public func collect(_ prefix: String, into state: inout NamedState) {
        conv1.collect(prefix + "conv1.", into: &state)
        bn1.collect(prefix + "bn1.", into: &state)
        conv2.collect(prefix + "conv2.", into: &state)
        bn2.collect(prefix + "bn2.", into: &state)
        if let d = downsample {
            d.conv.collect(prefix + "downsample.0.", into: &state)
            d.bn.collect(prefix + "downsample.1.", into: &state)
        }
    }

    public func setTraining(_ training: Bool) {
        bn1.setTraining(training); bn2.setTraining(training); downsample?.bn.setTraining(training)
    }

    public var convs: [Conv2dLayer] { [conv1, conv2] + (downsample.map { [$0.conv] } ?? []) }

    public func forward(_ x: Tensor) -> Tensor {
        let h = bn1.forward(conv1.forward(x))
        // bn2 has no fused ReLU, so its backward never reads its output: the block output can
        // overwrite that buffer (saves one activation per block).
        let out = bn2.forward(conv2.forward(h))
        let shortcut = downsample.map { $0.bn.forward($0.conv.forward(x)) } ?? x
        Profile.measure("residual") { Elementwise.add(out.data, shortcut.data, out.data, out.count, relu: true) }
        output = out
        return out
    }

    /// Consumes `dy` (a pool buffer); returns dx in another buffer of `pool`.
    public func backward(_ dy: Tensor, pool: GradientPool) -> Tensor {
        guard let out = output else { preconditionFailure("backward before forward") }
        // The output ReLU's mask, in place; dy then stays intact for the shortcut.
        Profile.measure("residual") { Elementwise.reluBackward(y: out.data, dy: dy.data, dx: dy.data, out.count) }
        let t1 = pool.take(out.shape, excluding: [dy])
        bn2.backward(dy, into: t1)
        let t2 = pool.take(out.shape, excluding: [dy, t1])
        conv2.backward(t1, into: t2)
        bn1.backward(t2)
        conv1.backward(t2, into: t1)            // t1 now holds dx of the main path
        if let d = downsample {
            d.bn.backward(dy)
            d.conv.backward(dy, into: t2)
            Profile.measure("residual") { Elementwise.axpy(1, t2.data, t1.data, t1.count) }
        } else {
            Profile.measure("residual") { Elementwise.axpy(1, dy.data, t1.data, t1.count) }
        }
        return t1
    }
}
