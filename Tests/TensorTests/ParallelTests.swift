import XCTest
import Tensor
import TestSupport

/// The parallel kernels against the serial ones (`Parallel.workers` = 1).
///
/// Exact (bit-identical): the im2col forward and data-gradient passes (workers take whole images;
/// each image's columns go through the same products as serially), BatchNorm (each channel's
/// statistics summed by one worker), pooling and the element-wise passes.
/// Within a bound, relative error max|a - b| / max|b| < 1e-6 asserted:
/// - the weight gradients, whose sum over the batch is split into one partial per worker and
///   re-associated (a few ulps of the largest partial sum);
/// - the Winograd forward and data gradient where each worker chunks its own images: the tile
///   GEMMs see other widths than serially, and OpenBLAS's kernels round some columns differently
///   by width (same products, same order of the Cin sum in our code). Measured up to 3.5e-7; a few
///   percent of the entries differ in the last bit or two. (Layers whose planes are too small for
///   that split the chunks instead and are bit-identical, see testWinogradChunkSplitIsExact.)
/// Every result is deterministic for a given worker count (no dependence on timing): checked by
/// running each parallel case twice.
final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.setWorkers(1) }

    func testPiecesCoverTheRangeOnce() {
        for workers in [1, 2, 3, 5] {
            Parallel.setWorkers(workers)
            for n in [0, 1, 2, 7, 64, 1000] {
                var seen = [Int](repeating: 0, count: n)
                seen.withUnsafeMutableBufferPointer { buf in
                    let p = buf.baseAddress!
                    Parallel.forEach(n) { _, r in for i in r { p[i] += 1 } }
                }
                XCTAssertEqual(seen, [Int](repeating: 1, count: n), "forEach n=\(n) workers=\(workers)")
                var blocks = [Int](repeating: 0, count: n)
                blocks.withUnsafeMutableBufferPointer { buf in
                    let p = buf.baseAddress!
                    Parallel.forEachBlock(n, block: 16, minPerWorker: 1) { r in for i in r { p[i] += 1 } }
                }
                XCTAssertEqual(blocks, [Int](repeating: 1, count: n), "forEachBlock n=\(n) workers=\(workers)")
            }
        }
    }

    /// Many short fork-joins in a row (the Winograd passes dispatch several per chunk), and a nested
    /// call, which runs serially on the worker that makes it.
    func testManyDispatchesAndNesting() {
        Parallel.setWorkers(3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: 3)
        for _ in 0..<2_000 { Parallel.run { w in counts[w] += 1 } }
        XCTAssertEqual([counts[0], counts[1], counts[2]], [2_000, 2_000, 2_000])
        let inner = UnsafeMutablePointer<Int>.allocate(capacity: 9)
        defer { inner.deallocate() }
        inner.initialize(repeating: 0, count: 9)
        Parallel.run { w in Parallel.run { v in inner[3 * w + v] += 1 } }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: inner, count: 9)), [Int](repeating: 1, count: 9))
    }

    /// Bit-for-bit equality, reported as a count of differing entries (not the arrays).
    func assertIdentical(_ a: [Float], _ b: [Float], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(differing) of \(a.count) entries differ (relative error \(relativeError(a, b))): \(label)",
                       file: file, line: line)
    }

    struct ConvResult { let y: [Float], dx: [Float], dw: [Float] }

    func convolve(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, workers: Int, x: Tensor, w: Tensor, dy: Tensor) -> ConvResult {
        Parallel.setWorkers(workers)
        let ws = Tensor(shape: [0]), y = Tensor(shape: g.outputShape)
        let dx = Tensor(shape: g.inputShape), dw = Tensor(shape: g.weightShape)
        y.fill(.nan); dx.fill(.nan); dw.fill(.nan)
        Conv2d.forward(g, algorithm: algorithm, x: x.data, w: w.data, y: y.data, workspace: ws)
        ws.fill(.nan)
        Conv2d.backward(g, algorithm: algorithm, x: x.data, w: w.data, dy: dy.data, dw: dw.data, dx: dx.data, workspace: ws)
        return ConvResult(y: y.array, dx: dx.array, dw: dw.array)
    }

    /// ResNet18-like layers (batch 4, reduced planes) through every algorithm that supports them,
    /// several of them over several Winograd chunks.
    func testConvolutionsMatchSerial() {
        var rng = SeededRandom(seed: 71)
        let shapes: [(c: Int, h: Int, w: Int, m: Int, k: Int, s: Int, p: Int)] = [
            (3, 45, 38, 64, 7, 2, 3),      // stem
            (64, 28, 23, 64, 3, 1, 1),     // layer1
            (64, 28, 23, 128, 3, 2, 1),    // layer2.0.conv1
            (64, 28, 23, 128, 1, 2, 0),    // downsample
            (128, 14, 12, 128, 3, 1, 1),   // layer2
            (256, 7, 6, 256, 3, 1, 1),     // layer3
            (5, 9, 9, 7, 1, 1, 0),         // pointwise
        ]
        for (i, sh) in shapes.enumerated() {
            let g = ConvGeometry(batch: 4 + i % 2, inChannels: sh.c, height: sh.h, width: sh.w, outChannels: sh.m,
                                 kernel: sh.k, stride: sh.s, padding: sh.p)
            let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng), dy = randomTensor(g.outputShape, &rng)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                let serial = convolve(g, algorithm, workers: 1, x: x, w: w, dy: dy)
                for workers in [2, 3] {
                    let par = convolve(g, algorithm, workers: workers, x: x, w: w, dy: dy)
                    let again = convolve(g, algorithm, workers: workers, x: x, w: w, dy: dy)
                    let label = "\(algorithm) workers=\(workers) \(g)"
                    if algorithm == .winograd {
                        XCTAssertLessThan(relativeError(par.y, serial.y), 1e-6, "y " + label)
                        XCTAssertLessThan(relativeError(par.dx, serial.dx), 1e-6, "dx " + label)
                    } else {
                        assertIdentical(par.y, serial.y, "y " + label)
                        assertIdentical(par.dx, serial.dx, "dx " + label)
                    }
                    XCTAssertLessThan(relativeError(par.dw, serial.dw), 1e-6, "dw " + label)
                    assertIdentical(again.y, par.y, "repeat y " + label)
                    assertIdentical(again.dx, par.dx, "repeat dx " + label)
                    assertIdentical(again.dw, par.dw, "repeat dw " + label)
                }
            }
        }
    }

    /// Small planes, where a worker's images would give fewer tiles than a chunk: the workers split
    /// each chunk (channels, tile positions) instead, and all three passes are bit-identical.
    func testWinogradChunkSplitIsExact() {
        var rng = SeededRandom(seed: 73)
        for (c, m, h, w) in [(64, 64, 7, 7), (48, 80, 9, 6), (512, 512, 3, 3)] {
            let g = ConvGeometry(batch: 2, inChannels: c, height: h, width: w, outChannels: m, kernel: 3, stride: 1, padding: 1)
            let x = randomTensor(g.inputShape, &rng), wt = randomTensor(g.weightShape, &rng), dy = randomTensor(g.outputShape, &rng)
            let serial = convolve(g, .winograd, workers: 1, x: x, w: wt, dy: dy)
            for workers in [2, 3] {
                let par = convolve(g, .winograd, workers: workers, x: x, w: wt, dy: dy)
                assertIdentical(par.y, serial.y, "y workers=\(workers) \(g)")
                assertIdentical(par.dx, serial.dx, "dx workers=\(workers) \(g)")
                assertIdentical(par.dw, serial.dw, "dw workers=\(workers) \(g)")
            }
        }
    }

    func testBatchNormPoolingAndElementwiseMatchSerial() {
        var rng = SeededRandom(seed: 72)
        let shape = [4, 24, 17, 19], s = BatchNorm.Shape(batch: 4, channels: 24, plane: 17 * 19)
        let x = randomTensor(shape, &rng, std: 2), gamma = randomTensor([24], &rng), beta = randomTensor([24], &rng)
        let dyIn = randomTensor(shape, &rng), other = randomTensor(shape, &rng)
        let pool = ConvGeometry(batch: 4, inChannels: 24, height: 17, width: 19, outChannels: 24, kernel: 3, stride: 2, padding: 1)
        let pdy = randomTensor(pool.outputShape, &rng)
        func run(_ workers: Int) -> [[Float]] {
            Parallel.setWorkers(workers)
            var out: [[Float]] = []
            for relu in [false, true] {
                let rm = Tensor(shape: [24]), rv = Tensor(shape: [24]), mean = Tensor(shape: [24]), inv = Tensor(shape: [24])
                let y = Tensor(shape: shape), dy = dyIn.clone(), dx = Tensor(shape: shape)
                let dg = Tensor(shape: [24]), db = Tensor(shape: [24])
                BatchNorm.forwardTrain(s, x: x.data, gamma: gamma.data, beta: beta.data, runningMean: rm.data, runningVar: rv.data,
                                       momentum: 0.1, eps: 1e-5, relu: relu, y: y.data, saveMean: mean.data, saveInvStd: inv.data)
                BatchNorm.backwardTrain(s, x: x.data, y: y.data, relu: relu, gamma: gamma.data, saveMean: mean.data,
                                        saveInvStd: inv.data, dy: dy.data, dx: dx.data, dgamma: dg.data, dbeta: db.data)
                let ye = Tensor(shape: shape)
                BatchNorm.forwardEval(s, x: x.data, gamma: gamma.data, beta: beta.data, runningMean: rm.data, runningVar: rv.data,
                                      eps: 1e-5, relu: relu, y: ye.data)
                out += [y.array, dx.array, dg.array, db.array, rm.array, rv.array, mean.array, inv.array, ye.array]
            }
            let py = Tensor(shape: pool.outputShape), pdx = Tensor(shape: pool.inputShape)
            MaxPool.forward(pool, x: x.data, y: py.data)
            MaxPool.backward(pool, x: x.data, y: py.data, dy: pdy.data, dx: pdx.data)
            let gy = Tensor(shape: [4 * 24]), gdx = Tensor(shape: shape)
            GlobalAvgPool.forward(planes: 4 * 24, plane: 17 * 19, x: x.data, y: gy.data)
            GlobalAvgPool.backward(planes: 4 * 24, plane: 17 * 19, dy: gy.data, dx: gdx.data)
            let e = Tensor(shape: shape), r = Tensor(shape: shape), a = other.clone()
            Elementwise.add(x.data, other.data, e.data, e.count, relu: true)
            Elementwise.relu(x.data, r.data, r.count)
            Elementwise.reluBackward(y: r.data, dy: other.data, dx: r.data, r.count)
            Elementwise.axpy(0.5, x.data, a.data, a.count)
            out += [py.array, pdx.array, gy.array, gdx.array, e.array, r.array, a.array]
            return out
        }
        let serial = run(1)
        for workers in [2, 3] {
            let par = run(workers)
            for (i, (p, q)) in zip(par, serial).enumerated() { assertIdentical(p, q, "output \(i), workers \(workers)") }
        }
    }
}
