import Tensor

/// torchvision's ResNet18 without its classifier: conv1 7x7/s2 -> bn1+relu -> maxpool 3x3/s2 ->
/// layer1..4 (BasicBlock x2 each) -> global average pool -> [N, 8 * width] features
/// (512 at the standard width 64). `inChannels` is 1 for spectrograms, 3 for frames.
public final class ResNet18: Module {
    public let inChannels: Int, width: Int
    public let conv1: Conv2dLayer, bn1: BatchNorm2dLayer
    public let maxpool = MaxPool2dLayer()
    public let layers: [[BasicBlock]]
    public let pool = GlobalAvgPoolLayer()
    /// Shared im2col / GEMM scratch for all convolutions of this network (they run one at a time).
    public let workspace: Tensor

    public var featureCount: Int { 8 * width }

    public init(inChannels: Int, width: Int = 64, workspace: Tensor = Tensor(shape: [0])) {
        precondition(inChannels >= 1 && width >= 1, "ResNet18 needs inChannels >= 1 and width >= 1")
        self.inChannels = inChannels; self.width = width; self.workspace = workspace
        conv1 = Conv2dLayer(inChannels, width, kernel: 7, stride: 2, padding: 3, workspace: workspace)
        bn1 = BatchNorm2dLayer(width, relu: true)
        var planes = width
        var stages: [[BasicBlock]] = []
        for (i, out) in [width, 2 * width, 4 * width, 8 * width].enumerated() {
            let stride = i == 0 ? 1 : 2
            stages.append([BasicBlock(planes, out, stride: stride, workspace: workspace),
                           BasicBlock(out, out, stride: 1, workspace: workspace)])
            planes = out
        }
        layers = stages
    }

    public func collect(_ prefix: String, into state: inout NamedState) {
        conv1.collect(prefix + "conv1.", into: &state)
        bn1.collect(prefix + "bn1.", into: &state)
        for (i, stage) in layers.enumerated() {
            for (j, block) in stage.enumerated() { block.collect(prefix + "layer\(i + 1).\(j).", into: &state) }
        }
    }

    public func setTraining(_ training: Bool) {
        bn1.setTraining(training)
        for stage in layers { for b in stage { b.setTraining(training) } }
    }

    public var convolutions: [Conv2dLayer] { [conv1] + layers.flatMap { $0.flatMap(\.convs) } }

    public var batchNorms: [BatchNorm2dLayer] {
        [bn1] + layers.flatMap { $0.flatMap { [$0.bn1, $0.bn2] + ($0.downsample.map { [$0.bn] } ?? []) } }
    }

    /// The reference initialisation: convs kaiming_normal(fan_out, relu), BN weight 1 / bias 0,
    /// fresh running statistics.
    public func initialize(_ rng: inout SeededRandom) {
        for c in convolutions { c.initialize(&rng) }
        for bn in batchNorms { bn.reset() }
    }

    /// x [N, inChannels, H, W] -> features [N, 8 * width].
    public func forward(_ x: Tensor) -> Tensor {
        var h = maxpool.forward(bn1.forward(conv1.forward(x)))
        for stage in layers { for b in stage { h = b.forward(h) } }
        return pool.forward(h)
    }

    /// Gradient of the features in; parameter gradients written. The input gradient is computed
    /// only when asked (no encoder needs it in training) and lives in a `pool` buffer.
    @discardableResult
    public func backward(_ dFeatures: Tensor, pool: GradientPool, inputGradient: Bool = false) -> Tensor? {
        var d = pool.take([0], excluding: [dFeatures])
        self.pool.backward(dFeatures, into: d)
        for stage in layers.reversed() { for b in stage.reversed() { d = b.backward(d, pool: pool) } }
        let dStem = pool.take([0], excluding: [d])
        maxpool.backward(d, into: dStem)
        bn1.backward(dStem)
        guard inputGradient else { conv1.backward(dStem, into: nil); return nil }
        let dx = pool.take([0], excluding: [dStem])
        conv1.backward(dStem, into: dx)
        return dx
    }
}

extension ResNet18: HasBatchNorms {
    public func batchNormLayers(prefix: String) -> [(String, BatchNorm2dLayer)] {
        var out = [(prefix + "bn1.", bn1)]
        for (i, stage) in layers.enumerated() {
            for (j, b) in stage.enumerated() {
                let p = prefix + "layer\(i + 1).\(j)."
                out += [(p + "bn1.", b.bn1), (p + "bn2.", b.bn2)]
                if let d = b.downsample { out.append((p + "downsample.1.", d.bn)) }
            }
        }
        return out
    }
}
