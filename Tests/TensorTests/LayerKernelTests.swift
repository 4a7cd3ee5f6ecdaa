import XCTest
import Tensor
import TestSupport

final class BatchNormKernelTests: XCTestCase {
    func testTrainForwardBackwardAndRunningStatsMatchPyTorch() throws {
        let f = try Fixture("layers")
        let x = f.tensor("bn/x"), s = BatchNorm.Shape(batch: x.shape[0], channels: x.shape[1], plane: x.shape[2] * x.shape[3])
        let gamma = f.tensor("bn/weight"), beta = f.tensor("bn/bias")
        let rm = f.tensor("bn/running_mean"), rv = f.tensor("bn/running_var")
        let y = Tensor(shape: x.shape), mean = Tensor(shape: [s.channels]), inv = Tensor(shape: [s.channels])
        BatchNorm.forwardTrain(s, x: x.data, gamma: gamma.data, beta: beta.data, runningMean: rm.data, runningVar: rv.data,
                               momentum: 0.1, eps: 1e-5, relu: false, y: y.data, saveMean: mean.data, saveInvStd: inv.data)
        XCTAssertLessThan(relativeError(y.array, f.values("bn/y_train")), 1e-5)
        XCTAssertLessThan(relativeError(rm.array, f.values("bn/running_mean_after")), 1e-6)
        XCTAssertLessThan(relativeError(rv.array, f.values("bn/running_var_after")), 1e-6)
        let dy = f.tensor("bn/dy"), dx = Tensor(shape: x.shape)
        let dg = Tensor(shape: [s.channels]), db = Tensor(shape: [s.channels])
        BatchNorm.backwardTrain(s, x: x.data, y: y.data, relu: false, gamma: gamma.data, saveMean: mean.data, saveInvStd: inv.data,
                                dy: dy.data, dx: dx.data, dgamma: dg.data, dbeta: db.data)
        XCTAssertLessThan(relativeError(dx.array, f.values("bn/dx")), 1e-4)
        XCTAssertLessThan(relativeError(dg.array, f.values("bn/dweight")), 1e-5)
        XCTAssertLessThan(relativeError(db.array, f.values("bn/dbias")), 1e-5)
        BatchNorm.forwardEval(s, x: x.data, gamma: gamma.data, beta: beta.data, runningMean: rm.data, runningVar: rv.data,
                              eps: 1e-5, relu: false, y: y.data)
        XCTAssertLessThan(relativeError(y.array, f.values("bn/y_eval")), 1e-5)
    }

    /// BatchNorm (+ fused ReLU) gradients against central differences of the training forward.
    func testFusedReluGradientsByFiniteDifferences() {
        var rng = SeededRandom(seed: 3)
        for relu in [false, true] {
            let s = BatchNorm.Shape(batch: 3, channels: 4, plane: 10)
            let shape = [3, 4, 2, 5]
            let x = randomTensor(shape, &rng, std: 2), gamma = randomTensor([4], &rng), beta = randomTensor([4], &rng)
            let r = randomTensor(shape, &rng)
            let rm = Tensor(shape: [4]), rv = Tensor(shape: [4]), mean = Tensor(shape: [4]), inv = Tensor(shape: [4])
            let y = Tensor(shape: shape)
            let loss: () -> Double = {
                BatchNorm.forwardTrain(s, x: x.data, gamma: gamma.data, beta: beta.data, runningMean: rm.data, runningVar: rv.data,
                                       momentum: 0.1, eps: 1e-5, relu: relu, y: y.data, saveMean: mean.data, saveInvStd: inv.data)
                return weightedSum(y, r.array)
            }
            _ = loss()
            let dy = r.clone(), dx = Tensor(shape: shape), dg = Tensor(shape: [4]), db = Tensor(shape: [4])
            BatchNorm.backwardTrain(s, x: x.data, y: y.data, relu: relu, gamma: gamma.data, saveMean: mean.data, saveInvStd: inv.data,
                                    dy: dy.data, dx: dx.data, dgamma: dg.data, dbeta: db.data)
            XCTAssertLessThan(finiteDifferenceError(x.data, count: x.count, analytic: dx.array, probes: 40, eps: 1e-3, loss: loss), 1e-2, "dx relu=\(relu)")
            XCTAssertLessThan(finiteDifferenceError(gamma.data, count: 4, analytic: dg.array, eps: 1e-3, loss: loss), 1e-2, "dgamma relu=\(relu)")
            XCTAssertLessThan(finiteDifferenceError(beta.data, count: 4, analytic: db.array, eps: 1e-3, loss: loss), 1e-2, "dbeta relu=\(relu)")
        }
    }

    /// dx may alias dy (the layers rely on it to save a buffer).
    func testBackwardInPlaceEqualsOutOfPlace() {
        var rng = SeededRandom(seed: 4)
        let s = BatchNorm.Shape(batch: 2, channels: 3, plane: 37), shape = [2, 3, 37, 1]
        let x = randomTensor(shape, &rng), gamma = randomTensor([3], &rng), beta = randomTensor([3], &rng)
        let y = Tensor(shape: shape), rm = Tensor(shape: [3]), rv = Tensor(shape: [3]), m = Tensor(shape: [3]), iv = Tensor(shape: [3])
        BatchNorm.forwardTrain(s, x: x.data, gamma: gamma.data, beta: beta.data, runningMean: rm.data, runningVar: rv.data,
                               momentum: 0.1, eps: 1e-5, relu: true, y: y.data, saveMean: m.data, saveInvStd: iv.data)
        let dy1 = randomTensor(shape, &rng), dy2 = dy1.clone(), dx = Tensor(shape: shape)
        let g1 = Tensor(shape: [3]), b1 = Tensor(shape: [3]), g2 = Tensor(shape: [3]), b2 = Tensor(shape: [3])
        BatchNorm.backwardTrain(s, x: x.data, y: y.data, relu: true, gamma: gamma.data, saveMean: m.data, saveInvStd: iv.data,
                                dy: dy1.data, dx: dx.data, dgamma: g1.data, dbeta: b1.data)
        BatchNorm.backwardTrain(s, x: x.data, y: y.data, relu: true, gamma: gamma.data, saveMean: m.data, saveInvStd: iv.data,
                                dy: dy2.data, dx: dy2.data, dgamma: g2.data, dbeta: b2.data)
        XCTAssertEqual(dx.array, dy2.array)
        XCTAssertEqual(g1.array, g2.array)
    }
}

final class PoolingLossLinearTests: XCTestCase {
    func testMaxPoolMatchesPyTorch() throws {
        let f = try Fixture("layers")
        let x = f.tensor("maxpool/x")
        let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                             outChannels: x.shape[1], kernel: 3, stride: 2, padding: 1)
        let y = Tensor(shape: g.outputShape)
        MaxPool.forward(g, x: x.data, y: y.data)
        XCTAssertEqual(y.shape, f.shape("maxpool/y"))
        XCTAssertEqual(y.array, f.values("maxpool/y"))
        let dx = Tensor(shape: x.shape), dy = f.tensor("maxpool/dy")
        MaxPool.backward(g, x: x.data, y: y.data, dy: dy.data, dx: dx.data)
        XCTAssertLessThan(relativeError(dx.array, f.values("maxpool/dx")), 1e-6)
    }

    /// The vectorised 3x3/s2/p1 path against the generic window loop on many plane sizes
    /// (odd, even, narrower than a vector, wider than two).
    func testStemPoolFastPathMatchesGenericLoop() {
        var rng = SeededRandom(seed: 8)
        for (h, w) in [(1, 1), (2, 3), (5, 7), (8, 8), (9, 33), (16, 34), (17, 64), (13, 65), (112, 112), (129, 94)] {
            let g = ConvGeometry(batch: 2, inChannels: 2, height: h, width: w, outChannels: 2, kernel: 3, stride: 2, padding: 1)
            let x = randomTensor(g.inputShape, &rng)
            let a = Tensor(shape: g.outputShape), b = Tensor(shape: g.outputShape)
            MaxPool.forward(g, x: x.data, y: a.data)
            MaxPool.forwardGenericForTesting(g, x: x.data, y: b.data)
            XCTAssertTrue(a.array == b.array, "\(h)x\(w): fast path differs from the window loop")
        }
    }

    func testMaxPoolTiesGoToFirstMaximum() {
        let g = ConvGeometry(batch: 1, inChannels: 1, height: 2, width: 2, outChannels: 1, kernel: 3, stride: 2, padding: 1)
        let x = Tensor(shape: [1, 1, 2, 2], values: [1, 5, 5, 5])
        let y = Tensor(shape: g.outputShape), dx = Tensor(shape: x.shape), dy = Tensor(shape: [1, 1, 1, 1], values: [2])
        MaxPool.forward(g, x: x.data, y: y.data)
        XCTAssertEqual(y.array, [5])
        MaxPool.backward(g, x: x.data, y: y.data, dy: dy.data, dx: dx.data)
        XCTAssertEqual(dx.array, [0, 2, 0, 0])
    }

    func testCrossEntropyMatchesPyTorch() throws {
        let f = try Fixture("layers")
        let z = f.tensor("ce/logits"), labels = f.labels("ce/labels")
        let p = Tensor(shape: z.shape), d = Tensor(shape: z.shape)
        let loss = SoftmaxCrossEntropy.forward(batch: z.shape[0], classes: z.shape[1], logits: z.data, labels: labels, probs: p.data)
        XCTAssertEqual(loss, f.values("ce/loss")[0], accuracy: 1e-6 * max(1, abs(loss)))
        SoftmaxCrossEntropy.backward(batch: z.shape[0], classes: z.shape[1], probs: p.data, labels: labels, dlogits: d.data)
        XCTAssertLessThan(relativeError(d.array, f.values("ce/dlogits")), 1e-6)
    }

    func testCrossEntropyIsStableForHugeLogits() {
        let z = Tensor(shape: [1, 3], values: [1000, -1000, 0]), p = Tensor(shape: [1, 3])
        let loss = SoftmaxCrossEntropy.forward(batch: 1, classes: 3, logits: z.data, labels: [1], probs: p.data)
        XCTAssertEqual(loss, 2000, accuracy: 1e-3)
        XCTAssertTrue(p.array.allSatisfy(\.isFinite))
    }

    func testLinearMatchesPyTorchAndFiniteDifferences() throws {
        let f = try Fixture("layers")
        let x = f.tensor("linear/x"), w = f.tensor("linear/w"), b = f.tensor("linear/b"), dyT = f.tensor("linear/dy")
        let (n, i, o) = (x.shape[0], x.shape[1], w.shape[0])
        let y = Tensor(shape: [n, o]), dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape), db = Tensor(shape: [o])
        LinearKernel.forward(batch: n, inFeatures: i, outFeatures: o, x: x.data, w: w.data, b: b.data, y: y.data)
        XCTAssertLessThan(relativeError(y.array, f.values("linear/y")), 1e-6)
        LinearKernel.backward(batch: n, inFeatures: i, outFeatures: o, x: x.data, w: w.data, dy: dyT.data, dw: dw.data, db: db.data, dx: dx.data)
        XCTAssertLessThan(relativeError(dx.array, f.values("linear/dx")), 1e-6)
        XCTAssertLessThan(relativeError(dw.array, f.values("linear/dw")), 1e-6)
        XCTAssertLessThan(relativeError(db.array, f.values("linear/db")), 1e-6)
        let loss: () -> Double = {
            LinearKernel.forward(batch: n, inFeatures: i, outFeatures: o, x: x.data, w: w.data, b: b.data, y: y.data)
            return weightedSum(y, dyT.array)
        }
        XCTAssertLessThan(finiteDifferenceError(w.data, count: w.count, analytic: dw.array, loss: loss), 1e-3)
        XCTAssertLessThan(finiteDifferenceError(b.data, count: b.count, analytic: db.array, loss: loss), 1e-3)
        XCTAssertLessThan(finiteDifferenceError(x.data, count: x.count, analytic: dx.array, loss: loss), 1e-3)
    }

    func testGlobalAveragePoolAndItsAdjoint() {
        var rng = SeededRandom(seed: 5)
        let x = randomTensor([2, 3, 4, 5], &rng), y = Tensor(shape: [2, 3])
        GlobalAvgPool.forward(planes: 6, plane: 20, x: x.data, y: y.data)
        for i in 0..<6 { XCTAssertEqual(y[i], x.array[(i * 20)..<(i * 20 + 20)].reduce(0, +) / 20, accuracy: 1e-5) }
        let r = randomTensor([2, 3], &rng), dx = Tensor(shape: x.shape)
        GlobalAvgPool.backward(planes: 6, plane: 20, dy: r.data, dx: dx.data)
        let loss: () -> Double = { GlobalAvgPool.forward(planes: 6, plane: 20, x: x.data, y: y.data); return weightedSum(y, r.array) }
        XCTAssertLessThan(finiteDifferenceError(x.data, count: x.count, analytic: dx.array, loss: loss), 1e-3)
    }
}

final class RandomTests: XCTestCase {
    func testSameSeedSameStreamAndStreamsDiffer() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 42, stream: 1)
        let xa = (0..<100).map { _ in a.next() }, xb = (0..<100).map { _ in b.next() }, xc = (0..<100).map { _ in c.next() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa, xc)
    }

    func testNormalMomentsAndPermutation() {
        var r = SeededRandom(seed: 1)
        let xs = (0..<200_000).map { _ in Double(r.normal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let v = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(v, 1, accuracy: 0.01)
        let p = r.permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Array(0..<1000))
    }
}
