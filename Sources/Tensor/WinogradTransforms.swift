/// The tile transforms of Winograd F(2x2, 3x3), vectorised across `winogradLanes` neighbouring tiles
/// of one tile row: lane l of every vector belongs to tile column tx + l.
///
/// Tile tx reads input columns 2tx-1 ... 2tx+2, so each input row is first split into its odd
/// columns e[k] = x[2k-1] and even columns o[k] = x[2k] (zero outside the row); the tile's four
/// columns are then e[tx], o[tx], e[tx+1], o[tx+1] and every operand is a plain vector load.
///
/// Vectors may run past the end of a tile row (or a chunk) into the next one: the transformed tiles
/// they write there are overwritten later in the same pass, or land in the chunk's spare columns.
/// Output vectors that stick out of a row are only stored whole where the overhang is rewritten
/// later (see `transformOutput`), and never past the plane.

typealias WinogradLane = SIMD4<Float>
typealias WinogradPair = SIMD8<Float>
let winogradLanes = WinogradLane.scalarCount

@inline(__always) private func load<V: SIMD>(_ p: UnsafePointer<Float>, as: V.Type = V.self) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always) private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

extension WinogradPlan {
    /// Scratch layout shared by the transforms: [staging: 4 lanes][split rows -1 ... height + 1].
    @inline(__always) private func layout(_ scratch: UnsafeMutablePointer<Float>)
        -> (stage: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        (scratch, scratch + roundUp16(4 * winogradLanes))
    }

    /// Split rows of one plane at a time: buffer row r + 1 holds input row r as [e | o] halves of
    /// rowLength / 2 (rows -1, height and height + 1 stay zero). Rows are split on first use, so
    /// each input row of a chunk is split once.
    private struct SplitRows {
        let buffer: UnsafeMutablePointer<Float>
        let rowLength: Int, height: Int, width: Int, tilesW: Int
        /// End of the tensor being split, and the lane numbers 0, 1, 2, ... of a pair vector.
        let end: UnsafePointer<Float>, laneIndex: WinogradPair
        /// The plane in the buffer and the next of its rows to split.
        var plane = -1, nextRow = 0

        /// Makes input rows first ... last of plane number `plane` (at `base`) available and returns
        /// buffer row `first` (input row first - 1 is one row before it).
        @inline(__always)
        mutating func rows(_ base: UnsafePointer<Float>, plane p: Int, first: Int, last: Int) -> UnsafePointer<Float> {
            if p != plane { plane = p; nextRow = max(0, first) }
            let need = min(height, last + 1)
            while nextRow < need {
                split(base + nextRow * width, into: buffer + (nextRow + 1) * rowLength)
                nextRow += 1
            }
            return UnsafePointer(buffer + (first + 1) * rowLength)
        }

        /// e[k] = src[2k-1] for 1 <= k <= width/2, o[k] = src[2k] for k < tilesW, zero elsewhere
        /// (entries past the row stay zero from initialisation or are written as zero). Whole
        /// vectors are loaded while they stay inside the tensor (`end`), reading into the next row
        /// if need be; lanes past the row are then zeroed.
        @inline(__always)
        func split(_ src: UnsafePointer<Float>, into buf: UnsafeMutablePointer<Float>) {
            let e = buf, o = buf + rowLength / 2, L = winogradLanes
            var k = 0
            while 2 * k < width && src + 2 * k + 2 * L <= end {
                var v: WinogradPair = load(src + 2 * k)
                if 2 * k + 2 * L > width {
                    v.replace(with: 0, where: laneIndex .>= WinogradPair.Scalar(width - 2 * k))
                }
                store(v.evenHalf, o + k); store(v.oddHalf, e + k + 1)
                k += L
            }
            while k < tilesW {
                o[k] = src[2 * k]
                if 2 * k + 1 < width { e[k + 1] = src[2 * k + 1] }
                k += 1
            }
        }
    }

    private func splitRows(_ scratch: UnsafeMutablePointer<Float>, tensor: UnsafePointer<Float>, channels: Int) -> SplitRows {
        let buffer = layout(scratch).rows
        buffer.update(repeating: 0, count: (height + 3) * rowLength)
        var lanes = WinogradPair()
        for i in 0..<WinogradPair.scalarCount { lanes[i] = Float(i) }
        return SplitRows(buffer: buffer, rowLength: rowLength, height: height, width: width, tilesW: tilesW,
                         end: tensor + batch * channels * height * width, laneIndex: lanes)
    }

    /// Calls body(image, tile row, first tile column, end tile column, chunk column) for each piece of
    /// a tile row inside the tile range [t0, t0 + count), walking the rows without divisions.
    @inline(__always)
    private func forEachSegment(first t0: Int, count: Int, _ body: (Int, Int, Int, Int, Int) -> Void) {
        let tilesH = tilesPerImage / tilesW
        var n = t0 / tilesPerImage, ty = (t0 - n * tilesPerImage) / tilesW
        var tx = t0 - n * tilesPerImage - ty * tilesW, col = 0
        while col < count {
            let len = min(count - col, tilesW - tx)
            body(n, ty, tx, tx + len, col)
            col += len; tx = 0; ty += 1
            if ty == tilesH { ty = 0; n += 1 }
        }
    }

    /// V[p][c][t - t0] = (B^T d B)_p for the 4x4 tile d of channel c around tile t, t in [t0, t0 + count).
    /// With `channelRange`, only those channels (each writes only its own rows of V; the output
    /// transforms likewise write only their channels' planes), so workers may split the channels.
    func transformInput(_ x: UnsafePointer<Float>, channels: Int, only channelRange: Range<Int>? = nil, first t0: Int, count: Int,
                        into v: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        var rows = splitRows(scratch, tensor: x, channels: channels)
        let ps = positionStride(channels), plane = height * width, half = rowLength / 2, rl = rowLength
        for c in channelRange ?? 0..<channels {
            forEachSegment(first: t0, count: count) { n, ty, txBegin, txEnd, col in
                let pi = n * channels + c
                let r0 = rows.rows(x + pi * plane, plane: pi, first: 2 * ty - 1, last: 2 * ty + 2)
                let r1 = r0 + rl, r2 = r0 + 2 * rl, r3 = r0 + 3 * rl
                var tx = txBegin, out = v + c * ld + col
                while tx < txEnd {
                    WinogradPlan.inputTiles(r0 + tx, r1 + tx, r2 + tx, r3 + tx, half, out, ps)
                    tx += winogradLanes; out += winogradLanes
                }
            }
        }
    }

    /// B^T d B for `winogradLanes` tiles. Each r points at e[tx] of a split row (o[tx] is `half`
    /// further), so the tiles' columns are r[0], r[half], r[1], r[half + 1].
    @inline(__always)
    static func inputTiles(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>,
                           _ r3: UnsafePointer<Float>, _ half: Int, _ out: UnsafeMutablePointer<Float>, _ ps: Int) {
        // Row transform of one split row: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
        @inline(__always) func h(_ r: UnsafePointer<Float>) -> (WinogradLane, WinogradLane, WinogradLane, WinogradLane) {
            let d0: WinogradLane = load(r), d1: WinogradLane = load(r + half)
            let d2: WinogradLane = load(r + 1), d3: WinogradLane = load(r + half + 1)
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        // Column transform (h0 - h2, h1 + h2, h2 - h1, h1 - h3), ordered so few rows are live at once.
        let h2 = h(r2), h0 = h(r0)
        store(h0.0 - h2.0, out);          store(h0.1 - h2.1, out + ps)
        store(h0.2 - h2.2, out + 2 * ps); store(h0.3 - h2.3, out + 3 * ps)
        let h1 = h(r1)
        store(h1.0 + h2.0, out + 4 * ps); store(h1.1 + h2.1, out + 5 * ps)
        store(h1.2 + h2.2, out + 6 * ps); store(h1.3 + h2.3, out + 7 * ps)
        store(h2.0 - h1.0, out + 8 * ps); store(h2.1 - h1.1, out + 9 * ps)
        store(h2.2 - h1.2, out + 10 * ps); store(h2.3 - h1.3, out + 11 * ps)
        let h3 = h(r3)
        store(h1.0 - h3.0, out + 12 * ps); store(h1.1 - h3.1, out + 13 * ps)
        store(h1.2 - h3.2, out + 14 * ps); store(h1.3 - h3.3, out + 15 * ps)
    }

    /// y tile of channel c for tile t = A^T M A, M[p] = prod[p][c][t - t0], for every valid pixel.
    ///
    /// The last vector of a tile row may stick out past the row end (odd widths, partial vectors).
    /// It is stored whole when what it overwrites there is written again later: the groups of a row
    /// run last to first, so row 2ty's overhang into row 2ty+1 is rewritten by the first group, and
    /// row 2ty+1's overhang into row 2ty+2 by the next tile row. That needs the segment to start at
    /// column 0, a next tile row in the plane and an overhang shorter than a row; otherwise the last
    /// vector goes through a staging buffer.
    func transformOutput(_ prod: UnsafePointer<Float>, channels: Int, only channelRange: Range<Int>? = nil, first t0: Int, count: Int,
                         into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let stage = layout(scratch).stage
        let ps = positionStride(channels), plane = height * width, L = winogradLanes
        for c in channelRange ?? 0..<channels {
            forEachSegment(first: t0, count: count) { n, ty, txBegin, txEnd, col in
                let row0 = y + (n * channels + c) * plane + 2 * ty * width
                let hasRow1 = 2 * ty + 1 < height
                let overhangOK = txBegin == 0 && 2 * ty + 2 < height
                var g = (txEnd - txBegin - 1) / L
                while g >= 0 {
                    let tx = txBegin + g * L
                    let (y0, y1) = WinogradPlan.outputTiles(prod + c * ld + col + g * L, ps)
                    let valid = min(2 * (txEnd - tx), width - 2 * tx)
                    if valid >= 2 * L || (overhangOK && tx + L <= width) {
                        store(y0, row0 + 2 * tx)
                        if hasRow1 { store(y1, row0 + width + 2 * tx) }
                    } else {
                        store(y0, stage); store(y1, stage + 2 * L)
                        let d0 = row0 + 2 * tx
                        for i in 0..<valid { d0[i] = stage[i] }
                        if hasRow1 { for i in 0..<valid { d0[width + i] = stage[2 * L + i] } }
                    }
                    g -= 1
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
    func transformOutputGradient(_ dy: UnsafePointer<Float>, channels: Int, only channelRange: Range<Int>? = nil, first t0: Int, count: Int,
                                 into dm: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        var rows = splitRows(scratch, tensor: dy, channels: channels)
        let ps = positionStride(channels), plane = height * width, half = rowLength / 2
        for c in channelRange ?? 0..<channels {
            forEachSegment(first: t0, count: count) { n, ty, txBegin, txEnd, col in
                let pi = n * channels + c
                let r0 = rows.rows(dy + pi * plane, plane: pi, first: 2 * ty, last: 2 * ty + 1), r1 = r0 + rowLength
                var tx = txBegin, out = dm + c * ld + col
                while tx < txEnd {
                    WinogradPlan.gradientTiles(r0 + tx, r1 + tx, half, out, ps)
                    tx += winogradLanes; out += winogradLanes
                }
            }
        }
    }

    /// A dY A^T for `winogradLanes` tiles; r0, r1 point at e[tx] of the tiles' two split rows, whose
    /// columns 2tx, 2tx+1 are o[tx] = r[half] and e[tx+1] = r[1].
    @inline(__always)
    static func gradientTiles(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ half: Int,
                              _ out: UnsafeMutablePointer<Float>, _ ps: Int) {
        // A applied along a row (y0, y1) -> (y0, y0 + y1, y0 - y1, -y1).
        @inline(__always) func rowT(_ r: UnsafePointer<Float>)
            -> (WinogradLane, WinogradLane, WinogradLane, WinogradLane) {
            let y0: WinogradLane = load(r + half), y1: WinogradLane = load(r + 1)
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
