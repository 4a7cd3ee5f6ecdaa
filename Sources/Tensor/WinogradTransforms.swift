/// The tile transforms of Winograd F(2x2, 3x3), vectorised across `winogradLanes` neighbouring tiles
/// of one tile row: lane l of every vector belongs to tile column tx + l. Input columns of those
/// tiles are interleaved (tile tx reads columns 2tx-1 ... 2tx+2), so a row is loaded as a vector of
/// twice the width and split into its even and odd columns.
///
/// Vectors may run past the end of a tile row (or a chunk) into the next one: the transformed tiles
/// they write there are overwritten later in the same pass, or land in the chunk's spare columns;
/// outputs are only ever written for valid tiles and pixels.

typealias WinogradLane = SIMD8<Float>
typealias WinogradPair = SIMD16<Float>
let winogradLanes = WinogradLane.scalarCount

@inline(__always) private func load<V: SIMD>(_ p: UnsafePointer<Float>, as: V.Type = V.self) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always) private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

extension WinogradPlan {
    /// Scratch layout shared by the transforms: [320 constants][zero row][4 ring rows][staging].
    @inline(__always) private func rows(_ scratch: UnsafeMutablePointer<Float>)
        -> (zero: UnsafeMutablePointer<Float>, ring: UnsafeMutablePointer<Float>, stage: UnsafeMutablePointer<Float>) {
        let zero = scratch + 320
        return (zero, zero + rowLength, zero + 5 * rowLength)
    }

    /// Padded copies of input rows, cached in a 4-slot ring (slot = row mod 4) so the two rows that
    /// consecutive tile rows share are copied once. Rows outside the plane read the zero row.
    private struct RowRing {
        let ring: UnsafeMutablePointer<Float>, zero: UnsafePointer<Float>
        let rowLength: Int, height: Int, width: Int
        var tags = SIMD4<Int>(repeating: -1)

        /// The padded row `row` of plane number `plane`: element 0 is column -1.
        @inline(__always)
        mutating func row(_ base: UnsafePointer<Float>, plane: Int, row: Int) -> UnsafePointer<Float> {
            if row < 0 || row >= height { return zero }
            let slot = row & 3, tag = plane * height + row
            let buf = ring + slot * rowLength
            if tags[slot] != tag {
                (buf + 1).update(from: base + row * width, count: width)
                tags[slot] = tag
            }
            return UnsafePointer(buf)
        }
    }

    private func makeRing(_ scratch: UnsafeMutablePointer<Float>) -> RowRing {
        let r = rows(scratch)
        r.zero.update(repeating: 0, count: 5 * rowLength)
        return RowRing(ring: r.ring, zero: r.zero, rowLength: rowLength, height: height, width: width)
    }

    /// Calls body(image, tile row, first tile column, end tile column, chunk column) for each piece of
    /// a tile row inside the tile range [t0, t0 + count).
    @inline(__always)
    private func forEachSegment(first t0: Int, count: Int, _ body: (Int, Int, Int, Int, Int) -> Void) {
        var t = t0
        let end = t0 + count
        while t < end {
            let n = t / tilesPerImage, r = t - n * tilesPerImage
            let ty = r / tilesW, tx0 = r - ty * tilesW
            let segEnd = min(end, t - tx0 + tilesW)
            body(n, ty, tx0, tx0 + (segEnd - t), t - t0)
            t = segEnd
        }
    }

    /// V[p][c][t - t0] = (B^T d B)_p for the 4x4 tile d of channel c around tile t, t in [t0, t0 + count).
    func transformInput(_ x: UnsafePointer<Float>, channels: Int, first t0: Int, count: Int,
                        into v: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        var ring = makeRing(scratch)
        let ps = channels * ld, plane = height * width
        for c in 0..<channels {
            forEachSegment(first: t0, count: count) { n, ty, txBegin, txEnd, col in
                let pi = n * channels + c, base = x + pi * plane
                let r0 = ring.row(base, plane: pi, row: 2 * ty - 1)
                let r1 = ring.row(base, plane: pi, row: 2 * ty)
                let r2 = ring.row(base, plane: pi, row: 2 * ty + 1)
                let r3 = ring.row(base, plane: pi, row: 2 * ty + 2)
                var tx = txBegin, out = v + c * ld + col
                while tx < txEnd {
                    WinogradPlan.inputTiles(r0 + 2 * tx, r1 + 2 * tx, r2 + 2 * tx, r3 + 2 * tx, out, ps)
                    tx += winogradLanes; out += winogradLanes
                }
            }
        }
    }

    /// B^T d B for `winogradLanes` tiles; each r points at column -1 of its tile row's first tile.
    @inline(__always)
    static func inputTiles(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>,
                           _ r3: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ ps: Int) {
        // Row transform of one input row: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
        @inline(__always) func rowT(_ p: UnsafePointer<Float>)
            -> (WinogradLane, WinogradLane, WinogradLane, WinogradLane) {
            let a: WinogradPair = load(p), b: WinogradPair = load(p + 2)
            let d0 = a.evenHalf, d1 = a.oddHalf, d2 = b.evenHalf, d3 = b.oddHalf
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        let h0 = rowT(r0), h1 = rowT(r1), h2 = rowT(r2), h3 = rowT(r3)
        // Column transform of the four rows.
        store(h0.0 - h2.0, out);          store(h0.1 - h2.1, out + ps)
        store(h0.2 - h2.2, out + 2 * ps); store(h0.3 - h2.3, out + 3 * ps)
        store(h1.0 + h2.0, out + 4 * ps); store(h1.1 + h2.1, out + 5 * ps)
        store(h1.2 + h2.2, out + 6 * ps); store(h1.3 + h2.3, out + 7 * ps)
        store(h2.0 - h1.0, out + 8 * ps); store(h2.1 - h1.1, out + 9 * ps)
        store(h2.2 - h1.2, out + 10 * ps); store(h2.3 - h1.3, out + 11 * ps)
        store(h1.0 - h3.0, out + 12 * ps); store(h1.1 - h3.1, out + 13 * ps)
        store(h1.2 - h3.2, out + 14 * ps); store(h1.3 - h3.3, out + 15 * ps)
    }

    /// y tile of channel c for tile t = A^T M A, M[p] = prod[p][c][t - t0]; only valid pixels are written.
    func transformOutput(_ prod: UnsafePointer<Float>, channels: Int, first t0: Int, count: Int,
                         into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let stage = rows(scratch).stage
        let ps = channels * ld, plane = height * width, L = winogradLanes
        for c in 0..<channels {
            forEachSegment(first: t0, count: count) { n, ty, txBegin, txEnd, col in
                let row0 = y + (n * channels + c) * plane + 2 * ty * width
                let hasRow1 = 2 * ty + 1 < height
                var tx = txBegin
                var src = prod + c * ld + col
                while tx < txEnd {
                    let (y0, y1) = WinogradPlan.outputTiles(src, ps)
                    let valid = min(2 * (txEnd - tx), width - 2 * tx)
                    if valid >= 2 * L {
                        store(y0, row0 + 2 * tx)
                        if hasRow1 { store(y1, row0 + width + 2 * tx) }
                    } else {
                        store(y0, stage); store(y1, stage + 2 * L)
                        (row0 + 2 * tx).update(from: stage, count: valid)
                        if hasRow1 { (row0 + width + 2 * tx).update(from: stage + 2 * L, count: valid) }
                    }
                    tx += L; src += L
                }
            }
        }
    }

    /// A^T M A for `winogradLanes` tiles, returned as the two output rows with columns interleaved.
    @inline(__always)
    static func outputTiles(_ m: UnsafePointer<Float>, _ ps: Int) -> (WinogradPair, WinogradPair) {
        @inline(__always) func at(_ p: Int) -> WinogradLane { load(m + p * ps) }
        // Rows: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (per column j).
        let m1 = (at(4), at(5), at(6), at(7)), m2 = (at(8), at(9), at(10), at(11))
        let a = (m1.0 + m2.0, m1.1 + m2.1, m1.2 + m2.2, m1.3 + m2.3)
        let b = (m1.0 - m2.0, m1.1 - m2.1, m1.2 - m2.2, m1.3 - m2.3)
        let s0 = (a.0 + at(0), a.1 + at(1), a.2 + at(2), a.3 + at(3))
        let s1 = (b.0 - at(12), b.1 - at(13), b.2 - at(14), b.3 - at(15))
        var y0 = WinogradPair(), y1 = WinogradPair()
        y0.evenHalf = s0.0 + s0.1 + s0.2; y0.oddHalf = s0.1 - s0.2 - s0.3
        y1.evenHalf = s1.0 + s1.1 + s1.2; y1.oddHalf = s1.1 - s1.2 - s1.3
        return (y0, y1)
    }

    /// dM[p][c][t - t0] = (A dY A^T)_p for the 2x2 output-gradient tile dY of channel c at tile t
    /// (zero outside the plane).
    func transformOutputGradient(_ dy: UnsafePointer<Float>, channels: Int, first t0: Int, count: Int,
                                 into dm: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        var ring = makeRing(scratch)
        let ps = channels * ld, plane = height * width
        for c in 0..<channels {
            forEachSegment(first: t0, count: count) { n, ty, txBegin, txEnd, col in
                let pi = n * channels + c, base = dy + pi * plane
                // +1: padded rows start at column -1, gradient tiles at column 2tx.
                let r0 = ring.row(base, plane: pi, row: 2 * ty) + 1
                let r1 = ring.row(base, plane: pi, row: 2 * ty + 1) + 1
                var tx = txBegin, out = dm + c * ld + col
                while tx < txEnd {
                    WinogradPlan.gradientTiles(r0 + 2 * tx, r1 + 2 * tx, out, ps)
                    tx += winogradLanes; out += winogradLanes
                }
            }
        }
    }

    /// A dY A^T for `winogradLanes` tiles; r0, r1 point at the tiles' first column in their two rows.
    @inline(__always)
    static func gradientTiles(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, _ ps: Int) {
        // A applied along a row (y0, y1) -> (y0, y0 + y1, y0 - y1, -y1).
        @inline(__always) func rowT(_ p: UnsafePointer<Float>)
            -> (WinogradLane, WinogradLane, WinogradLane, WinogradLane) {
            let a: WinogradPair = load(p)
            let y0 = a.evenHalf, y1 = a.oddHalf
            return (y0, y0 + y1, y0 - y1, -y1)
        }
        let e0 = rowT(r0), e1 = rowT(r1)
        store(e0.0, out);          store(e0.1, out + ps)
        store(e0.2, out + 2 * ps); store(e0.3, out + 3 * ps)
        store(e0.0 + e1.0, out + 4 * ps); store(e0.1 + e1.1, out + 5 * ps)
        store(e0.2 + e1.2, out + 6 * ps); store(e0.3 + e1.3, out + 7 * ps)
        store(e0.0 - e1.0, out + 8 * ps); store(e0.1 - e1.1, out + 9 * ps)
        store(e0.2 - e1.2, out + 10 * ps); store(e0.3 - e1.3, out + 11 * ps)
        store(-e1.0, out + 12 * ps); store(-e1.1, out + 13 * ps)
        store(-e1.2, out + 14 * ps); store(-e1.3, out + 15 * ps)
    }
}
