import XCTest
import Tensor
import TestSupport

final class ConvolutionTests: XCTestCase {
    /// Plain six-loop convolution in double precision: the independent reference.
    func directConv(_ g: ConvGeometry, _ x: [Float], _ w: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * g.outPlane)
        for n in 0..<g.batch { for co in 0..<g.outChannels { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            var s = 0.0
            for ci in 0..<g.inChannels { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width { continue }
                s += Double(x[((n * g.inChannels + ci) * g.height + iy) * g.width + ix])
                   * Double(w[((co * g.inChannels + ci) * g.kernelH + ky) * g.kernelW + kx])
            } } }
            y[((n * g.outChannels + co) * g.outHeight + oy) * g.outWidth + ox] = Float(s)
        } } } }
        return y
    }

    func run(_ g: ConvGeometry, _ alg: ConvAlgorithm, x: Tensor, w: Tensor, dy: Tensor?) -> (y: Tensor, dx: Tensor, dw: Tensor) {
        let ws = Tensor(shape: [0]), y = Tensor(shape: g.outputShape)
        Conv2d.forward(g, algorithm: alg, x: x.data, w: w.data, y: y.data, workspace: ws)
        let dx = Tensor(shape: g.inputShape), dw = Tensor(shape: g.weightShape)
        if let dy { Conv2d.backward(g, algorithm: alg, x: x.data, w: w.data, dy: dy.data, dw: dw.data, dx: dx.data, workspace: ws) }
        return (y, dx, dw)
    }

    func testMatchesDirectConvolutionOnRandomGeometries() {
        var rng = SeededRandom(seed: 7)
        for trial in 0..<40 {
            let k = [1, 2, 3, 5, 7][rng.below(5)], s = 1 + rng.below(3), p = rng.below(k / 2 + 2)
            let h = max(k, 1 + rng.below(12)), wd = max(k, 1 + rng.below(12))
            guard (h + 2 * p - k) / s + 1 >= 1, (wd + 2 * p - k) / s + 1 >= 1 else { continue }
            let g = ConvGeometry(batch: 1 + rng.below(3), inChannels: 1 + rng.below(4), height: h, width: wd,
                                 outChannels: 1 + rng.below(5), kernel: k, stride: s, padding: p)
            let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng)
            let ref = directConv(g, x.array, w.array)
            for alg in ConvAlgorithm.allCases where alg.supports(g) {
                let out = run(g, alg, x: x, w: w, dy: nil)
                XCTAssertLessThan(relativeError(out.y.array, ref), 1e-5, "trial \(trial) \(alg) \(g)")
            }
        }
    }

    /// Convolution is linear in x and in w, so central differences are exact up to rounding:
    /// this checks the backward pass against the forward without any outside reference.
    func testGradientsByFiniteDifferences() {
        var rng = SeededRandom(seed: 11)
        let shapes: [(Int, Int, Int, Int, Int, Int, Int)] = [(2, 3, 9, 8, 4, 3, 1), (2, 2, 11, 10, 3, 7, 2), (3, 4, 6, 7, 5, 1, 1),
                                                             (2, 4, 7, 7, 3, 1, 2), (1, 2, 8, 9, 2, 5, 3)]
        for (n, c, h, w, o, k, s) in shapes {
            let g = ConvGeometry(batch: n, inChannels: c, height: h, width: w, outChannels: o, kernel: k, stride: s, padding: k / 2)
            let x = randomTensor(g.inputShape, &rng), wt = randomTensor(g.weightShape, &rng)
            let r = randomTensor(g.outputShape, &rng)
            for alg in ConvAlgorithm.allCases where alg.supports(g) {
                let out = run(g, alg, x: x, w: wt, dy: r)
                let y = Tensor(shape: g.outputShape), ws = Tensor(shape: [0])
                let loss: () -> Double = {
                    Conv2d.forward(g, algorithm: alg, x: x.data, w: wt.data, y: y.data, workspace: ws)
                    return weightedSum(y, r.array)
                }
                XCTAssertLessThan(finiteDifferenceError(x.data, count: x.count, analytic: out.dx.array, loss: loss), 2e-3, "dx \(alg) \(g)")
                XCTAssertLessThan(finiteDifferenceError(wt.data, count: wt.count, analytic: out.dw.array, loss: loss), 2e-3, "dw \(alg) \(g)")
            }
        }
    }

    func testMatchesPyTorch() throws {
        let f = try Fixture("layers")
        for i in 0..<f.int("conv_count") {
            let x = f.tensor("conv\(i)/x"), w = f.tensor("conv\(i)/w"), dy = f.tensor("conv\(i)/dy")
            let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                                 outChannels: w.shape[0], kernel: w.shape[2], stride: f.int("conv\(i)_stride"),
                                 padding: f.int("conv\(i)_pad"))
            for alg in ConvAlgorithm.allCases where alg.supports(g) {
                let out = run(g, alg, x: x, w: w, dy: dy)
                XCTAssertEqual(out.y.shape, f.shape("conv\(i)/y"))
                XCTAssertLessThan(relativeError(out.y.array, f.values("conv\(i)/y")), 1e-5, "conv\(i) y \(alg)")
                XCTAssertLessThan(relativeError(out.dx.array, f.values("conv\(i)/dx")), 1e-5, "conv\(i) dx \(alg)")
                XCTAssertLessThan(relativeError(out.dw.array, f.values("conv\(i)/dw")), 1e-5, "conv\(i) dw \(alg)")
            }
        }
    }
}
