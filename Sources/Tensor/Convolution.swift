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

    /// Floats of scratch space the algorithm needs for this geometry with `Parallel.workers` workers:
    /// a column matrix per worker (perImage) or one for the batch (batched), plus a partial weight
    /// gradient per extra worker.
    public func workspaceCount(_ g: ConvGeometry) -> Int {
        let workers = Parallel.workers, partials = (workers - 1) * g.outChannels * g.patchSize
        switch self {
        case .perImage: return workers * (g.isPointwise ? 0 : g.patchSize * g.outPlane) + partials
        case .batched: return (g.patchSize + g.outChannels) * g.batch * g.outPlane + partials
        case .winograd: return Winograd3x3.workspaceCount(g)
        }
    }
}

/// Both im2col algorithms split the batch into one contiguous range of images per worker. Forward
/// and data-gradient parts are computed exactly as serially (each image's columns go through the
/// same products); the weight gradient, a sum over the batch, is accumulated per worker and the
/// partial sums are added in worker order: deterministic, and equal to the serial result up to
/// float rounding of the re-associated sum.
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
            let colCount = g.isPointwise ? 0 : K * P
            Parallel.forEach(g.batch) { part, images in
                let cw = ws + part * colCount
                for n in images {
                    let xn = x + n * g.inChannels * g.inPlane
                    let col: UnsafePointer<Float>
                    if g.isPointwise { col = xn } else { im2col(g, input: xn, col: cw, ldc: P); col = UnsafePointer(cw) }
                    sgemm(m: M, n: P, k: K, a: w, lda: K, b: col, ldb: P, c: y + n * M * P, ldc: P)
                }
            }
        case .batched:
            let NP = g.batch * P
            let col = ws, out = ws + K * NP
            // Each worker unfolds its images into their columns, multiplies those columns and
            // moves them from out [Cout, N, P] to y [N, Cout, P].
            Parallel.forEach(g.batch) { _, images in
                let c0 = images.lowerBound * P
                unfoldBatch(g, x: x, col: col, images: images)
                sgemm(m: M, n: images.count * P, k: K, a: w, lda: K, b: col + c0, ldb: NP, c: out + c0, ldc: NP)
                for n in images {
                    for co in 0..<M { (y + (n * M + co) * P).update(from: out + co * NP + n * P, count: P) }
                }
            }
        }
    }

    /// Gradients of a convolution: dw (overwritten) and, when `dx` is given, dx (overwritten).
    public static func backward(_ g: ConvGeometry, algorithm: ConvAlgorithm,
                                x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dw: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                workspace: Tensor) {
        backwardWeight(g, algorithm: algorithm, x: x, dy: dy, dw: dw, workspace: workspace)
        if let dx { backwardData(g, algorithm: algorithm, w: w, dy: dy, dx: dx, workspace: workspace, afterWeightGradient: true) }
    }

    /// dw (overwritten) = gradient of sum(dy * conv(x, w)) with respect to w.
    public static func backwardWeight(_ g: ConvGeometry, algorithm: ConvAlgorithm,
                                      x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                      dw: UnsafeMutablePointer<Float>, workspace: Tensor) {
        precondition(algorithm.supports(g), "\(algorithm) cannot run \(g)")
        let P = g.outPlane, K = g.patchSize, M = g.outChannels, inImage = g.inChannels * g.inPlane
        workspace.resize([max(1, algorithm.workspaceCount(g))])
        let ws = workspace.data
        let parts = min(Parallel.workers, g.batch)
        switch algorithm {
        case .winograd:
            Winograd3x3.backwardWeight(g, x: x, dy: dy, dw: dw, workspace: ws)
        case .perImage:
            let colCount = g.isPointwise ? 0 : K * P
            let partials = ws + Parallel.workers * colCount
            Parallel.forEach(g.batch) { part, images in
                let cw = ws + part * colCount
                let dwPart = part == 0 ? dw : partials + (part - 1) * M * K
                for n in images {
                    let xn = x + n * inImage, dyn = dy + n * M * P
                    let col: UnsafePointer<Float>
                    if g.isPointwise { col = xn } else { im2col(g, input: xn, col: cw, ldc: P); col = UnsafePointer(cw) }
                    // dw += dy_n [M, P] x col^T [P, K]
                    sgemm(transB: true, m: M, n: K, k: P, a: dyn, lda: P, b: col, ldb: P,
                          beta: n == images.lowerBound ? 0 : 1, c: dwPart, ldc: K)
                }
            }
            addPartials(dw, partials, count: M * K, parts: parts)
        case .batched:
            let NP = g.batch * P
            let col = ws, dyT = ws + K * NP, partials = ws + (K + M) * NP
            Parallel.forEach(g.batch) { part, images in
                let c0 = images.lowerBound * P
                let dwPart = part == 0 ? dw : partials + (part - 1) * M * K
                transposeGradient(g, dy: dy, into: dyT, images: images)
                unfoldBatch(g, x: x, col: col, images: images)
                sgemm(transB: true, m: M, n: K, k: images.count * P, a: dyT + c0, lda: NP, b: col + c0, ldb: NP, c: dwPart, ldc: K)
            }
            addPartials(dw, partials, count: M * K, parts: parts)
        }
    }

    /// dx (overwritten) = gradient of sum(dy * conv(x, w)) with respect to x. `afterWeightGradient`:
    /// `backwardWeight` just ran with the same geometry, dy and workspace, so the batched algorithm
    /// finds dy already rearranged there.
    public static func backwardData(_ g: ConvGeometry, algorithm: ConvAlgorithm,
                                    w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, workspace: Tensor, afterWeightGradient: Bool = false) {
        precondition(algorithm.supports(g), "\(algorithm) cannot run \(g)")
        let P = g.outPlane, K = g.patchSize, M = g.outChannels, inImage = g.inChannels * g.inPlane
        workspace.resize([max(1, algorithm.workspaceCount(g))])
        let ws = workspace.data
        switch algorithm {
        case .winograd:
            Winograd3x3.backwardData(g, dy: dy, w: w, dx: dx, workspace: ws)
        case .perImage:
            let colCount = g.isPointwise ? 0 : K * P
            Parallel.forEach(g.batch) { part, images in
                let cw = ws + part * colCount
                for n in images {
                    let dyn = dy + n * M * P, dxn = dx + n * inImage
                    if g.isPointwise {
                        sgemm(transA: true, m: K, n: P, k: M, a: w, lda: K, b: dyn, ldb: P, c: dxn, ldc: P)
                    } else {
                        // dcol = w^T [K, M] x dy_n [M, P], then fold back into the image.
                        sgemm(transA: true, m: K, n: P, k: M, a: w, lda: K, b: dyn, ldb: P, c: cw, ldc: P)
                        dxn.update(repeating: 0, count: inImage)
                        col2im(g, col: cw, ldc: P, input: dxn)
                    }
                }
            }
        case .batched:
            let NP = g.batch * P
            let col = ws, dyT = ws + K * NP
            Parallel.forEach(g.batch) { _, images in
                let c0 = images.lowerBound * P
                if !afterWeightGradient { transposeGradient(g, dy: dy, into: dyT, images: images) }
                sgemm(transA: true, m: K, n: images.count * P, k: M, a: w, lda: K, b: dyT + c0, ldb: NP, c: col + c0, ldc: NP)
                for n in images {
                    let dxn = dx + n * inImage
                    if g.isPointwise {
                        for ci in 0..<K { (dxn + ci * P).update(from: col + ci * NP + n * P, count: P) }
                    } else {
                        dxn.update(repeating: 0, count: inImage)
                        col2im(g, col: col + n * P, ldc: NP, input: dxn)
                    }
                }
            }
        }
    }

    /// dy [N, Cout, P] of the given images rearranged to dyT [Cout, N, P], matching the unfolded batch.
    static func transposeGradient(_ g: ConvGeometry, dy: UnsafePointer<Float>, into dyT: UnsafeMutablePointer<Float>,
                                  images: Range<Int>) {
        let P = g.outPlane, M = g.outChannels, NP = g.batch * P
        for n in images {
            for co in 0..<M { (dyT + co * NP + n * P).update(from: dy + (n * M + co) * P, count: P) }
        }
    }

    /// dw += partial 1 + ... + partial (parts - 1), element by element in that order.
    static func addPartials(_ dw: UnsafeMutablePointer<Float>, _ partials: UnsafePointer<Float>, count: Int, parts: Int) {
        guard parts > 1 else { return }
        Parallel.forEachBlock(count, minPerWorker: 16_384) { r in
            for p in 1..<parts {
                let src = partials + (p - 1) * count
                for i in r { dw[i] += src[i] }
            }
        }
    }

    /// im2col of the given images side by side: col is [patchSize, N * outPlane], image n in columns n * outPlane ..<.
    static func unfoldBatch(_ g: ConvGeometry, x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>, images: Range<Int>) {
        let P = g.outPlane, NP = g.batch * P, inImage = g.inChannels * g.inPlane
        for n in images {
            if g.isPointwise {
                for ci in 0..<g.inChannels { (col + ci * NP + n * P).update(from: x + n * inImage + ci * P, count: P) }
            } else {
                im2col(g, input: x + n * inImage, col: col + n * P, ldc: NP)
            }
        }
    }
}
