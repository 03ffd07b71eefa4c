import Testing
import Foundation
import Synchronization
@testable import NexusCoordinator
import NexusPolicy
import NexusFleet
import NexusWire
import NexusCrypto
import NexusHardware

/// The actuator against a captured outbox: what it signs and sends, in which order, and
/// what it does when the drain or the agent does not follow. (The same path against a
/// real broker and real agents is in CoordinatorIntegrationTests.)
@Suite struct ActuatorTests {
    let seed: [UInt8] = Array(1...32)

    func status(_ node: String, state: String, wakes: [String] = []) -> [UInt8] {
        let names = wakes.map { "\"\($0)\"" }.joined(separator: ","), methods = wakes.map { "\"\($0)\":\"wol\"" }.joined(separator: ",")
        return Array(#"{"schema":1,"node":"\#(node)","online":true,"state":"\#(state)","version":"0.1.0","board":"pi4b","capabilities":{"wakes":[\#(names)],"wake_methods":{\#(methods)}},"wake":{"method":"wol","interface":"eth0"},"warnings":[],"timestamp_ms":1}"#.utf8)
    }

    final class Outbox: Sendable {
        let sent = Mutex<[(topic: String, payload: [UInt8])]>([])
        let recorded = Mutex<[Decision]>([])
        let drained = Mutex<[String]>([])
        let undone = Mutex<[String]>([])
    }

    /// A store with pi-1..pi-3 awake (each wakes the others) and pi-4 asleep; a runner on.
    func setUp() -> (FleetStore, PolicyRunner) {
        let store = FleetStore()
        let all = ["pi-1", "pi-2", "pi-3", "pi-4"]
        for n in all {
            store.ingest(topic: "nexusgrid/v1/\(n)/status", payload: status(n, state: n == "pi-4" ? "sleeping" : "awake",
                                                                            wakes: all.filter { $0 != n }), nowMs: 9_000)
            store.ingest(topic: "nexusgrid/v1/\(n)/telemetry", payload: Array(#"{"seq":1,"node":"\#(n)","total_power_w":3,"cpu":{"utilisation":0.02}}"#.utf8), nowMs: 9_900)
        }
        store.setFeedConnected(true)
        var s = PolicySettings()
        s.mode = .on
        s.sleepHoldMs = 0
        return (store, PolicyRunner(settings: s))
    }

    func actuator(_ store: FleetStore, _ runner: PolicyRunner, _ box: Outbox, drain: Actuator.Drain? = nil,
                  answerMs: Int64 = 5_000) throws -> Actuator {
        let key = try #require(Ed25519.PrivateKey(seed: seed))
        return Actuator(key: CommandKey(name: "coordinator", privateKey: key),
                        publish: { t, p in box.sent.withLock { $0.append((t, p)) } }, store: store, runner: runner,
                        drain: drain, undo: { r in box.undone.withLock { $0.append(r.name) } },
                        record: { ds in box.recorded.withLock { $0 += ds } },
                        logger: NexusHardware.Logger(label: "test", sink: { _, _ in }),
                        now: { SystemClock.wallMilliseconds }, agentAnswerMs: answerMs)
    }

    /// Verifies what was sent as an agent would, with the public key only.
    func verify(_ m: (topic: String, payload: [UInt8])) throws -> JSONValue {
        let pub = try #require(Ed25519.PrivateKey(seed: seed)?.publicKey)
        var v = CommandVerifier(keys: ["coordinator": pub])
        return try v.verify(topic: m.topic, message: m.payload, nowMs: SystemClock.wallMilliseconds).1
    }

    func waitFor(_ what: () -> Bool) async {
        for _ in 0..<200 where !what() { try? await Task.sleep(for: .milliseconds(25)) }
    }

    @Test func aWakeIsASignedCommandToTheAgentOnTheRoute() throws {
        let (store, runner) = setUp()
        let box = Outbox()
        let a = try actuator(store, runner, box)
        a.carryOut([Decision(atMs: 1, node: "pi-4", action: .wake, reason: "r", acted: true, via: "pi-2", method: "wol"),
                    Decision(atMs: 1, node: "pi-3", action: .wake, reason: "dry run", acted: false, via: "pi-1", method: "wol")])
        let sent = box.sent.withLock { $0 }
        #expect(sent.count == 1) // the dry-run decision is not acted on
        let m = try #require(sent.first)
        #expect(m.topic == "nexusgrid/v1/pi-2/cmd/wake")
        #expect(try verify(m)["target"]?.stringValue == "pi-4")
    }

    @Test func aSleepDrainsThenAsksThenGivesTheGoAhead() async throws {
        let (store, runner) = setUp()
        let box = Outbox()
        let a = try actuator(store, runner, box, drain: { r in box.drained.withLock { $0.append(r.name) }; return nil })
        let d = runner.step(store, nowMs: 10_000)
        let node = try #require(d.first?.node)
        #expect(d.first?.action == .sleep)
        a.carryOut(d)
        await waitFor { box.sent.withLock { $0.count } == 1 }
        #expect(box.drained.withLock { $0 } == [node]) // the drain came first
        #expect(box.sent.withLock { $0.map(\.topic) } == ["nexusgrid/v1/\(node)/cmd/sleep"])
        // No go-ahead until the agent says it is draining.
        try await Task.sleep(for: .milliseconds(300))
        #expect(box.sent.withLock { $0.count } == 1)
        store.ingest(topic: "nexusgrid/v1/\(node)/status", payload: status(node, state: "draining"), nowMs: 11_000)
        await waitFor { box.sent.withLock { $0.count } == 2 }
        let sent = box.sent.withLock { $0 }
        #expect(sent.map(\.topic) == ["nexusgrid/v1/\(node)/cmd/sleep", "nexusgrid/v1/\(node)/cmd/sleep"])
        // Two distinct commands (a replayed one would be refused by the agent).
        #expect(try verify(sent[0])["id"] != nil)
        #expect(try verify(sent[1])["id"]?.stringValue != (try verify(sent[0])["id"]?.stringValue))
        #expect(box.recorded.withLock { $0 }.isEmpty && box.undone.withLock { $0 }.isEmpty)
    }

    @Test func aDrainThatCannotFinishSendsNothingAndIsRecorded() async throws {
        let (store, runner) = setUp()
        let box = Outbox()
        let a = try actuator(store, runner, box, drain: { _ in "default/db-0: local storage (volume data) would be lost" })
        let d = runner.step(store, nowMs: 10_000)
        let node = try #require(d.first?.node)
        a.carryOut(d)
        await waitFor { !box.recorded.withLock { $0 }.isEmpty }
        let aborted = try #require(box.recorded.withLock { $0 }.first)
        #expect(aborted.action == .aborted && aborted.node == node)
        #expect(aborted.reason.contains("stays in service: default/db-0: local storage"))
        #expect(box.sent.withLock { $0 }.isEmpty)
        #expect(runner.report().inFlight.isEmpty)
        #expect(store.snapshot().nodes[node]?.state == "awake") // no longer shown draining
    }

    @Test func anAgentThatDoesNotFollowIsGivenUpAndUncordoned() async throws {
        let (store, runner) = setUp()
        let box = Outbox()
        let a = try actuator(store, runner, box, drain: { _ in nil }, answerMs: 500)
        let d = runner.step(store, nowMs: 10_000)
        let node = try #require(d.first?.node)
        a.carryOut(d)
        await waitFor { !box.recorded.withLock { $0 }.isEmpty }
        let aborted = try #require(box.recorded.withLock { $0 }.first)
        #expect(aborted.reason.contains("did not start draining within 0 s"), "\(aborted.reason)")
        #expect(aborted.reason.contains("does it trust key 'coordinator'"))
        await waitFor { !box.undone.withLock { $0 }.isEmpty }
        #expect(box.undone.withLock { $0 } == [node])
        #expect(box.sent.withLock { $0 }.count == 1)
    }
}

@Suite struct PolicyRunnerTests {
    @Test func aReplicaThatDoesNotLeadDecidesNothing() throws {
        let (store, runner) = ActuatorTests().setUp()
        #expect(runner.step(store, nowMs: 10_000, leader: (false, "coord-b")).isEmpty)
        #expect(runner.report().holding == "standing by: coord-b leads")
        #expect(store.snapshot().nodes.values.allSatisfy { $0.state != "draining" })
        runner.pause("no decision: the Kubernetes API does not answer (HTTP 503)")
        #expect(runner.report().holding == "no decision: the Kubernetes API does not answer (HTTP 503)")
        // Leading: the same fleet gets its decision.
        #expect(runner.step(store, nowMs: 20_000, leader: (true, "coord-a")).count == 1)
    }
}

@Suite struct CoordinatorConfigTests {
    @Test func readsEverySection() throws {
        let c = try CoordinatorConfig.parse("""
            broker: mqtts://broker.lan:8883
            listen: 0.0.0.0:9480
            tls: {ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/c.key}
            database: /var/lib/nexus/c.sqlite
            kubernetes:
              kubeconfig: /etc/rancher/k3s/k3s.yaml
              label_nodes: true
              lease: {namespace: kube-system, identity: replica-a}
            commands: {key: /etc/nexusgrid/keys/coordinator.pem}
            policy:
              mode: on
              protect: [nas]
              min_awake: 3
              sleep_below: 0.4
              sleep_hold_s: 900
              wake_attempt_timeout_s: 120
              interval_s: 5
            """, file: "c.yaml")
        #expect(c.broker == "mqtts://broker.lan:8883" && c.listen == "0.0.0.0:9480" && c.ca == "/etc/ca.pem" && c.key == "/etc/c.key")
        #expect(c.kubeconfig == "/etc/rancher/k3s/k3s.yaml" && c.labelNodes && c.leaseNamespace == "kube-system")
        #expect(c.leaseName == "nexus-coordinator" && c.leaseIdentity == "replica-a")
        #expect(c.commandKey == "/etc/nexusgrid/keys/coordinator.pem" && c.commandKeyName == "coordinator")
        #expect(c.policy.mode == .on && c.policy.protected == ["nas"] && c.policy.minAwake == 3)
        #expect(c.policy.sleepBelow == 0.4 && c.policy.sleepHoldMs == 900_000 && c.policy.wakeAttemptTimeoutMs == 120_000)
        #expect(c.policy.wakeAbove == 0.8 && c.policyIntervalS == 5)
    }

    @Test func mistakesAreClearErrors() {
        func error(_ text: String) -> String {
            do { _ = try CoordinatorConfig.parse(text, file: "c.yaml"); return "no error" } catch { return error.description }
        }
        #expect(error("brokr: mqtt://x").contains("unknown key 'brokr'"))
        #expect(error("policy: {mode: maybe}").contains("policy.mode"))
        #expect(error("policy: {sleep_below: 0.9}").contains("must be above sleep_below"))
        #expect(error("policy: {wake_above: 2}").contains("between 0 and 1"))
        #expect(error("kubernetes: {in_cluster: true, kubeconfig: /k}").contains("not both"))
        #expect(error("commands: {key_name: x}").contains("commands.key is required"))
    }
}
