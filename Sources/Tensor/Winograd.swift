/// Winograd F(2x2, 3x3) convolution for 3x3, stride-1, padding-1 layers (NCHW, PyTorch weight layout
/// [Cout, Cin, 3, 3], cross-correlation like PyTorch's conv2d).
///
/// Every 2x2 output tile is A^T [ (G g G^T) . (B^T d B) ] A, where d is the 4x4 input tile around it
/// and g a 3x3 kernel (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
///
///     B^T = | 1  0 -1  0 |     G = | 1    0    0  |     A^T = | 1  1  1  0 |
///           | 0  1  1  0 |         | 1/2  1/2  1/2 |           | 0  1 -1 -1 |
///           | 0 -1  1  0 |         | 1/2 -1/2  1/2 |
///           | 0  1  0 -1 |         | 0    0    1  |
///
/// Summed over input channels, the elementwise product becomes, for each of the 16 tile positions,
/// one GEMM U_p [Cout x Cin] x V_p [Cin x tiles] through OpenBLAS: 16 * Cin * Cout multiplies per
/// tile instead of 36 * Cin * Cout, i.e. 2.25x fewer FLOPs than im2col.
///
/// Tiles are taken in (image, tile row, tile column) order over the whole batch and processed in
/// chunks, so the transformed input V and product M of one chunk stay in cache between the input
/// transform, the 16 GEMMs and the output transform. Tiles on the right / bottom border of odd-sized
/// planes read zero padding and write only their valid outputs.
///
/// - backward data is the same convolution of dy with the kernels rotated 180 degrees and Cin/Cout
///   swapped. Rotating g reverses G's columns, which only swaps G's rows 0 and 3, so the rotated
///   kernel's transform is U with tile positions 0 <-> 3 swapped in both directions: the forward U is
///   reused with permuted positions and transposed GEMMs.
/// - backward weight works in the tile domain: with dM = A dY A^T (the adjoint of the output
///   transform; dY is zero outside the plane), dU_p = sum over tiles dM_p x V_p^T [Cout x Cin],
///   and dg = G^T dU G (the adjoint of the kernel transform).
public enum Winograd3x3 {
    /// Kernel 3x3, stride 1, padding 1 (the output plane then equals the input plane).
    public static func supports(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding == 1
    }

    /// Floats of scratch the three entry points need (the same count serves all three):
    /// 16 * Cin * Cout (transformed kernels) + 16 * (Cin + Cout) * ld (one chunk of transformed
    /// tiles; ld = chunk + 16 rounded up to 16) + 6 * rowLength + 160 (padded rows, constants).
    public static func workspaceCount(_ g: ConvGeometry) -> Int {
        let p = WinogradPlan(g)
        return p.weightCount + p.tileBufferCount + p.scratchCount
    }

    /// Tiles per chunk, as chosen for `g` (exposed for benchmarks and reports).
    public static func chunkTiles(_ g: ConvGeometry) -> Int { WinogradPlan(g).chunk }

    /// y = conv2d(x, w, stride 1, padding 1); y is overwritten.
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "Winograd3x3 needs a 3x3 stride-1 padding-1 convolution, got \(g)")
        let plan = WinogradPlan(g)
        let u = workspace, rest = workspace + plan.weightCount
        plan.writeConstants(rest + plan.tileBufferCount)
        plan.transformKernels(w, into: u, scratch: rest + plan.tileBufferCount)
        plan.convolve(inChannels: g.inChannels, outChannels: g.outChannels, x: x, u: u, rotated: false,
                      y: y, workspace: rest)
    }

    /// dx = gradient of sum(dy * conv2d(x, w)) with respect to x; dx is overwritten.
    public static func backwardData(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "Winograd3x3 needs a 3x3 stride-1 padding-1 convolution, got \(g)")
        let plan = WinogradPlan(g)
        let u = workspace, rest = workspace + plan.weightCount
        plan.writeConstants(rest + plan.tileBufferCount)
        plan.transformKernels(w, into: u, scratch: rest + plan.tileBufferCount)
        plan.convolve(inChannels: g.outChannels, outChannels: g.inChannels, x: dy, u: u, rotated: true,
                      y: dx, workspace: rest)
    }

    /// dw = gradient of sum(dy * conv2d(x, w)) with respect to w; dw is overwritten.
    public static func backwardWeight(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                      dw: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "Winograd3x3 needs a 3x3 stride-1 padding-1 convolution, got \(g)")
        let plan = WinogradPlan(g)
        let du = workspace, rest = workspace + plan.weightCount
        plan.writeConstants(rest + plan.tileBufferCount)
        plan.weightGradient(x: x, dy: dy, du: du, workspace: rest)
        plan.untransformKernelGradient(du, into: dw, scratch: rest + plan.tileBufferCount)
    }
}

/// Sizes and buffer layout of one geometry. Tile t of the batch is (image, tile row, tile column)
/// in row-major order; a chunk of tiles is laid out as [16 positions][channels][ld] with the tile
/// index contiguous, so each position's slice is a row-major GEMM operand with leading dimension ld.
struct WinogradPlan {
    let batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int
    let tilesW: Int, tilesPerImage: Int, tiles: Int
    /// Tiles per chunk and the row stride of the chunk matrices (>= chunk + lanes: the vector
    /// transforms may spill up to `lanes - 1` columns past a chunk's last tile).
    let chunk: Int, ld: Int
    /// A zero-padded copy of one input row: [0] is column -1, [1...width] the row, zeros after,
    /// long enough for the widest vector load of the last tile column.
    let rowLength: Int

    init(_ g: ConvGeometry) {
        batch = g.batch; inChannels = g.inChannels; outChannels = g.outChannels
        height = g.height; width = g.width
        tilesW = (width + 1) / 2
        tilesPerImage = ((height + 1) / 2) * tilesW
        tiles = batch * tilesPerImage
        chunk = min(tiles, WinogradPlan.chunkTiles(channels: inChannels + outChannels))
        ld = roundUp16(chunk + winogradLanes)
        rowLength = roundUp16(2 * tilesW + 2 * winogradLanes + 2)
    }

    /// Tiles per chunk: the chunk's V and M (16 * (Cin + Cout) floats per tile) are kept near a
    /// fixed budget so they stay cache-resident, but never below a width where the GEMMs get thin.
    nonisolated(unsafe) static var budgetOverride: Int? = nil
    nonisolated(unsafe) static var minimumOverride: Int? = nil
    static func chunkTiles(channels: Int) -> Int {
        let budget = budgetOverride ?? (1 << 20)      // floats (4 MiB)
        let minimum = minimumOverride ?? 256
        return roundUp16(max(minimum, budget / (16 * channels)))
    }

    var weightCount: Int { roundUp16(16 * inChannels * outChannels) }
    var tileBufferCount: Int { 16 * (inChannels + outChannels) * ld }
    /// Constants (2 x 16x9 transform matrices, 288 floats) then the zero row and 4 ring rows, then a
    /// 2-row output staging area.
    var scratchCount: Int { 320 + 5 * rowLength + 4 * winogradLanes }

    /// The kernel transform as a 16x9 matrix, U_p = sum_e T[p][e] g_e with T[(a,b)][(i,j)] = G[a][i] G[b][j].
    /// Its transpose is the adjoint dg = G^T dU G.
    func writeConstants(_ scratch: UnsafeMutablePointer<Float>) {
        let gm: [[Float]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        for a in 0..<4 { for b in 0..<4 { for i in 0..<3 { for j in 0..<3 {
            scratch[(a * 4 + b) * 9 + i * 3 + j] = gm[a][i] * gm[b][j]
        } } } }
    }

    /// U[p][co][ci] = (G w[co][ci] G^T)_p: one GEMM [16 x 9] x w^T [9 x Cout*Cin].
    func transformKernels(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>,
                          scratch: UnsafeMutablePointer<Float>) {
        let q = inChannels * outChannels
        sgemm(transB: true, m: 16, n: q, k: 9, a: scratch, lda: 9, b: w, ldb: 9, c: u, ldc: q)
    }

    /// dw[co][ci][e] = sum_p dU[p][co][ci] T[p][e]: one GEMM dU^T [Cout*Cin x 16] x T [16 x 9].
    func untransformKernelGradient(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                                   scratch: UnsafeMutablePointer<Float>) {
        let q = inChannels * outChannels
        sgemm(transA: true, m: q, n: 9, k: 16, a: du, lda: q, b: scratch, ldb: 9, c: dw, ldc: 9)
    }

    /// y [N, outC, H, W] = conv(x [N, inC, H, W]) with transformed kernels u. For the forward pass
    /// u[p] is [outC x inC]; with `rotated`, u holds the forward kernels' transform ([inC x outC]
    /// per position, inC = the layer's Cout) and the rotated kernels are read as its transpose with
    /// positions 0 <-> 3 swapped along both tile axes.
    func convolve(inChannels k: Int, outChannels m: Int, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                  rotated: Bool, y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let v = workspace, prod = workspace + 16 * k * ld, scratch = workspace + tileBufferCount
        var t0 = 0
        while t0 < tiles {
            let count = min(chunk, tiles - t0)
            transformInput(x, channels: k, first: t0, count: count, into: v, scratch: scratch)
            for p in 0..<16 {
                let vp = v + p * k * ld, mp = prod + p * m * ld
                if rotated {
                    let a = p >> 2, b = p & 3
                    let src = (a == 0 ? 3 : a == 3 ? 0 : a) * 4 + (b == 0 ? 3 : b == 3 ? 0 : b)
                    sgemm(transA: true, m: m, n: count, k: k, a: u + src * m * k, lda: m, b: vp, ldb: ld, c: mp, ldc: ld)
                } else {
                    sgemm(m: m, n: count, k: k, a: u + p * m * k, lda: k, b: vp, ldb: ld, c: mp, ldc: ld)
                }
            }
            transformOutput(prod, channels: m, first: t0, count: count, into: y, scratch: scratch)
            t0 += count
        }
    }

    /// dU[p] [Cout x Cin] = sum over chunks of dM_p [Cout x tiles] x V_p^T [tiles x Cin].
    func weightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, du: UnsafeMutablePointer<Float>,
                        workspace: UnsafeMutablePointer<Float>) {
        let v = workspace, dm = workspace + 16 * inChannels * ld, scratch = workspace + tileBufferCount
        var t0 = 0
        while t0 < tiles {
            let count = min(chunk, tiles - t0)
            transformInput(x, channels: inChannels, first: t0, count: count, into: v, scratch: scratch)
            transformOutputGradient(dy, channels: outChannels, first: t0, count: count, into: dm, scratch: scratch)
            for p in 0..<16 {
                sgemm(transB: true, m: outChannels, n: inChannels, k: count,
                      a: dm + p * outChannels * ld, lda: ld, b: v + p * inChannels * ld, ldb: ld,
                      beta: t0 == 0 ? 0 : 1, c: du + p * outChannels * inChannels, ldc: inChannels)
            }
            t0 += count
        }
    }
}

@inline(__always) func roundUp16(_ n: Int) -> Int { (n + 15) & ~15 }
