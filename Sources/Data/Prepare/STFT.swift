import Foundation

/// A real-input FFT of a power-of-two size n >= 4: an n/2-point complex radix-2 FFT of the
/// even/odd-packed signal, then the split step that separates the two real transforms.
/// Double precision throughout (tables and arithmetic). Immutable, so one instance can be shared.
public struct RealFFT: Sendable {
    public let size: Int
    let half: Int
    /// e^{-2 pi i k / half}, k < half/2, for the complex FFT.
    let cosTable: [Double], sinTable: [Double]
    /// e^{-2 pi i k / size}, k <= half, for the split step.
    let splitCos: [Double], splitSin: [Double]
    let bitReverse: [Int]

    public init(size: Int) {
        precondition(size >= 4 && size & (size - 1) == 0, "RealFFT size must be a power of two >= 4, got \(size)")
        self.size = size
        half = size / 2
        cosTable = (0..<max(1, half / 2)).map { cos(-2 * Double.pi * Double($0) / Double(size / 2)) }
        sinTable = (0..<max(1, half / 2)).map { sin(-2 * Double.pi * Double($0) / Double(size / 2)) }
        splitCos = (0...size / 2).map { cos(-2 * Double.pi * Double($0) / Double(size)) }
        splitSin = (0...size / 2).map { sin(-2 * Double.pi * Double($0) / Double(size)) }
        var rev = [Int](repeating: 0, count: size / 2)
        let bits = (size / 2).trailingZeroBitCount
        for i in 0..<(size / 2) {
            var r = 0, v = i
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            rev[i] = r
        }
        bitReverse = rev
    }

    /// X[k] = sum_t x[t] e^{-2 pi i k t / n} for k = 0...n/2 (the onesided spectrum).
    /// `x` holds n values; `re`/`im` receive n/2 + 1 values; `scratchRe`/`scratchIm` hold n/2 each.
    public func forward(_ x: UnsafePointer<Double>, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                        scratchRe zr: UnsafeMutablePointer<Double>, scratchIm zi: UnsafeMutablePointer<Double>) {
        let h = half
        // z[k] = x[2k] + i x[2k+1], stored in bit-reversed order.
        bitReverse.withUnsafeBufferPointer { rev in
            for k in 0..<h {
                let r = rev[k]
                zr[r] = x[2 * k]; zi[r] = x[2 * k + 1]
            }
        }
        // Iterative radix-2 decimation in time.
        cosTable.withUnsafeBufferPointer { ct in
            sinTable.withUnsafeBufferPointer { st in
                var len = 2
                while len <= h {
                    let step = h / len, halfLen = len / 2
                    var start = 0
                    while start < h {
                        for j in 0..<halfLen {
                            let wr = ct[j * step], wi = st[j * step]
                            let a = start + j, b = a + halfLen
                            let tr = zr[b] * wr - zi[b] * wi
                            let ti = zr[b] * wi + zi[b] * wr
                            zr[b] = zr[a] - tr; zi[b] = zi[a] - ti
                            zr[a] += tr; zi[a] += ti
                        }
                        start += len
                    }
                    len <<= 1
                }
            }
        }
        // Split: E[k] = (Z[k] + conj Z[h-k]) / 2, O[k] = (Z[k] - conj Z[h-k]) / 2i, X[k] = E[k] + W^k O[k].
        splitCos.withUnsafeBufferPointer { sc in
            splitSin.withUnsafeBufferPointer { ss in
                for k in 0...h {
                    let a = k == h ? 0 : k, b = k == 0 ? 0 : h - k
                    let zkr = zr[a], zki = zi[a], zmr = zr[b], zmi = -zi[b]   // Z[k], conj Z[h-k]
                    let er = 0.5 * (zkr + zmr), ei = 0.5 * (zki + zmi)
                    // (Z[k] - conj Z[h-k]) / 2i = (d) * (-i/2): (dr + i di)(-i)/2 = (di - i dr)/2
                    let dr = zkr - zmr, di = zki - zmi
                    let or = 0.5 * di, oi = -0.5 * dr
                    let wr = sc[k], wi = ss[k]
                    re[k] = er + (or * wr - oi * wi)
                    im[k] = ei + (or * wi + oi * wr)
                }
            }
        }
    }
}

/// Short-time Fourier transform magnitudes, librosa.stft / torch.stft conventions:
/// frames of `nFFT` samples every `hop` samples, each multiplied by a periodic Hann window of length
/// `nFFT` (scipy `get_window("hann", n, fftbins=True)` = torch `hann_window(n)`: 0.5 - 0.5 cos(2 pi t / n)),
/// onesided (nFFT/2 + 1 bins). With `center` the signal is first padded by nFFT/2 on both sides
/// (`reflect`: mirrored without repeating the edge sample, numpy/torch "reflect"; `constant`: zeros,
/// librosa >= 0.10's default), giving 1 + count / hop frames; without it, 1 + (count - nFFT) / hop
/// frames (integer division). Output is row-major [bins, frames] (frequency rows, time columns),
/// as librosa returns it.
public struct STFT: Sendable {
    public enum Padding: String, Sendable { case reflect, constant }

    public struct Config: Sendable, Equatable {
        public var nFFT: Int
        public var hop: Int
        public var center: Bool
        public var padding: Padding
        public init(nFFT: Int = 512, hop: Int = 353, center: Bool = true, padding: Padding = .reflect) {
            self.nFFT = nFFT; self.hop = hop; self.center = center; self.padding = padding
        }
        public var bins: Int { nFFT / 2 + 1 }
        /// Frames for a signal of `count` samples (0 when too short without centring).
        public func frames(count: Int) -> Int {
            if center { return 1 + count / hop }
            return count >= nFFT ? 1 + (count - nFFT) / hop : 0
        }
    }

    public let config: Config
    let fft: RealFFT
    let window: [Double]

    public init(_ config: Config = Config()) {
        precondition(config.hop >= 1)
        self.config = config
        fft = RealFFT(size: config.nFFT)
        let n = config.nFFT
        window = (0..<n).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n)) }
    }

    /// log(|X| + offset) as Float [bins, frames]; `offset` 1e-7 in the OGM-GE/BSS recipes.
    public func logMagnitude(_ signal: [Float], offset: Double = 1e-7) -> [Float] {
        transform(signal) { re, im in Float(Foundation.log((re * re + im * im).squareRoot() + offset)) }
    }

    /// |X| as Float [bins, frames].
    public func magnitude(_ signal: [Float]) -> [Float] {
        transform(signal) { re, im in Float((re * re + im * im).squareRoot()) }
    }

    private func transform(_ signal: [Float], _ value: (Double, Double) -> Float) -> [Float] {
        let n = config.nFFT, hop = config.hop, bins = config.bins
        let frames = config.frames(count: signal.count)
        guard frames > 0, !signal.isEmpty else { return [] }
        var out = [Float](repeating: 0, count: bins * frames)
        var frame = [Double](repeating: 0, count: n)
        var re = [Double](repeating: 0, count: bins), im = re
        var zr = [Double](repeating: 0, count: n / 2), zi = zr
        let pad = config.center ? n / 2 : 0
        let count = signal.count
        // Index into the padded signal -> sample value.
        func sample(_ s: UnsafeBufferPointer<Float>, _ j: Int) -> Double {
            var i = j - pad
            if i >= 0 && i < count { return Double(s[i]) }
            if config.padding == .constant { return 0 }
            if count == 1 { return Double(s[0]) }
            // Reflection about the end samples (period 2(count - 1)), numpy "reflect".
            let period = 2 * (count - 1)
            i %= period
            if i < 0 { i += period }
            if i >= count { i = period - i }
            return Double(s[i])
        }
        signal.withUnsafeBufferPointer { s in
            window.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    for f in 0..<frames {
                        let start = f * hop
                        frame.withUnsafeMutableBufferPointer { fr in
                            if start - pad >= 0 && start - pad + n <= count {
                                let base = s.baseAddress! + (start - pad)
                                for t in 0..<n { fr[t] = Double(base[t]) * w[t] }
                            } else {
                                for t in 0..<n { fr[t] = sample(s, start + t) * w[t] }
                            }
                            fft.forward(fr.baseAddress!, re: &re, im: &im, scratchRe: &zr, scratchIm: &zi)
                        }
                        for k in 0..<bins { o[k * frames + f] = value(re[k], im[k]) }
                    }
                }
            }
        }
        return out
    }
}
