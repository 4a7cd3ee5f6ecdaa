/// Convolution (no bias, as every conv in ResNet18) through im2col + OpenBLAS sgemm.
///
/// Two GEMM shapes, chosen per layer: `perImage` runs one GEMM per image with the output plane as
/// the GEMM width (good for large early feature maps); `batched` unfolds the whole batch into one
/// wide matrix so the deep layers' small planes (7x7, 14x14) still give the GEMM a wide N.
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    case perImage, batched
    /// Winograd F(2x2,3x3): 3x3, stride 1, padding 1 only (most of ResNet18's FLOPs).
    case winograd

    /// Shape rule: Winograd wherever it applies (1.5-2.1x faster than im2col on every ResNet18
    /// 3x3 layer, measured); otherwise batching pays once an image's plane is small.
    public static func automatic(for g: ConvGeometry) -> ConvAlgorithm {
        if Winograd3x3.supports(g) { return .winograd }
        return g.outPlane <= 784 ? .batched : .perImage
    }

    public func supports(_ g: ConvGeometry) -> Bool { self != .winograd || Winograd3x3.supports(g) }

    /// Floats of scratch space the algorithm needs for this geometry.
    public func workspaceCount(_ g: ConvGeometry) -> Int {
        switch self {
        case .perImage: return g.isPointwise ? 0 : g.patchSize * g.outPlane
        case .batched: return (g.patchSize + g.outChannels) * g.batch * g.outPlane
        case .winograd: return Winograd3x3.workspaceCount(g)
        }
    }
}

public enum Conv2d {
    /// y[N, Cout, OH, OW] = conv(x[N, Cin, H, W], w[Cout, Cin, KH, KW]).
    public static func forward(_ g: ConvGeometry, algorithm: ConvAlgorithm,
                               x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, workspace: Tensor) {
        precondition(algorithm.supports(g), "\(algorithm) cannot run \(g)")
        let P = g.outPlane, K = g.patchSize, M = g.outChannels
        workspace.resize([max(1, algorithm.workspaceCount(g))])
        let ws = workspace.data
        switch algorithm {
        case .winograd:
            Winograd3x3.forward(g, x: x, w: w, y: y, workspace: ws)
        case .perImage:
            for n in 0..<g.batch {
                let xn = x + n * g.inChannels * g.inPlane
                let col: UnsafePointer<Float>
                if g.isPointwise { col = xn } else { im2col(g, input: xn, col: ws, ldc: P); col = UnsafePointer(ws) }
                sgemm(m: M, n: P, k: K, a: w, lda: K, b: col, ldb: P, c: y + n * M * P, ldc: P)
            }
        case .batched:
            let NP = g.batch * P
            let col = ws, out = ws + K * NP
            unfoldBatch(g, x: x, col: col)
            sgemm(m: M, n: NP, k: K, a: w, lda: K, b: col, ldb: NP, c: out, ldc: NP)
            // out is [Cout, N, P]; y is [N, Cout, P].
            for n in 0..<g.batch {
                for co in 0..<M { (y + (n * M + co) * P).update(from: out + co * NP + n * P, count: P) }
            }
        }
    }

    /// Gradients of a convolution: dw (overwritten) and, when `dx` is given, dx (overwritten).
    public static func backward(_ g: ConvGeometry, algorithm: ConvAlgorithm,
                                x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dw: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                workspace: Tensor) {
        precondition(algorithm.supports(g), "\(algorithm) cannot run \(g)")
        let P = g.outPlane, K = g.patchSize, M = g.outChannels, inImage = g.inChannels * g.inPlane
        workspace.resize([max(1, algorithm.workspaceCount(g))])
        let ws = workspace.data
        switch algorithm {
        case .winograd:
            Winograd3x3.backwardWeight(g, x: x, dy: dy, dw: dw, workspace: ws)
            if let dx { Winograd3x3.backwardData(g, dy: dy, w: w, dx: dx, workspace: ws) }
        case .perImage:
            for n in 0..<g.batch {
                let xn = x + n * inImage, dyn = dy + n * M * P
                let col: UnsafePointer<Float>
                if g.isPointwise { col = xn } else { im2col(g, input: xn, col: ws, ldc: P); col = UnsafePointer(ws) }
                // dw += dy_n [M, P] x col^T [P, K]
                sgemm(transB: true, m: M, n: K, k: P, a: dyn, lda: P, b: col, ldb: P,
                      beta: n == 0 ? 0 : 1, c: dw, ldc: K)
                guard let dx else { continue }
                let dxn = dx + n * inImage
                if g.isPointwise {
                    sgemm(transA: true, m: K, n: P, k: M, a: w, lda: K, b: dyn, ldb: P, c: dxn, ldc: P)
                } else {
                    // dcol = w^T [K, M] x dy_n [M, P], then fold back into the image.
                    sgemm(transA: true, m: K, n: P, k: M, a: w, lda: K, b: dyn, ldb: P, c: ws, ldc: P)
                    dxn.update(repeating: 0, count: inImage)
                    col2im(g, col: ws, ldc: P, input: dxn)
                }
            }
        case .batched:
            let NP = g.batch * P
            let col = ws, dyT = ws + K * NP
            // dyT is dy rearranged to [Cout, N, P] to match the unfolded batch.
            for n in 0..<g.batch {
                for co in 0..<M { (dyT + co * NP + n * P).update(from: dy + (n * M + co) * P, count: P) }
            }
            unfoldBatch(g, x: x, col: col)
            sgemm(transB: true, m: M, n: K, k: NP, a: dyT, lda: NP, b: col, ldb: NP, c: dw, ldc: K)
            guard let dx else { return }
            sgemm(transA: true, m: K, n: NP, k: M, a: w, lda: K, b: dyT, ldb: NP, c: col, ldc: NP)
            if g.isPointwise {
                for n in 0..<g.batch {
                    for ci in 0..<K { (dx + n * inImage + ci * P).update(from: col + ci * NP + n * P, count: P) }
                }
            } else {
                dx.update(repeating: 0, count: g.batch * inImage)
                for n in 0..<g.batch { col2im(g, col: col + n * P, ldc: NP, input: dx + n * inImage) }
            }
        }
    }

    /// im2col of every image side by side: col is [patchSize, N * outPlane].
    static func unfoldBatch(_ g: ConvGeometry, x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>) {
        let P = g.outPlane, NP = g.batch * P, inImage = g.inChannels * g.inPlane
        for n in 0..<g.batch {
            if g.isPointwise {
                for ci in 0..<g.inChannels { (col + ci * NP + n * P).update(from: x + n * inImage + ci * P, count: P) }
            } else {
                im2col(g, input: x + n * inImage, col: col + n * P, ldc: NP)
            }
        }
    }
}
