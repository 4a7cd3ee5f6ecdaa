import XCTest
import Tensor
import NN
import TestSupport

/// Whole-network gradients against central finite differences: no outside reference involved.
///
/// ReLU and maxpool make the network piecewise linear: a probe whose [-eps, eps] interval crosses
/// a kink disagrees whatever the step. These checks therefore run with BatchNorm in evaluation
/// mode (a fixed affine map with randomised statistics, so few units move per probe) and ask that
/// most probes agree; `testCheckRejectsAWrongGradient` shows the criterion fails a gradient that
/// is off by 10%. Train-mode BatchNorm is checked by finite differences at the kernel level
/// (BatchNormKernelTests) and, end to end, against PyTorch (GoldenResNetTests).
final class GradientCheckTests: XCTestCase {
    func randomiseBatchNorms(_ bns: [BatchNorm2dLayer], _ rng: inout SeededRandom) {
        for bn in bns {
            for i in 0..<bn.channels {
                bn.weight.value[i] = 1 + 0.2 * rng.normal(); bn.bias.value[i] = 0.2 * rng.normal()
                bn.runningMean[i] = 0.2 * rng.normal(); bn.runningVar[i] = 0.5 + rng.uniform()
            }
        }
    }

    func check(_ name: String, _ buffer: UnsafeMutablePointer<Float>, _ count: Int, _ analytic: [Float],
               _ loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
        // Step 1% of the tensor's RMS: large enough to rise above float32 noise, small enough
        // that few kinks are crossed.
        var ss = 0.0
        for i in 0..<count { ss += Double(buffer[i]) * Double(buffer[i]) }
        let eps = Float(1e-2 * max((ss / Double(count)).squareRoot(), 0.1))
        let agree = finiteDifferenceAgreement(buffer, count: count, analytic: analytic, probes: 40, eps: eps, loss: loss)
        XCTAssertGreaterThanOrEqual(agree, 0.8, "\(name): only \(agree) of probes agree", file: file, line: line)
    }

    func makeResNet() -> (ResNet18, Tensor, Tensor, () -> Double) {
        var rng = SeededRandom(seed: 21)
        let net = ResNet18(inChannels: 3, width: 4)
        net.initialize(&rng)
        randomiseBatchNorms(net.batchNorms, &rng)
        net.setTraining(false)
        let x = randomTensor([3, 3, 32, 32], &rng), r = randomTensor([3, 32], &rng)
        return (net, x, r, { weightedSum(net.forward(x), r.array) })
    }

    func testResNet18InputAndParameterGradients() {
        let (net, x, r, loss) = makeResNet()
        _ = loss()
        let dx = net.backward(r.clone(), pool: GradientPool(), inputGradient: true)!.array
        check("input", x.data, x.count, dx, loss)
        let state = net.namedState()
        for key in ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv2.weight", "layer2.0.downsample.0.weight",
                    "layer2.0.downsample.1.weight", "layer3.1.bn1.weight", "layer4.0.conv1.weight", "layer4.1.bn2.bias"] {
            let p = state.parameter(key)!
            check(key, p.value.data, p.value.count, p.grad.array, loss)
        }
    }

    func testCheckRejectsAWrongGradient() {
        let (net, x, r, loss) = makeResNet()
        _ = loss()
        let wrong = net.backward(r.clone(), pool: GradientPool(), inputGradient: true)!.array.map { $0 * 1.1 }
        XCTAssertLessThan(finiteDifferenceAgreement(x.data, count: x.count, analytic: wrong, probes: 40, eps: 1e-2, loss: loss), 0.3)
    }

    func testMultimodalModelGradientsThroughLossesHeadsAndFrames() {
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3, frames: 2)],
                                    classes: 3, width: 4)
        model.initialize(seed: 9)
        var rng = SeededRandom(seed: 10)
        for e in model.encoders { randomiseBatchNorms(e.batchNorms, &rng) }
        model.setTraining(false)
        let a = randomTensor([4, 1, 36, 32], &rng), v = randomTensor([8, 3, 32, 32], &rng)
        let labels: [Int32] = [0, 2, 1, 2]
        let loss: () -> Double = { Double(model.loss(model.forward([a, v]), labels: labels).total) }
        _ = loss()
        model.backward()
        let state = model.namedState()
        for key in ["head_fusion.weight", "head_fusion.bias", "head_audio.weight", "head_visual.bias", "audio.conv1.weight",
                    "audio.layer4.1.conv2.weight", "visual.layer4.1.bn2.weight", "visual.layer3.0.conv1.weight"] {
            let p = state.parameter(key)!
            check(key, p.value.data, p.value.count, p.grad.array, loss)
        }
    }
}

final class OptimizerAndInitTests: XCTestCase {
    /// Three SGD steps against the update rule written out by hand.
    func testSGDMomentumAndWeightDecayRule() {
        let p = Parameter(shape: [3])
        p.value.copy(from: [1, -2, 0.5])
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var theta: [Double] = [1, -2, 0.5], v: [Double] = [0, 0, 0]
        let grads: [[Float]] = [[0.3, -0.1, 0], [0.2, 0.4, -1], [-0.5, 0, 0.25]]
        for (k, g) in grads.enumerated() {
            p.grad.copy(from: g)
            sgd.step()
            for i in 0..<3 {
                let gi = Double(g[i]) + 0.01 * theta[i]
                v[i] = k == 0 ? gi : 0.9 * v[i] + gi
                theta[i] -= 0.1 * v[i]
                XCTAssertEqual(Double(p.value[i]), theta[i], accuracy: 1e-6)
            }
        }
    }

    func testInitialisationFollowsTheReferenceRecipe() {
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3)], classes: 10)
        model.initialize(seed: 1)
        let s = model.namedState()
        func std(_ t: Tensor) -> Double {
            let a = t.array.map(Double.init), m = a.reduce(0, +) / Double(a.count)
            return (a.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(a.count)).squareRoot()
        }
        // kaiming_normal(fan_out, relu): std = sqrt(2 / (out * k * k))
        XCTAssertEqual(std(s.parameter("visual.layer3.0.conv1.weight")!.value), (2.0 / (256 * 9)).squareRoot(), accuracy: 2e-4)
        XCTAssertEqual(std(s.parameter("audio.conv1.weight")!.value), (2.0 / (64 * 49)).squareRoot(), accuracy: 1e-3)
        // xavier_normal: std = sqrt(2 / (in + out)), bias 0
        XCTAssertEqual(std(s.parameter("head_fusion.weight")!.value), (2.0 / (1024 + 10)).squareRoot(), accuracy: 2e-3)
        XCTAssertEqual(s.parameter("head_fusion.bias")!.value.array, [Float](repeating: 0, count: 10))
        XCTAssertEqual(Set(s.parameter("visual.layer2.0.bn1.weight")!.value.array), [1])
        XCTAssertEqual(Set(s.buffer("audio.layer4.1.bn2.running_var")!.array), [1])
        XCTAssertEqual(model.parameterCount, 2 * 11_176_512 - 64 * 2 * 49 + (1024 * 10 + 10) + 2 * (512 * 10 + 10))
    }
}

final class DeterminismTests: XCTestCase {
    func trainTwoSteps(seed: UInt64) -> [Float] {
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3)], classes: 5, width: 4)
        model.initialize(seed: seed)
        let sgd = SGD(parameters: model.namedState().parameters.map(\.parameter), learningRate: 0.05)
        var rng = SeededRandom(seed: seed, stream: 2)
        for _ in 0..<2 {
            let a = randomTensor([4, 1, 32, 32], &rng), v = randomTensor([4, 3, 32, 32], &rng)
            let labels = (0..<4).map { _ in Int32(rng.below(5)) }
            _ = model.loss(model.forward([a, v]), labels: labels)
            model.backward()
            sgd.step()
        }
        return model.namedState().tensors.flatMap { $0.tensor.array }
    }

    func testSameSeedGivesBitIdenticalParameters() {
        let a = trainTwoSteps(seed: 77), b = trainTwoSteps(seed: 77), c = trainTwoSteps(seed: 78)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
