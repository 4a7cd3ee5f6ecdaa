import Foundation

/// A named audio-to-spectrogram recipe: resample to `sampleRate`, repeat/crop to `seconds`,
/// clip to [-1, 1], STFT, log(|X| + 1e-7). Output [1, bins, frames] (one channel).
///
/// The two profiles follow the reference code of the anchors (docs/prepare.md):
/// - `ogm-ge`: OGM-GE's CREMA-D loader (`librosa.load(sr=22050)`, `np.tile(x, 3)[:22050*3]`,
///   clip, `librosa.stft(n_fft=512, hop_length=353)`, `log(|X| + 1e-7)`): 22050 Hz, 3 s,
///   66150 samples -> 257 x 188.
/// - `bss`: the same pipeline with BSS's (IJCAI'25) CREMA-D duration, 20 s (`np.tile(x, 20)[:22050*20]`):
///   441000 samples -> 257 x 1250. `seconds` / `sampleRate` override it (BSS's Kinetics-Sounds
///   loader: 10 s at 35400 Hz -> 257 x 1003).
/// Both repeat the clip cyclically until it is long enough (`np.tile(x, k)[:n]` with enough copies;
/// identical to the reference whenever its fixed copy count suffices, i.e. clips >= 1 s for ogm-ge),
/// then crop. The STFT is centred with reflect padding (librosa < 0.10 and torch.stft defaults).
public struct AudioProfile: Sendable, Equatable {
    public var name: String
    public var sampleRate: Int
    public var seconds: Double
    public var stft: STFT.Config
    /// Clip samples to [-1, 1] after tiling (the references do).
    public var clip: Bool
    /// The offset inside the log.
    public var logOffset: Double

    public init(name: String, sampleRate: Int, seconds: Double, stft: STFT.Config = .init(), clip: Bool = true, logOffset: Double = 1e-7) {
        self.name = name; self.sampleRate = sampleRate; self.seconds = seconds
        self.stft = stft; self.clip = clip; self.logOffset = logOffset
    }

    public static let ogmGE = AudioProfile(name: "ogm-ge", sampleRate: 22050, seconds: 3)
    public static let bss = AudioProfile(name: "bss", sampleRate: 22050, seconds: 20)
    public static let names = ["ogm-ge", "bss"]

    /// A profile by name with optional overrides; nil for an unknown name.
    public static func named(_ name: String, seconds: Double? = nil, sampleRate: Int? = nil,
                             padding: STFT.Padding? = nil) -> AudioProfile? {
        var p: AudioProfile
        switch name.lowercased() {
        case "ogm-ge", "ogmge", "ogm_ge": p = .ogmGE
        case "bss": p = .bss
        default: return nil
        }
        if let seconds { p.seconds = seconds }
        if let sampleRate { p.sampleRate = sampleRate }
        if let padding { p.stft.padding = padding }
        return p
    }

    /// Samples after tiling/cropping: round(sampleRate * seconds).
    public var samples: Int { Int((Double(sampleRate) * seconds).rounded()) }
    public var bins: Int { stft.bins }
    public var frames: Int { stft.frames(count: samples) }
    /// The stored spectrogram spec [1, bins, frames].
    public func spec(name modality: String = "audio", storage: SampleStorage = .float32) -> ModalitySpec {
        .spectrogram(modality, channels: 1, height: bins, width: frames, storage: storage)
    }

    /// One line for the file's `preprocessing` attribute.
    public var recipe: String {
        let secs = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        return "\(name): resample to \(sampleRate) Hz (Kaiser-windowed sinc, 64 zero crossings, cutoff 0.95 Nyquist), mono mean, "
            + "repeat cyclically and crop to \(secs) s (\(samples) samples)\(clip ? ", clip to [-1, 1]" : ""), "
            + "STFT n_fft \(stft.nFFT) hop \(stft.hop) periodic Hann, "
            + (stft.center ? "centred (\(stft.nFFT / 2) samples \(stft.padding.rawValue) padding each side)" : "not centred")
            + ", onesided \(bins) bins, log(|X| + \(logOffset)) -> 1 x \(bins) x \(frames)"
    }

    /// Repeats `x` cyclically to exactly `count` samples (crops when longer).
    public static func tile(_ x: [Float], to count: Int) -> [Float] {
        precondition(!x.isEmpty)
        if x.count >= count { return Array(x[0..<count]) }
        var out = [Float]()
        out.reserveCapacity(count)
        while out.count < count { out.append(contentsOf: x.prefix(count - out.count)) }
        return out
    }
}

/// Runs `AudioProfile`s: caches the resamplers per input rate and the STFT tables. Thread-safe
/// (the caches are behind a lock; every call uses its own buffers).
public final class AudioPipeline: @unchecked Sendable {
    public let profile: AudioProfile
    let stft: STFT
    private var resamplers: [Int: Resampler] = [:]
    private let lock = NSLock()

    public init(profile: AudioProfile) {
        self.profile = profile
        stft = STFT(profile.stft)
    }

    func resampler(from rate: Int) -> Resampler {
        lock.lock()
        defer { lock.unlock() }
        if let r = resamplers[rate] { return r }
        let r = Resampler(inputRate: rate, outputRate: profile.sampleRate)
        resamplers[rate] = r
        return r
    }

    /// The log spectrogram [1, bins, frames] (flattened) of `audio`. Throws for empty or silent-length audio.
    public func spectrogram(_ audio: MonoAudio, name: String = "audio") throws -> [Float] {
        guard !audio.samples.isEmpty else { throw DataError(file: name, "empty audio (0 samples)") }
        if let bad = audio.samples.firstIndex(where: { !$0.isFinite }) {
            throw DataError(file: name, "non-finite audio sample \(audio.samples[bad]) at \(bad)")
        }
        var x = audio.sampleRate == profile.sampleRate ? audio.samples : resampler(from: audio.sampleRate).resample(audio.samples)
        x = AudioProfile.tile(x, to: profile.samples)
        if profile.clip {
            for i in x.indices { x[i] = min(1, max(-1, x[i])) }
        }
        let s = stft.logMagnitude(x, offset: profile.logOffset)
        precondition(s.count == profile.bins * profile.frames)
        return s
    }
}
