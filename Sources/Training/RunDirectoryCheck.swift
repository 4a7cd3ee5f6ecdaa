import Foundation

/// Fail fast on the run directory, before any training: it must be creatable, writable, and
/// have room for a few checkpoints. A run that discovers this at its first checkpoint has already
/// spent an epoch of the reservation.
public enum RunDirectoryCheck {
    /// nil when fine, else the problem.
    public static func problem(_ dir: String, checkpointBytes: Int, keep: Int) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            return "cannot create the run directory \(dir): \(error.localizedDescription)"
        }
        let probe = dir + "/.spice-write-test-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            return "the run directory \(dir) is not writable"
        }
        try? FileManager.default.removeItem(atPath: probe)
        var st = statvfs()
        if statvfs(dir, &st) == 0 {
            let free = Int(st.f_bavail) * Int(st.f_frsize)
            let need = checkpointBytes * (keep + 1)
            if free < need {
                return "the run directory \(dir) has \(free / 1_048_576) MB free; \(keep + 1) checkpoints of this model need about "
                    + "\(need / 1_048_576) MB (use --keep-checkpoints or another --run-dir)"
            }
        }
        return nil
    }
}
