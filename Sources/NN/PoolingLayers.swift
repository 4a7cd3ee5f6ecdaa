import Tensor

/// MaxPool2d(kernel, stride, padding), ResNet's 3x3/s2/p1 stem pool by default.
public final class MaxPool2dLayer {
    public let kernel: Int, stride: Int, padding: Int
    let output = Tensor(shape: [0])
    let inputGrad = Tensor(shape: [0])
    var argmax = [Int32]()
    var geometry: ConvGeometry?

    public init(kernel: Int = 3, stride: Int = 2, padding: Int = 1) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4, "maxpool expects [N, C, H, W], got \(x.shape)")
        let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                             outChannels: x.shape[1], kernel: kernel, stride: stride, padding: padding)
        geometry = g
        output.resize(g.outputShape)
        if argmax.count < output.count { argmax = [Int32](repeating: 0, count: output.count) }
        argmax.withUnsafeMutableBufferPointer { MaxPool.forward(g, x: x.data, y: output.data, argmax: $0.baseAddress!) }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = geometry else { preconditionFailure("backward before forward") }
        inputGrad.resize(g.inputShape)
        argmax.withUnsafeBufferPointer { MaxPool.backward(g, dy: dy.data, argmax: $0.baseAddress!, dx: inputGrad.data) }
        return inputGrad
    }
}

/// Global average pooling [N, C, H, W] -> [N, C] (AdaptiveAvgPool2d(1) + flatten).
public final class GlobalAvgPoolLayer {
    let output = Tensor(shape: [0])
    let inputGrad = Tensor(shape: [0])
    var inputShape: [Int] = []

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4, "global pool expects [N, C, H, W], got \(x.shape)")
        inputShape = x.shape
        output.resize([x.shape[0], x.shape[1]])
        GlobalAvgPool.forward(planes: output.count, plane: x.shape[2] * x.shape[3], x: x.data, y: output.data)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGrad.resize(inputShape)
        GlobalAvgPool.backward(planes: dy.count, plane: inputShape[2] * inputShape[3], dy: dy.data, dx: inputGrad.data)
        return inputGrad
    }
}
