import XCTest
import Tensor
import NN
import TestSupport

/// The fusion heads: finite-difference gradients, PyTorch parity (fixture `fusion_heads`, see
/// Tests/Fixtures/README.md) and a training step of the whole model with each head.
final class FusionTests: XCTestCase {
    /// A head of `kind`; `flag` is FiLM's xFilm / gated's xGate.
    func makeHead(_ kind: FusionKind, modalities: Int, dim: Int, classes: Int, hidden: Int = 5, flag: Bool = true) -> FusionHead {
        switch kind {
        case .film: return FiLMFusion(featureDim: dim, modalities: modalities, classes: classes, xFilm: flag)
        case .gated: return GatedFusion(featureDim: dim, modalities: modalities, classes: classes, xGate: flag)
        default: return makeFusionHead(kind, featureDim: dim, modalities: modalities, classes: classes, hidden: hidden)
        }
    }

    /// Every (kind, modalities, flag) combination the heads support in these tests.
    var allCases: [(FusionKind, Int, Bool)] {
        FusionKind.allCases.flatMap { kind in
            [2, 3].flatMap { m in (kind == .film || kind == .gated ? [true, false] : [true]).map { (kind, m, $0) } }
        }
    }

    // MARK: finite differences

    /// Loss sum(logits * r) on random features; gradients of features and parameters against
    /// central differences.
    func checkGradients(_ kind: FusionKind, modalities: Int, flag: Bool, wrongBy scale: Float = 1) -> Double {
        let dim = 6, classes = 4, batch = 3
        var rng = SeededRandom(seed: 31, stream: UInt64(modalities))
        let head = makeHead(kind, modalities: modalities, dim: dim, classes: classes, flag: flag)
        head.initialize(&rng)
        let state = head.namedState()
        for (_, p) in state.parameters where p.shape.count == 1 { rng.fillNormal(p.value, std: 0.5) }  // non-zero biases
        let feats = (0..<modalities).map { _ in randomTensor([batch, dim], &rng) }
        let r = randomTensor([batch, classes], &rng)
        let loss = { weightedSum(head.forward(features: feats), r.array) }
        _ = loss()
        let dFeats = head.backward(dLogits: r).map { $0.array.map { $0 * scale } }
        XCTAssertEqual(dFeats.count, modalities)
        let grads = state.parameters.map { $0.parameter.grad.array.map { $0 * scale } }
        // ReLU kinks (mlp): a smaller step crosses fewer of them.
        let eps: Float = kind == .mlp ? 1e-3 : 1e-2
        var worst = 0.0
        for m in 0..<modalities {
            XCTAssertEqual(dFeats[m].count, batch * dim)
            let e = finiteDifferenceError(feats[m].data, count: feats[m].count, analytic: dFeats[m], eps: eps, loss: loss)
            if scale == 1 { XCTAssertLessThan(e, 1e-2, "\(kind) M=\(modalities) flag=\(flag): feature \(m)") }
            worst = max(worst, e)
        }
        for ((name, p), g) in zip(state.parameters, grads) {
            let e = finiteDifferenceError(p.value.data, count: p.value.count, analytic: g, eps: eps, loss: loss)
            if scale == 1 { XCTAssertLessThan(e, 1e-2, "\(kind) M=\(modalities) flag=\(flag): \(name)") }
            worst = max(worst, e)
        }
        return worst
    }

    func testGradientsOfEveryHeadMatchFiniteDifferences() {
        for (kind, m, flag) in allCases { _ = checkGradients(kind, modalities: m, flag: flag) }
    }

    func testGradientCheckRejectsAWrongGradient() {
        XCTAssertGreaterThan(checkGradients(.film, modalities: 3, flag: true, wrongBy: 1.05), 0.03)
        XCTAssertGreaterThan(checkGradients(.gated, modalities: 2, flag: false, wrongBy: 0.95), 0.03)
    }

    // MARK: names

    func testParameterNamesFollowTheReferenceModules() {
        func names(_ kind: FusionKind, _ m: Int) -> [String] {
            let model = MultimodalModel(modalities: (0..<m).map { Modality(name: "m\($0)", channels: 1) }, classes: 3, width: 1,
                                        fusion: kind, fusionHidden: 7)
            return model.namedState().parameters.map(\.name).filter { $0.hasPrefix("head_fusion.") }
        }
        func linear(_ n: String) -> [String] { ["head_fusion.\(n).weight", "head_fusion.\(n).bias"] }
        XCTAssertEqual(names(.concat, 2), ["head_fusion.weight", "head_fusion.bias"])
        XCTAssertEqual(names(.concat, 3), ["head_fusion.weight", "head_fusion.bias"])
        XCTAssertEqual(names(.sum, 2), linear("fc_x") + linear("fc_y"))
        XCTAssertEqual(names(.sum, 4), linear("fc_x") + linear("fc_y") + linear("fc_2") + linear("fc_3"))
        XCTAssertEqual(names(.film, 2), linear("fc") + linear("fc_out"))
        XCTAssertEqual(names(.film, 3), linear("fc") + linear("fc_out"))
        XCTAssertEqual(names(.gated, 2), linear("fc_x") + linear("fc_y") + linear("fc_out"))
        XCTAssertEqual(names(.mlp, 3), linear("fc_hidden") + linear("fc_out"))
        // Shapes at width 1 (8-d features), 3 classes.
        let s = MultimodalModel(modalities: [Modality(name: "a", channels: 1), Modality(name: "b", channels: 1)], classes: 3, width: 1,
                                fusion: .film).namedState()
        XCTAssertEqual(s.parameter("head_fusion.fc.weight")!.shape, [16, 8])
        XCTAssertEqual(s.parameter("head_fusion.fc_out.weight")!.shape, [3, 8])
        let g = MultimodalModel(modalities: [Modality(name: "a", channels: 1), Modality(name: "b", channels: 1)], classes: 3, width: 1,
                                fusion: .mlp, fusionHidden: 7).namedState()
        XCTAssertEqual(g.parameter("head_fusion.fc_hidden.weight")!.shape, [7, 16])
        XCTAssertEqual(FusionKind(rawValue: "gated"), .gated)
    }

    // MARK: PyTorch

    func testHeadsMatchPyTorch() throws {
        let f = try Fixture("fusion_heads")
        let dim = f.int("dim"), classes = f.int("classes"), hidden = f.int("hidden")
        let cases: [(String, FusionKind, Bool)] = [
            ("concat2", .concat, true), ("sum2", .sum, true), ("sum3", .sum, true),
            ("film2", .film, true), ("film2_yfilm", .film, false), ("film3", .film, true),
            ("gated2", .gated, true), ("gated2_ygate", .gated, false), ("gated3", .gated, true), ("mlp2", .mlp, true),
        ]
        XCTAssertEqual(cases.count, f.int("cases"))
        let tol: Float = 1e-5
        for (name, kind, flag) in cases {
            let m = f.int(name + "_modalities")
            let head = makeHead(kind, modalities: m, dim: dim, classes: classes, hidden: hidden, flag: flag)
            let state = head.namedState()
            load(state, from: f, prefix: name + "/init/")
            let feats = (0..<m).map { f.tensor("\(name)/x\($0)") }
            let out = head.forward(features: feats)
            XCTAssertLessThan(relativeError(out.array, f.values(name + "/out")), tol, "\(name) logits")
            let dx = head.backward(dLogits: f.tensor(name + "/dy"))
            XCTAssertEqual(dx.count, m)
            for k in 0..<m {
                XCTAssertLessThan(relativeError(dx[k].array, f.values("\(name)/dx\(k)")), tol, "\(name) feature gradient \(k)")
            }
            for (key, p) in state.parameters {
                XCTAssertLessThan(relativeError(p.grad.array, f.values("\(name)/grad/\(key)")), tol, "\(name) grad \(key)")
            }
        }
    }

    // MARK: whole model

    final class Counter { var counts: [Int]; init(_ n: Int) { counts = [Int](repeating: 0, count: n) } }

    /// Two SGD steps of the model with `kind`: losses finite, every parameter's gradient written
    /// (NaN-filled beforehand) and reported ready exactly once per backward.
    func trainSteps(_ kind: FusionKind, modalities: [Modality]) {
        let label = "\(kind) M=\(modalities.count)"
        let model = MultimodalModel(modalities: modalities, classes: 3, width: 2, fusion: kind, fusionHidden: 7)
        model.initialize(seed: 5)
        let params = model.namedState().parameters
        let counter = Counter(params.count)
        for (i, (_, p)) in params.enumerated() { p.onGradientReady = { counter.counts[i] += 1 } }
        defer { for (_, p) in params { p.onGradientReady = nil } }
        let sgd = SGD(parameters: params.map(\.parameter), learningRate: 0.05)
        var rng = SeededRandom(seed: 6)
        let batch = 2
        let inputs = modalities.map { randomTensor([batch * $0.frames, $0.channels, 32, 32], &rng) }
        let labels: [Int32] = [0, 2]
        var losses: [Float] = []
        for step in 1...2 {
            for (_, p) in params { p.grad.fill(.nan) }
            let loss = model.loss(model.forward(inputs), labels: labels)
            XCTAssertTrue(loss.total.isFinite && loss.fusion.isFinite, "\(label): loss \(loss.total)")
            losses.append(loss.total)
            model.backward()
            for (i, (name, p)) in params.enumerated() {
                XCTAssertEqual(counter.counts[i], step, "\(label): \(name) reported ready \(counter.counts[i]) times after \(step) backward passes")
                XCTAssertTrue(p.grad.array.allSatisfy(\.isFinite), "\(label): \(name) gradient not written")
                if name.hasPrefix("head_fusion.") {
                    XCTAssertTrue(p.grad.array.contains { $0 != 0 }, "\(label): \(name) gradient is zero")
                }
            }
            sgd.step()
        }
        XCTAssertNotEqual(losses[0], losses[1], "\(label): a step changed nothing")
    }

    func testModelTrainsAStepWithEveryFusion() {
        let two = [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3, frames: 2)]
        for kind in FusionKind.allCases { trainSteps(kind, modalities: two) }
        for kind in [FusionKind.sum, .film, .gated] { trainSteps(kind, modalities: two + [Modality(name: "depth", channels: 1)]) }
    }

    /// The feature gradients reach the right encoders: with FiLM and three modalities (modality 0
    /// modulates the mean of the other two), encoder weights of modalities 0 and 2 against finite
    /// differences (evaluation-mode BatchNorm, as GradientCheckTests).
    func testModelGradientsReachEveryEncoderThroughFiLM() {
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3),
                                                 Modality(name: "depth", channels: 1)], classes: 3, width: 2, fusion: .film)
        model.initialize(seed: 8)
        var rng = SeededRandom(seed: 9)
        for (_, p) in model.namedState().parameters where p.shape.count == 1 && p.value.array.allSatisfy({ $0 == 0 }) {
            rng.fillNormal(p.value, std: 0.1)   // zero-initialised biases and BN shifts
        }
        model.setTraining(false)
        let inputs = [randomTensor([3, 1, 32, 32], &rng), randomTensor([3, 3, 32, 32], &rng), randomTensor([3, 1, 32, 32], &rng)]
        let labels: [Int32] = [0, 2, 1]
        let loss: () -> Double = { Double(model.loss(model.forward(inputs), labels: labels).total) }
        _ = loss()
        model.backward()
        let state = model.namedState()
        for key in ["audio.layer4.1.conv2.weight", "depth.layer4.1.conv2.weight", "visual.layer4.1.bn2.weight", "head_fusion.fc.weight"] {
            let p = state.parameter(key)!
            let err = directionalDerivativeError(p.value.data, count: p.value.count, analytic: p.grad.array, relativeStep: 1e-2, loss: loss)
            XCTAssertLessThan(err, 2e-2, key)
        }
    }
}
