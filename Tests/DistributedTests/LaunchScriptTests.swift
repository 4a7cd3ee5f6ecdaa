import XCTest
import Foundation

/// The launch scripts a cluster user runs: they print the exact command and start a working job.
final class LaunchScriptTests: XCTestCase {
    var repo: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
    }

    func script(_ path: String, _ args: [String], env extra: [String: String] = [:], timeout: Double = 120) throws -> (status: Int32, out: String) {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["SPICE_BIN"] = MPIRunner.spice
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        for (k, v) in extra { env[k] = v }
        let p = Process()
        p.executableURL = repo.appendingPathComponent(path)
        p.arguments = args
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    let tiny = ["train", "--width", "2", "--size", "16", "--samples", "32", "--batch", "4", "--epochs", "1"]

    func testLocalLauncher() throws {
        let r = try script("launch/local", ["2"] + tiny)
        XCTAssertEqual(r.status, 0, r.out)
        XCTAssertTrue(r.out.contains("+ mpirun -np 2"), r.out)
        XCTAssertTrue(r.out.contains("-x OPENBLAS_NUM_THREADS="), r.out)
        XCTAssertTrue(r.out.contains("identical on all 2 rank(s)"), r.out)
        XCTAssertEqual(try script("launch/local", ["zero"]).status, 2)
    }

    func testMultiNodeLauncherWithAHostfile() throws {
        let hosts = FileManager.default.temporaryDirectory.appendingPathComponent("spice-hosts-\(UUID().uuidString)")
        try "# test hostfile\nlocalhost slots=2\n".write(to: hosts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hosts) }
        let r = try script("launch/multinode", [hosts.path, "2"] + tiny)
        XCTAssertEqual(r.status, 0, r.out)
        XCTAssertTrue(r.out.contains("--hostfile \(hosts.path) --map-by ppr:2:node:PE="), r.out)
        XCTAssertTrue(r.out.contains("identical on all 2 rank(s)"), r.out)
        XCTAssertEqual(try script("launch/multinode", ["/nonexistent", "2"]).status, 2)
    }

    /// The settings a cluster (and launch/simulate-nodes) needs: network, transports, binding.
    func testMultiNodeLauncherNetworkSettings() throws {
        let hosts = FileManager.default.temporaryDirectory.appendingPathComponent("spice-hosts-\(UUID().uuidString)")
        try "localhost slots=2\n".write(to: hosts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hosts) }
        let r = try script("launch/multinode", [hosts.path, "2"] + tiny,
                           env: ["NET_INCLUDE": "127.0.0.0/8", "BTL": "tcp,self", "BIND_TO": "none", "CORES_PER_RANK": "1"])
        XCTAssertEqual(r.status, 0, r.out)
        XCTAssertTrue(r.out.contains("--map-by ppr:2:node --bind-to none"), r.out)
        XCTAssertTrue(r.out.contains("--mca btl_tcp_if_include 127.0.0.0/8 --mca oob_tcp_if_include 127.0.0.0/8 --mca btl tcp,self"), r.out)
        XCTAssertTrue(r.out.contains("identical on all 2 rank(s)"), r.out)
        let bind = try script("launch/multinode", [hosts.path, "2"] + tiny, env: ["BIND_TO": "socket"])
        XCTAssertEqual(bind.status, 2)
        XCTAssertTrue(bind.out.contains("BIND_TO must be core or none"), bind.out)
        let agent = try script("launch/multinode", [hosts.path, "2"] + tiny, env: ["RSH_AGENT": "/nonexistent/agent"])
        XCTAssertEqual(agent.status, 2)
        XCTAssertTrue(agent.out.contains("RSH_AGENT /nonexistent/agent is not an executable file"), agent.out)
    }

    /// Checked before anything is created, so it runs anywhere: bad arguments are usage errors.
    func testSimulateNodesRefusesBadArguments() throws {
        for args in [["0", "1"], ["2", "x"], ["2"], ["2", "--exec"], ["65", "1"]] {
            let r = try script("launch/simulate-nodes", args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.out)")
            XCTAssertTrue(r.out.contains("launch/simulate-nodes") || r.out.contains("usage:"), r.out)
        }
    }

    func testSlurmScriptParses() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-n", repo.appendingPathComponent("launch/slurm.sbatch").path]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }
}
