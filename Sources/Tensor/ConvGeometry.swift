/// Shape arithmetic of a 2-D convolution (or pooling window) over an NCHW batch.
public struct ConvGeometry: Equatable, Sendable {
    public let batch: Int, inChannels: Int, height: Int, width: Int
    public let outChannels: Int, kernelH: Int, kernelW: Int
    public let stride: Int, padding: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(batch: batch, inChannels: inChannels, height: height, width: width,
                  outChannels: outChannels, kernelH: kernel, kernelW: kernel, stride: stride, padding: padding)
    }

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
                kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        precondition(stride >= 1 && padding >= 0 && kernelH >= 1 && kernelW >= 1, "bad conv parameters")
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padding = padding
        precondition(outHeight >= 1 && outWidth >= 1,
                     "input \(height)x\(width) too small for kernel \(kernelH)x\(kernelW) stride \(stride) padding \(padding)")
    }

    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    public var inPlane: Int { height * width }
    public var outPlane: Int { outHeight * outWidth }
    /// Rows of the im2col matrix: one per (input channel, kernel row, kernel column).
    public var patchSize: Int { inChannels * kernelH * kernelW }
    public var inputShape: [Int] { [batch, inChannels, height, width] }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    public var weightShape: [Int] { [outChannels, inChannels, kernelH, kernelW] }
    /// A 1x1, stride-1, unpadded convolution reads its input as the im2col matrix directly.
    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    /// Forward multiply-add FLOPs (2 per MAC) for the whole batch.
    public var forwardFLOPs: Double { 2 * Double(batch * outChannels * outPlane * patchSize) }
}
