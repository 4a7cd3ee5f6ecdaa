import Foundation

/// Mono audio as float samples in [-1, 1] (PCM scaled by 1 / 2^(bits-1)), at its sample rate.
public struct MonoAudio: Sendable, Equatable {
    public var sampleRate: Int
    public var samples: [Float]

    public init(sampleRate: Int, samples: [Float]) {
        self.sampleRate = sampleRate; self.samples = samples
    }

    public var seconds: Double { Double(samples.count) / Double(sampleRate) }
}

/// A RIFF/WAVE reader (and a small writer for tests and tools).
///
/// Reads integer PCM (8-bit unsigned, 16/24/32-bit signed) and IEEE float (32/64-bit), plain or
/// WAVE_FORMAT_EXTENSIBLE, any number of channels (averaged to mono, as librosa's `mono=True`)
/// and any sample rate. Integer samples are scaled by 1 / 2^(bits-1) (PCM16: x / 32768, as
/// librosa/soundfile). Chunks other than `fmt ` and `data` are skipped (with RIFF's odd-size pad
/// byte). Everything wrong with a file throws a `DataError` naming it: not a RIFF/WAVE file,
/// missing or malformed `fmt `, unsupported encoding, no `data` chunk, a `data` chunk that is
/// longer than the file (truncated) or not a whole number of frames.
public enum WAV {
    public enum Encoding: Sendable, Equatable {
        case pcm16, float32
    }

    public static func read(path: String) throws -> MonoAudio {
        let data = try readInputFile(path)
        return try decode(data, name: path)
    }

    /// Parses a whole WAV file held in memory; `name` labels errors.
    public static func decode(_ data: Data, name: String) throws -> MonoAudio {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> MonoAudio in
            try decode(raw, name: name)
        }
    }

    private static func decode(_ b: UnsafeRawBufferPointer, name: String) throws -> MonoAudio {
        func fail(_ m: String) -> DataError { DataError(file: name, m) }
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func tag(_ o: Int) -> String { String(decoding: b[o..<(o + 4)], as: UTF8.self) }

        guard b.count >= 12, tag(0) == "RIFF" else {
            if b.count >= 4 && (tag(0) == "RIFX" || tag(0) == "RF64") { throw fail("unsupported \(tag(0)) file (only little-endian RIFF WAVE)") }
            throw fail("not a RIFF file")
        }
        guard tag(8) == "WAVE" else { throw fail("RIFF file of type '\(tag(8))', not WAVE") }

        var format: (tag: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int)?
        var dataRange: Range<Int>?
        var o = 12
        while o + 8 <= b.count {
            let id = tag(o), size = u32(o + 4), body = o + 8
            if id == "fmt " {
                guard size >= 16, body + size <= b.count else { throw fail("malformed 'fmt ' chunk (\(size) bytes)") }
                var fmtTag = u16(body)
                let bits = u16(body + 14)
                if fmtTag == 0xFFFE {
                    // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
                    guard size >= 40 else { throw fail("malformed WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk (\(size) bytes)") }
                    fmtTag = u16(body + 24)
                }
                format = (fmtTag, u16(body + 2), u32(body + 4), u16(body + 12), bits)
            } else if id == "data" {
                guard body + size <= b.count else {
                    throw fail("truncated data: the 'data' chunk declares \(size) bytes, the file holds \(b.count - body)")
                }
                dataRange = body..<(body + size)
                break
            }
            o = body + size + (size & 1)
        }
        guard let f = format else { throw fail("no 'fmt ' chunk before the audio data") }
        guard let range = dataRange else { throw fail("no 'data' chunk") }
        guard f.channels >= 1 else { throw fail("\(f.channels) channels") }
        guard f.rate >= 1 else { throw fail("sample rate \(f.rate)") }

        let bytesPerSample: Int
        switch (f.tag, f.bits) {
        case (1, 8), (1, 16), (1, 24), (1, 32): bytesPerSample = f.bits / 8
        case (3, 32), (3, 64): bytesPerSample = f.bits / 8
        case (1, _): throw fail("unsupported PCM bit depth \(f.bits) (8, 16, 24 or 32)")
        case (3, _): throw fail("unsupported float bit depth \(f.bits) (32 or 64)")
        default: throw fail("unsupported encoding: format tag \(f.tag) (\(formatName(f.tag))); only PCM (1) and IEEE float (3)")
        }
        let frameBytes = bytesPerSample * f.channels
        guard f.blockAlign == frameBytes else {
            throw fail("block align \(f.blockAlign) does not match \(f.channels) channels of \(f.bits) bits")
        }
        guard range.count % frameBytes == 0 else {
            throw fail("truncated data: \(range.count) bytes is not a whole number of \(frameBytes)-byte frames")
        }
        let frames = range.count / frameBytes
        let C = f.channels
        var out = [Float](repeating: 0, count: frames)
        let base = b.baseAddress! + range.lowerBound
        out.withUnsafeMutableBufferPointer { o in
            let invC = 1 / Float(C)
            for i in 0..<frames {
                var sum: Float = 0
                for c in 0..<C {
                    let p = base + (i * C + c) * bytesPerSample
                    sum += sample(p, tag: f.tag, bytes: bytesPerSample)
                }
                o[i] = C == 1 ? sum : sum * invC
            }
        }
        return MonoAudio(sampleRate: f.rate, samples: out)
    }

    @inline(__always)
    private static func sample(_ p: UnsafeRawPointer, tag: Int, bytes: Int) -> Float {
        if tag == 3 {
            if bytes == 4 { return Float(bitPattern: p.loadUnaligned(as: UInt32.self).littleEndian) }
            return Float(Double(bitPattern: p.loadUnaligned(as: UInt64.self).littleEndian))
        }
        switch bytes {
        case 1: return (Float(p.load(as: UInt8.self)) - 128) / 128
        case 2: return Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self))) / 32768
        case 3:
            let u = Int32(p.load(fromByteOffset: 0, as: UInt8.self)) | Int32(p.load(fromByteOffset: 1, as: UInt8.self)) << 8
                | Int32(p.load(fromByteOffset: 2, as: UInt8.self)) << 16
            return Float((u << 8) >> 8) / 8_388_608
        default: return Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self))) / 2_147_483_648
        }
    }

    private static func formatName(_ tag: Int) -> String {
        switch tag {
        case 2: return "MS ADPCM"
        case 6: return "A-law"
        case 7: return "mu-law"
        case 0x11: return "IMA ADPCM"
        case 0x55: return "MP3"
        default: return "compressed or unknown"
        }
    }

    /// A canonical 44-byte-header WAV file: `channels` interleaved channels of `samples.count / channels`
    /// frames, PCM16 (values scaled by 32767 after clamping to [-1, 1], rounded) or float32.
    public static func encode(_ samples: [Float], sampleRate: Int, channels: Int = 1, encoding: Encoding = .pcm16) -> Data {
        precondition(channels >= 1 && samples.count % channels == 0)
        let bps = encoding == .pcm16 ? 2 : 4
        var d = Data()
        func put32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func put16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        let dataBytes = samples.count * bps
        d.append(contentsOf: Array("RIFF".utf8)); put32(36 + dataBytes); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); put32(16)
        put16(encoding == .pcm16 ? 1 : 3); put16(channels); put32(sampleRate); put32(sampleRate * channels * bps)
        put16(channels * bps); put16(bps * 8)
        d.append(contentsOf: Array("data".utf8)); put32(dataBytes)
        for s in samples {
            switch encoding {
            case .pcm16:
                let v = Int16((max(-1, min(1, s)) * 32767).rounded())
                withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) }
            case .float32:
                withUnsafeBytes(of: s.bitPattern.littleEndian) { d.append(contentsOf: $0) }
            }
        }
        return d
    }
}
