import XCTest
import Tensor
import NN
import TestSupport

/// Loads every `prefix + key` tensor of the fixture into the module state with the same key;
/// fails if a key is missing on either side or a shape differs.
func load(_ state: NamedState, from f: Fixture, prefix: String = "init/", file: StaticString = #filePath, line: UInt = #line) {
    let ours = Set(state.tensors.map(\.name))
    let theirs = Set(f.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
    XCTAssertEqual(ours, theirs, "state_dict keys differ from PyTorch's", file: file, line: line)
    for (name, t) in state.tensors where theirs.contains(name) {
        XCTAssertEqual(t.shape, f.shape(prefix + name), name, file: file, line: line)
        t.copy(from: f.values(prefix + name))
    }
}

/// torchvision's resnet18 with its classifier: our encoder followed by `fc`.
final class ResNetClassifier: Module {
    let net: ResNet18, fc: LinearLayer
    let pool = GradientPool()
    init(inChannels: Int, width: Int, classes: Int) {
        net = ResNet18(inChannels: inChannels, width: width)
        fc = LinearLayer(8 * width, classes)
    }
    func collect(_ prefix: String, into state: inout NamedState) {
        net.collect(prefix, into: &state)
        fc.collect(prefix + "fc.", into: &state)
    }
    func setTraining(_ training: Bool) { net.setTraining(training) }
    func forward(_ x: Tensor) -> Tensor { fc.forward(net.forward(x)) }
    func backward(_ dLogits: Tensor) -> Tensor { net.backward(fc.backward(dLogits)!, pool: pool, inputGradient: true)!.clone() }
}

/// Cross-entropy loss and its logits gradient, with the model's own kernels.
func crossEntropy(_ logits: Tensor, _ labels: [Int32]) -> (Float, Tensor) {
    let n = logits.shape[0], c = logits.shape[1]
    let p = Tensor(shape: logits.shape), d = Tensor(shape: logits.shape)
    let loss = SoftmaxCrossEntropy.forward(batch: n, classes: c, logits: logits.data, labels: labels, probs: p.data)
    SoftmaxCrossEntropy.backward(batch: n, classes: c, probs: p.data, labels: labels, dlogits: d.data)
    return (loss, d)
}

final class GoldenResNetTests: XCTestCase {
    let forwardTol: Float = 1e-4, gradTol: Float = 1e-3

    func checkClassifier(_ name: String, channels: Int, twoSteps: Bool) throws {
        let f = try Fixture(name)
        let width = f.int("width"), classes = f.int("classes")
        let model = ResNetClassifier(inChannels: channels, width: width, classes: classes)
        let state = model.namedState()
        load(state, from: f)
        let x = f.tensor("input"), labels = f.labels()
        let logits = model.forward(x)
        XCTAssertLessThan(relativeError(logits.array, f.values("train/logits")), forwardTol, "\(name) logits")
        let (loss, dLogits) = crossEntropy(logits, labels)
        XCTAssertEqual(loss, f.values("train/loss")[0], accuracy: forwardTol * abs(loss), "\(name) loss")
        let dx = model.backward(dLogits)
        XCTAssertLessThan(relativeError(dx.array, f.values("grad/input")), gradTol, "\(name) input gradient")
        for (key, p) in state.parameters {
            XCTAssertLessThan(relativeError(p.grad.array, f.values("grad/" + key)), gradTol, "\(name) grad \(key)")
        }
        for (key, t) in state.buffers {
            XCTAssertLessThan(relativeError(t.array, f.values("after1/" + key)), forwardTol, "\(name) running stat \(key)")
        }
        guard twoSteps else { return }
        let lr = Float(f.meta["lr"]!), m = Float(f.meta["momentum"]!), wd = Float(f.meta["weight_decay"]!)
        let sgd = SGD(parameters: state.parameters.map(\.parameter), learningRate: lr, momentum: m, weightDecay: wd)
        takeStepOneWithPyTorchGradients(state, f, sgd)
        let (loss2, d2) = crossEntropy(model.forward(x), labels)
        XCTAssertEqual(loss2, f.values("train2/loss")[0], accuracy: forwardTol * abs(loss2), "\(name) second loss")
        _ = model.backward(d2)
        checkStepTwo(state, f, sgd, name)
        model.setTraining(false)
        XCTAssertLessThan(relativeError(model.forward(x).array, f.values("eval/logits")), gradTol, "\(name) eval logits")
    }

    /// Step 1 with PyTorch's own gradients, so both sides enter step 2 with the same parameters
    /// (see Tests/Fixtures/README.md: tiny nets flip ReLU/maxpool decisions under 1e-5 changes).
    func takeStepOneWithPyTorchGradients(_ state: NamedState, _ f: Fixture, _ sgd: SGD) {
        for (key, p) in state.parameters { p.grad.copy(from: f.values("grad/" + key)) }
        sgd.step()
    }

    /// Our step-2 gradients against PyTorch's, then the momentum step against PyTorch's result.
    func checkStepTwo(_ state: NamedState, _ f: Fixture, _ sgd: SGD, _ name: String) {
        for (key, p) in state.parameters {
            XCTAssertLessThan(relativeError(p.grad.array, f.values("grad2/" + key)), gradTol, "\(name) step-2 grad \(key)")
        }
        sgd.step()
        for (key, p) in state.parameters {
            XCTAssertLessThan(relativeError(p.value.array, f.values("after2/" + key)), 1e-5, "\(name) after 2 steps \(key)")
        }
        for (key, t) in state.buffers {
            XCTAssertLessThan(relativeError(t.array, f.values("after2/" + key)), forwardTol, "\(name) running stat after 2 \(key)")
        }
    }

    func testResNet18ThreeChannelsMatchesTorchvision() throws {
        try checkClassifier("resnet18_w4", channels: 3, twoSteps: true)
    }

    func testResNet18OneChannelNonSquareMatchesTorchvision() throws {
        try checkClassifier("resnet18_w4_c1", channels: 1, twoSteps: false)
    }

    /// The same golden checks with the kernels split over 2 and 3 workers (`Parallel`).
    func testParallelKernelsMatchTorchvision() throws {
        defer { Parallel.setWorkers(1) }
        for workers in [2, 3] {
            Parallel.setWorkers(workers)
            try checkClassifier("resnet18_w4", channels: 3, twoSteps: true)
            try checkClassifier("resnet18_w4_c1", channels: 1, twoSteps: false)
        }
    }

    func testParallelAudioVisualModelMatchesReference() throws {
        defer { Parallel.setWorkers(1) }
        Parallel.setWorkers(2)
        try testAudioVisualModelMatchesReference()
    }

    func testStandardWidthHasTorchvisionParameterCount() {
        // torchvision resnet18 without fc: 11,689,512 - (512 * 1000 + 1000) = 11,176,512.
        XCTAssertEqual(ResNet18(inChannels: 3).parameterCount, 11_176_512)
    }

    func testAudioVisualModelMatchesReference() throws {
        let f = try Fixture("avmodel_w2")
        let frames = f.shape("input/visual")[1]
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3, frames: frames)],
                                    classes: f.int("classes"), width: f.int("width"))
        let state = model.namedState()
        load(state, from: f)
        let audio = f.tensor("input/audio"), visual = f.tensor("input/visual")
        let vs = visual.shape
        visual.reshape([vs[0] * vs[1], vs[2], vs[3], vs[4]])
        let labels = f.labels()
        var out = model.forward([audio, visual])
        XCTAssertLessThan(relativeError(out.fusion.array, f.values("train/out_fusion")), forwardTol)
        XCTAssertLessThan(relativeError(out.unimodal[0].array, f.values("train/out_audio")), forwardTol)
        XCTAssertLessThan(relativeError(out.unimodal[1].array, f.values("train/out_visual")), forwardTol)
        let loss = model.loss(out, labels: labels)
        XCTAssertEqual(loss.total, f.values("train/loss")[0], accuracy: forwardTol * loss.total)
        model.backward()
        for (key, p) in state.parameters {
            XCTAssertLessThan(relativeError(p.grad.array, f.values("grad/" + key)), gradTol, "grad \(key)")
        }
        for (key, t) in state.buffers {
            XCTAssertLessThan(relativeError(t.array, f.values("after1/" + key)), forwardTol, "running stat \(key)")
        }
        let sgd = SGD(parameters: state.parameters.map(\.parameter), learningRate: Float(f.meta["lr"]!),
                      momentum: Float(f.meta["momentum"]!), weightDecay: Float(f.meta["weight_decay"]!))
        takeStepOneWithPyTorchGradients(state, f, sgd)
        let loss2 = model.loss(model.forward([audio, visual]), labels: labels)
        XCTAssertEqual(loss2.total, f.values("train2/loss")[0], accuracy: forwardTol * loss2.total)
        model.backward()
        checkStepTwo(state, f, sgd, "avmodel")
        model.setTraining(false)
        out = model.forward([audio, visual])
        XCTAssertLessThan(relativeError(out.fusion.array, f.values("eval/out_fusion")), gradTol)
        XCTAssertLessThan(relativeError(out.unimodal[0].array, f.values("eval/out_audio")), gradTol)
        XCTAssertLessThan(relativeError(out.unimodal[1].array, f.values("eval/out_visual")), gradTol)
    }

    func testSchedulesMatchPyTorch() throws {
        let f = try Fixture("layers")
        let cos = f.values("sched/cosine"), step = f.values("sched/step")
        for e in 0..<cos.count {
            XCTAssertEqual(LRSchedule.cosine(tMax: 7, etaMin: 0.001).rate(base: 0.1, epoch: e), Double(cos[e]), accuracy: 1e-7)
            XCTAssertEqual(LRSchedule.step(size: 3, gamma: 0.5).rate(base: 0.1, epoch: e), Double(step[e]), accuracy: 1e-7)
        }
    }
}
