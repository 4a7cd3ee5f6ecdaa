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
/// planes read zero padding and produce only their valid outputs. All writes stay inside the
/// output planes being computed, so separate calls on separate images (with separate workspaces)
/// may run concurrently.
///
/// - backward data is the same convolution of dy with the kernels rotated 180 degrees and Cin/Cout
///   swapped. Rotating g reverses G's columns, which only swaps G's rows 0 and 3, so the rotated
///   kernel's transform is U with tile positions 0 <-> 3 swapped in both directions: backwardData
///   computes the forward pass's U and reads it with permuted positions and transposed GEMMs.
/// - backward weight works in the tile domain: with dM = A dY A^T (the adjoint of the output
///   transform; dY is zero outside the plane), dU_p = sum over tiles dM_p x V_p^T [Cout x Cin],
///   and dg = G^T dU G (the adjoint of the kernel transform).
public enum Winograd3x3 {
    static let profileForward = Profile.insideConvolutions + "Winograd kernel transforms U (fwd)"
    static let profileData = Profile.insideConvolutions + "Winograd kernel transforms U (dgrad)"
    static let profileWeight = Profile.insideConvolutions + "Winograd kernel-gradient transforms dU -> dw (wgrad)"

    /// Kernel 3x3, stride 1, padding 1 (the output plane then equals the input plane).
    public static func supports(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding == 1
    }

    /// Floats of scratch the three entry points need (the same count serves all three):
    ///
    ///     16 * (r16(Cin * Cout) + 16)              transformed kernels U (or dU)
    ///   + 16 * ((Cin + Cout) * ld + 32)            one chunk of transformed tiles V and M (or dM)
    ///   + 16 + (H + 3) * 2 * r16(ceil(W / 2) + 5)  output staging, split input rows of one plane
    ///
    /// (the chunk buffers and scratch once per worker, plus one partial dU per extra worker), with r16 = round up to a multiple of 16, ld = r16(chunk + 4) and chunk = `chunkTiles(g)`
    /// (at most 256). Batch 16 at 56x56x64: 0.50 M floats; 7x7x512: 8.65 M floats.
    public static func workspaceCount(_ g: ConvGeometry) -> Int {
        let p = WinogradPlan(g)
        return p.weightCount + WinogradPlan.restCount(p, workers: Parallel.workers)
    }

    /// Tiles per chunk (the width of the 16 GEMMs), as chosen for `g`.
    public static func chunkTiles(_ g: ConvGeometry) -> Int { WinogradPlan(g).chunk }

    /// y = conv2d(x, w, stride 1, padding 1); y is overwritten.
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "Winograd3x3 needs a 3x3 stride-1 padding-1 convolution, got \(g)")
        let plan = WinogradPlan(g)
        let u = workspace, rest = workspace + plan.weightCount
        Profile.measure(profileForward) { plan.transformKernels(w, into: u) }
        plan.convolve(inChannels: g.inChannels, outChannels: g.outChannels, x: x, u: u, rotated: false,
                      y: y, workspace: rest)
    }

    /// dx = gradient of sum(dy * conv2d(x, w)) with respect to x; dx is overwritten (and must not
    /// overlap dy, as y must not overlap x in `forward`).
    public static func backwardData(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "Winograd3x3 needs a 3x3 stride-1 padding-1 convolution, got \(g)")
        let plan = WinogradPlan(g)
        let u = workspace, rest = workspace + plan.weightCount
        Profile.measure(profileData) { plan.transformKernels(w, into: u) }
        plan.convolve(inChannels: g.outChannels, outChannels: g.inChannels, x: dy, u: u, rotated: true,
                      y: dx, workspace: rest)
    }

    /// dw = gradient of sum(dy * conv2d(x, w)) with respect to w; dw is overwritten.
    public static func backwardWeight(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                      dw: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "Winograd3x3 needs a 3x3 stride-1 padding-1 convolution, got \(g)")
        let plan = WinogradPlan(g)
        let du = workspace, rest = workspace + plan.weightCount
        plan.weightGradient(x: x, dy: dy, du: du, workspace: rest)
        Profile.measure(profileWeight) {
            plan.untransformKernelGradient(du, into: dw)
        }
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
    /// One input row split into odd and even columns, [e: rowLength / 2][o: rowLength / 2], each
    /// half long enough for the widest vector load of the last tile column.
    let rowLength: Int

    init(_ g: ConvGeometry) {
        batch = g.batch; inChannels = g.inChannels; outChannels = g.outChannels
        height = g.height; width = g.width
        tilesW = (width + 1) / 2
        tilesPerImage = ((height + 1) / 2) * tilesW
        tiles = batch * tilesPerImage
        chunk = min(tiles, WinogradPlan.chunkTiles(inChannels: inChannels, outChannels: outChannels))
        ld = roundUp16(chunk + winogradLanes)
        rowLength = 2 * roundUp16(tilesW + winogradLanes + 1)
    }

    /// Tiles per chunk, i.e. the GEMM width N of the 16 products [Cout x Cin] x [Cin x N].
    /// OpenBLAS (0.3.21, SkylakeX/Cooperlake kernels) runs products with M * N * K <= ~1e6 through its
    /// unpacked small-matrix kernel, measured ~110 GFLOP/s against ~90 for the packed path at these
    /// shapes; so small layers take the widest chunk that stays on that path (64x64: 192 tiles,
    /// 128x128: 48), and wide layers 256 tiles (the packed path wants N >= 256 for 512 channels).
    /// The transforms' cost hardly depends on the chunk (a chunk's V and M stay in L2/L3 either way).
    static func chunkTiles(inChannels: Int, outChannels: Int) -> Int {
        let small = (786_432 / max(1, inChannels * outChannels)) / 16 * 16
        return small >= 32 ? min(small, 192) : 256
    }

    var weightCount: Int { 16 * kernelStride }
    /// Distance between two tile positions' slices of a chunk buffer with `channels` rows. The extra
    /// cache line keeps the 16 slices off the same cache sets (channels * ld * 4 bytes is often a
    /// multiple of 4 KiB, and the transforms touch all 16 slices at once).
    @inline(__always) func positionStride(_ channels: Int) -> Int { channels * ld + 16 }
    var tileBufferCount: Int { 16 * (positionStride(inChannels) + positionStride(outChannels)) }
    /// Output staging (two vector pairs), then the split rows of one input plane plus 3 zero rows.
    var scratchCount: Int { roundUp16(4 * winogradLanes) + (height + 3) * rowLength }

    /// Floats of one worker's area after U: chunk buffers V and M, transform scratch.
    var workerCount: Int { tileBufferCount + scratchCount }

    /// Floats after U: an area per worker, then a partial dU per extra worker (weight gradient).
    static func restCount(_ p: WinogradPlan, workers: Int) -> Int {
        workers * p.workerCount + (workers - 1) * p.weightCount
    }

    /// Workers a pass uses: the batch is split into one contiguous range of images per worker.
    var parts: Int { min(Parallel.workers, batch) }

    /// Tiles of the images of worker `w`: worker boundaries fall on image boundaries, so the vector
    /// stores that run past a chunk's last tile (rewritten later in the same pass, see
    /// `transformOutput`) never reach another worker's planes.
    func tileRange(_ w: Int, of parts: Int) -> Range<Int> {
        let images = Parallel.piece(batch, w, of: parts)
        return (images.lowerBound * tilesPerImage) ..< (images.upperBound * tilesPerImage)
    }

    /// y [N, outC, H, W] = conv(x [N, inC, H, W]) with transformed kernels u. For the forward pass
    /// u[p] is [outC x inC]; with `rotated`, u holds the forward kernels' transform ([inC x outC]
    /// per position, inC = the layer's Cout) and the rotated kernels are read as its transpose with
    /// positions 0 <-> 3 swapped along both tile axes.
    ///
    /// Each worker convolves its own images, chunk by chunk, in its own area of the workspace.
    /// Every output tile is the same transform of the same GEMM column as serially.
    func convolve(inChannels k: Int, outChannels m: Int, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                  rotated: Bool, y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let parts = self.parts
        if splitsPositions {
            convolveSplittingPositions(inChannels: k, outChannels: m, x: x, u: u, rotated: rotated, y: y, workspace: workspace)
            return
        }
        Parallel.run { w in
            guard w < parts else { return }
            let area = workspace + w * workerCount
            let v = area, prod = area + 16 * positionStride(k), scratch = area + tileBufferCount
            let range = tileRange(w, of: parts)
            var t0 = range.lowerBound
            while t0 < range.upperBound {
                let count = min(chunk, range.upperBound - t0)
                transformInput(x, channels: k, first: t0, count: count, into: v, scratch: scratch)
                tileProducts(0..<16, inChannels: k, outChannels: m, u: u, rotated: rotated, v: v, prod: prod, count: count)
                transformOutput(prod, channels: m, first: t0, count: count, into: y, scratch: scratch)
                t0 += count
            }
        }
    }

    /// The GEMMs of the given tile positions for one chunk: M_p = U_p V_p.
    @inline(__always)
    func tileProducts(_ positions: Range<Int>, inChannels k: Int, outChannels m: Int, u: UnsafePointer<Float>, rotated: Bool,
                      v: UnsafePointer<Float>, prod: UnsafeMutablePointer<Float>, count: Int) {
        for p in positions {
            let vp = v + p * positionStride(k), mp = prod + p * positionStride(m)
            if rotated {
                let a = p >> 2, b = p & 3
                let src = (a == 0 ? 3 : a == 3 ? 0 : a) * 4 + (b == 0 ? 3 : b == 3 ? 0 : b)
                sgemm(transA: true, m: m, n: count, k: k, a: u + src * kernelStride, lda: m, b: vp, ldb: ld, c: mp, ldc: ld)
            } else {
                sgemm(m: m, n: count, k: k, a: u + p * kernelStride, lda: k, b: vp, ldb: ld, c: mp, ldc: ld)
            }
        }
    }

    /// Whether the workers split each chunk (channels for the transforms, tile positions for the
    /// GEMMs) instead of the images: when a worker's share of the batch would give the tile GEMMs
    /// fewer columns than a chunk (the deep layers: 7x7 or 9x6 planes, 512 channels). The chunks
    /// are then the serial ones and every piece is computed as serially (bit-identical), at the
    /// cost of three fork-joins per chunk, and U is read once instead of once per worker.
    var splitsPositions: Bool { parts > 1 && tiles / parts < chunk }

    func convolveSplittingPositions(inChannels k: Int, outChannels m: Int, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                                    rotated: Bool, y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let v = workspace, prod = workspace + 16 * positionStride(k)
        var t0 = 0
        while t0 < tiles {
            let count = min(chunk, tiles - t0)
            Parallel.forEach(k) { w, channels in
                transformInput(x, channels: k, only: channels, first: t0, count: count, into: v,
                               scratch: workspace + w * workerCount + tileBufferCount)
            }
            Parallel.forEach(16) { _, positions in
                tileProducts(positions, inChannels: k, outChannels: m, u: u, rotated: rotated, v: v, prod: prod, count: count)
            }
            Parallel.forEach(m) { w, channels in
                transformOutput(prod, channels: m, only: channels, first: t0, count: count, into: y,
                                scratch: workspace + w * workerCount + tileBufferCount)
            }
            t0 += count
        }
    }

    /// `weightGradient` with the chunks split between the workers (see `splitsPositions`): each
    /// dU_p sums the chunks in serial order, so the result is bit-identical to 1 worker.
    func weightGradientSplittingPositions(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, du: UnsafeMutablePointer<Float>,
                                          workspace: UnsafeMutablePointer<Float>) {
        let v = workspace, dm = workspace + 16 * positionStride(inChannels), parts = self.parts
        var t0 = 0
        while t0 < tiles {
            let count = min(chunk, tiles - t0)
            Parallel.run { w in
                guard w < parts else { return }
                let scratch = workspace + w * workerCount + tileBufferCount
                transformInput(x, channels: inChannels, only: Parallel.piece(inChannels, w, of: parts), first: t0, count: count,
                               into: v, scratch: scratch)
                transformOutputGradient(dy, channels: outChannels, only: Parallel.piece(outChannels, w, of: parts), first: t0,
                                        count: count, into: dm, scratch: scratch)
            }
            Parallel.forEach(16) { _, positions in
                for p in positions {
                    sgemm(transB: true, m: outChannels, n: inChannels, k: count,
                          a: dm + p * positionStride(outChannels), lda: ld, b: v + p * positionStride(inChannels), ldb: ld,
                          beta: t0 == 0 ? 0 : 1, c: du + p * kernelStride, ldc: inChannels)
                }
            }
            t0 += count
        }
    }

    /// dU[p] [Cout x Cin] = sum over chunks of dM_p [Cout x tiles] x V_p^T [tiles x Cin]. Each worker
    /// sums the chunks of its images into its own dU (worker 0 into `du`, the others into partials
    /// after the worker areas); the partials are then added to `du` in worker order, so the result
    /// depends on the worker count (re-associated float sums) but not on timing.
    func weightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, du: UnsafeMutablePointer<Float>,
                        workspace: UnsafeMutablePointer<Float>) {
        if splitsPositions { weightGradientSplittingPositions(x: x, dy: dy, du: du, workspace: workspace); return }
        let parts = self.parts, workers = Parallel.workers
        let partials = workspace + workers * workerCount
        Parallel.run { w in
            guard w < parts else { return }
            let area = workspace + w * workerCount
            let v = area, dm = area + 16 * positionStride(inChannels), scratch = area + tileBufferCount
            let target = w == 0 ? du : partials + (w - 1) * weightCount
            let range = tileRange(w, of: parts)
            var t0 = range.lowerBound
            while t0 < range.upperBound {
                let count = min(chunk, range.upperBound - t0)
                transformInput(x, channels: inChannels, first: t0, count: count, into: v, scratch: scratch)
                transformOutputGradient(dy, channels: outChannels, first: t0, count: count, into: dm, scratch: scratch)
                for p in 0..<16 {
                    sgemm(transB: true, m: outChannels, n: inChannels, k: count,
                          a: dm + p * positionStride(outChannels), lda: ld, b: v + p * positionStride(inChannels), ldb: ld,
                          beta: t0 == range.lowerBound ? 0 : 1, c: target + p * kernelStride, ldc: inChannels)
                }
                t0 += count
            }
        }
        if parts > 1 {
            Parallel.forEachBlock(weightCount, minPerWorker: 16_384) { r in
                for q in 1..<parts {
                    let src = partials + (q - 1) * weightCount
                    for i in r { du[i] += src[i] }
                }
            }
        }
    }
}

@inline(__always) func roundUp16(_ n: Int) -> Int { (n + 15) & ~15 }
