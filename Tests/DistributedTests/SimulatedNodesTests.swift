import XCTest
import Foundation

/// The multi-node path on one machine: launch/simulate-nodes makes two network-namespace "nodes"
/// (own address, hostname and core) and runs spice across them through launch/multinode, over
/// TCP only. Training there must give exactly the parameters of the same job run on one node over
/// shared memory (same seed, same world size). Needs root (network namespaces).
final class SimulatedNodesTests: XCTestCase {
    var repo: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    var scratch: [URL] = []

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
        try XCTSkipUnless(getuid() == 0, "simulated nodes need root (launch/simulate-nodes creates network namespaces); run the tests as root to include this one")
    }

    override func tearDown() { for u in scratch { try? FileManager.default.removeItem(at: u) } }

    func temporary(_ name: String) -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("spice-simnodes-\(name)-\(UUID().uuidString)")
        scratch.append(u)
        return u
    }

    /// Runs launch/simulate-nodes with a hard timeout; on timeout it gets TERM (it then ends the job
    /// and removes its namespaces), then KILL.
    func simulateNodes(_ args: [String], env extra: [String: String] = [:], timeout: Double = 60) throws -> (run: MPIRun, pid: Int32) {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["SPICE_BIN"] = MPIRunner.spice
        for (k, v) in extra { env[k] = v }
        let p = Process()
        p.executableURL = repo.appendingPathComponent("launch/simulate-nodes")
        p.arguments = args
        p.environment = env
        let out = temporary("out"), err = temporary("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        let t0 = Date()
        try p.run()
        var timedOut = false
        while p.isRunning {
            if Date().timeIntervalSince(t0) > timeout {
                timedOut = true
                p.terminate()
                for _ in 0..<100 where p.isRunning { Thread.sleep(forTimeInterval: 0.1) }
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        let run = MPIRun(status: p.terminationStatus, out: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                         err: (try? String(contentsOf: err, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(t0), timedOut: timedOut)
        return (run, p.processIdentifier)
    }

    func namespaces() throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "list"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    func floats(_ u: URL) throws -> [Float] {
        try Data(contentsOf: u).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func checksum(_ out: String) -> String? {
        out.split(separator: "\n").first { $0.hasPrefix("final parameter checksum") }.map(String.init)
    }

    func testSpiceETrainingAcrossTwoSimulatedNodesEqualsOneNodeWithSharedMemory() throws {
        // The ranks really land on two different nodes (SPICE_BIN swapped for hostname).
        let where_ = try simulateNodes(["2", "1"], env: ["SPICE_BIN": "/bin/hostname"], timeout: 30)
        XCTAssertFalse(where_.run.timedOut, "hostname across the nodes hung")
        XCTAssertEqual(where_.run.status, 0, where_.run.err + where_.run.out)
        let names = where_.run.out.split(separator: "\n").filter { $0.hasPrefix("simnode") }.map(String.init).sorted()
        XCTAssertEqual(names, ["simnode1", "simnode2"], where_.run.out)

        let data = temporary("data")
        let synth = try MPIRunner.run(np: 1, ["synth", "--out", data.path, "--samples", "64", "--test-samples", "32"], timeout: 60)
        XCTAssertEqual(synth.status, 0, synth.err)
        let train = ["train", "--train", data.appendingPathComponent("train.h5").path, "--test", data.appendingPathComponent("test.h5").path,
                     "--width", "2", "--batch", "8", "--threads", "1", "--curriculum", "spice-e", "--epochs", "4",
                     "--warmup", "1", "--refresh", "2", "--seed", "7"]

        let tcpDump = temporary("tcp.bin")
        let (tcp, pid) = try simulateNodes(["2", "1"] + train + ["--dump-parameters", tcpDump.path])
        XCTAssertFalse(tcp.timedOut, "training across simulated nodes hung")
        XCTAssertEqual(tcp.status, 0, tcp.err)
        // Through the multi-node launcher, one rank per node, TCP only, on the test network.
        XCTAssertTrue(tcp.out.contains("+ mpirun -np 2 --hostfile "), tcp.out)
        XCTAssertTrue(tcp.out.contains("--mca btl tcp,self"), tcp.out)
        XCTAssertTrue(tcp.out.contains("--mca btl_tcp_if_include 10.77.0.0/24"), tcp.out)
        XCTAssertTrue(tcp.out.contains("curriculum spice-e"), tcp.out)
        XCTAssertTrue(tcp.out.contains("identical on all 2 rank(s)"), tcp.out)
        // The script removed its namespaces.
        XCTAssertFalse(try namespaces().contains { $0.hasPrefix("spsim-\(pid)-") }, "namespaces of run \(pid) left behind")

        let shmDump = temporary("shm.bin")
        let shm = try MPIRunner.run(np: 2, train + ["--dump-parameters", shmDump.path], mca: ["--mca", "btl", "self,vader"], timeout: 60)
        XCTAssertFalse(shm.timedOut)
        XCTAssertEqual(shm.status, 0, shm.err)

        let a = try floats(tcpDump), b = try floats(shmDump)
        XCTAssertGreaterThan(a.count, 1000)
        XCTAssertEqual(a.count, b.count)
        XCTAssertTrue(a.contains { $0 != 0 })
        let differing = zip(a, b).filter { $0.0.bitPattern != $0.1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(differing) of \(a.count) parameters differ between 2 nodes over TCP and 1 node over shared memory")
        XCTAssertNotNil(checksum(tcp.out))
        XCTAssertEqual(checksum(tcp.out), checksum(shm.out))

        // The comparison is sensitive: another seed on the same path gives other parameters.
        let otherDump = temporary("other.bin")
        let other = try MPIRunner.run(np: 2, train.map { $0 == "7" ? "8" : $0 } + ["--dump-parameters", otherDump.path],
                                      mca: ["--mca", "btl", "self,vader"], timeout: 60)
        XCTAssertEqual(other.status, 0, other.err)
        XCTAssertNotEqual(try floats(otherDump), b)
    }
}
