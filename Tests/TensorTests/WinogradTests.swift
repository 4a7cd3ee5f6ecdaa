import XCTest
import Tensor
import TestSupport

/// Winograd F(2x2, 3x3) against the im2col path (`ConvAlgorithm.perImage`, itself checked against
/// PyTorch and a direct convolution in ConvolutionTests).
///
/// Bound: relative error max|a - b| / max|b| < 1e-5 for y, dx and dw. The transforms only add and
/// halve, so Winograd's rounding error is a few float32 ulps of the largest term: at most 4e-7 over
/// 200 random geometries like these, and under 9e-7 on the batch-16 ResNet18 layer shapes. 1e-5
/// leaves room while still catching any wrong tile, border or index (those give errors of order 1).
final class WinogradTests: XCTestCase {
    func reference(_ g: ConvGeometry, x: Tensor, w: Tensor, dy: Tensor) -> (y: Tensor, dx: Tensor, dw: Tensor) {
        let ws = Tensor(shape: [0]), y = Tensor(shape: g.outputShape)
        let dx = Tensor(shape: g.inputShape), dw = Tensor(shape: g.weightShape)
        Conv2d.forward(g, algorithm: .perImage, x: x.data, w: w.data, y: y.data, workspace: ws)
        Conv2d.backward(g, algorithm: .perImage, x: x.data, w: w.data, dy: dy.data, dw: dw.data, dx: dx.data, workspace: ws)
        return (y, dx, dw)
    }

    func check(_ g: ConvGeometry, _ rng: inout SeededRandom, _ label: String) {
        XCTAssertTrue(Winograd3x3.supports(g))
        let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng)
        let dy = randomTensor(g.outputShape, &rng)
        let ref = reference(g, x: x, w: w, dy: dy)
        let ws = Tensor(shape: [Winograd3x3.workspaceCount(g)])
        // Outputs start as garbage: every entry must be overwritten.
        let y = Tensor(shape: g.outputShape), dx = Tensor(shape: g.inputShape), dw = Tensor(shape: g.weightShape)
        y.fill(.nan); dx.fill(.nan); dw.fill(.nan); ws.fill(.nan)
        Winograd3x3.forward(g, x: x.data, w: w.data, y: y.data, workspace: ws.data)
        Winograd3x3.backwardData(g, dy: dy.data, w: w.data, dx: dx.data, workspace: ws.data)
        Winograd3x3.backwardWeight(g, x: x.data, dy: dy.data, dw: dw.data, workspace: ws.data)
        XCTAssertLessThan(relativeError(y.array, ref.y.array), 1e-5, "y \(label) \(g)")
        XCTAssertLessThan(relativeError(dx.array, ref.dx.array), 1e-5, "dx \(label) \(g)")
        XCTAssertLessThan(relativeError(dw.array, ref.dw.array), 1e-5, "dw \(label) \(g)")
    }

    func testSupportsOnly3x3Stride1Padding1() {
        XCTAssertTrue(Winograd3x3.supports(ConvGeometry(batch: 1, inChannels: 2, height: 5, width: 5, outChannels: 3, kernel: 3, stride: 1, padding: 1)))
        XCTAssertFalse(Winograd3x3.supports(ConvGeometry(batch: 1, inChannels: 2, height: 5, width: 5, outChannels: 3, kernel: 3, stride: 2, padding: 1)))
        XCTAssertFalse(Winograd3x3.supports(ConvGeometry(batch: 1, inChannels: 2, height: 5, width: 5, outChannels: 3, kernel: 3, stride: 1, padding: 0)))
        XCTAssertFalse(Winograd3x3.supports(ConvGeometry(batch: 1, inChannels: 2, height: 5, width: 5, outChannels: 3, kernel: 1, stride: 1, padding: 0)))
    }

    /// Small and odd planes, where most tiles touch the zero padding or the unused half-tile border.
    func testMatchesIm2colOnOddPlanes() {
        var rng = SeededRandom(seed: 31)
        let planes = [(1, 1), (2, 3), (5, 7), (9, 8), (1, 6), (7, 1), (3, 3), (4, 4)]
        for (i, (h, w)) in planes.enumerated() {
            let g = ConvGeometry(batch: 1 + i % 3, inChannels: 1 + (i * 3) % 7, height: h, width: w,
                                 outChannels: 1 + (i * 5) % 7, kernel: 3, stride: 1, padding: 1)
            check(g, &rng, "plane \(h)x\(w)")
        }
    }

    func testMatchesIm2colOnRandomGeometries() {
        var rng = SeededRandom(seed: 32)
        for trial in 0..<24 {
            let g = ConvGeometry(batch: 1 + rng.below(3), inChannels: 1 + rng.below(7), height: 1 + rng.below(13),
                                 width: 1 + rng.below(13), outChannels: 1 + rng.below(7), kernel: 3, stride: 1, padding: 1)
            check(g, &rng, "trial \(trial)")
        }
    }

    /// Rows wider than one vector of tiles, and a batch spread over several chunks whose boundaries
    /// cut tile rows and images (3 images of 17 x 23 tiles).
    func testWideRowsAndSeveralChunks() {
        var rng = SeededRandom(seed: 33)
        let g = ConvGeometry(batch: 3, inChannels: 3, height: 33, width: 45, outChannels: 2, kernel: 3, stride: 1, padding: 1)
        XCTAssertLessThan(Winograd3x3.chunkTiles(g), 3 * 17 * 23)
        check(g, &rng, "multi-chunk")
    }

    /// Wide, unequal channel counts (the chunking rule for large layers) with a last chunk of a few
    /// tiles: 2 images of 11 x 12 tiles.
    func testManyChannels() {
        var rng = SeededRandom(seed: 34)
        let g = ConvGeometry(batch: 2, inChannels: 160, height: 21, width: 23, outChannels: 144, kernel: 3, stride: 1, padding: 1)
        XCTAssertLessThan(Winograd3x3.chunkTiles(g), 2 * 11 * 12)
        check(g, &rng, "many channels")
    }
}
