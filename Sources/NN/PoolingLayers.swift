import Tensor

/// MaxPool2d(kernel, stride, padding), ResNet's 3x3/s2/p1 stem pool by default.
public final class MaxPool2dLayer {
    public let kernel: Int, stride: Int, padding: Int
    let output = Tensor(shape: [0])
    var input: Tensor?
    var geometry: ConvGeometry?

    public init(kernel: Int = 3, stride: Int = 2, padding: Int = 1) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4, "maxpool expects [N, C, H, W], got \(x.shape)")
        let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                             outChannels: x.shape[1], kernel: kernel, stride: stride, padding: padding)
        geometry = g
        input = x
        output.resize(g.outputShape)
        Profile.measure("pooling") { MaxPool.forward(g, x: x.data, y: output.data) }
        return output
    }

    public func backward(_ dy: Tensor, into dx: Tensor) {
        guard let g = geometry, let x = input else { preconditionFailure("backward before forward") }
        dx.resize(g.inputShape)
        Profile.measure("pooling") { MaxPool.backward(g, x: x.data, y: output.data, dy: dy.data, dx: dx.data) }
    }
}

/// Global average pooling [N, C, H, W] -> [N, C] (AdaptiveAvgPool2d(1) + flatten).
public final class GlobalAvgPoolLayer {
    let output = Tensor(shape: [0])
    var inputShape: [Int] = []

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4, "global pool expects [N, C, H, W], got \(x.shape)")
        inputShape = x.shape
        output.resize([x.shape[0], x.shape[1]])
        Profile.measure("pooling") { GlobalAvgPool.forward(planes: output.count, plane: x.shape[2] * x.shape[3], x: x.data, y: output.data) }
        return output
    }

    public func backward(_ dy: Tensor, into dx: Tensor) {
        dx.resize(inputShape)
        Profile.measure("pooling") { GlobalAvgPool.backward(planes: dy.count, plane: inputShape[2] * inputShape[3], dy: dy.data, dx: dx.data) }
    }
}
