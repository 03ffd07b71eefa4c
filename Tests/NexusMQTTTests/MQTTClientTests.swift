import Testing
import NexusHardware
@testable import NexusMQTT

@Suite struct BrokerURLTests {
    @Test(arguments: [("mqtt://127.0.0.1:1884", false, "127.0.0.1", 1884), ("mqtt://broker.lan", false, "broker.lan", 1883),
                      ("mqtts://broker.lan", true, "broker.lan", 8883), ("mqtts://[::1]:9000", true, "::1", 9000)])
    func parses(_ text: String, _ tls: Bool, _ host: String, _ port: Int) {
        #expect(BrokerURL(text) == BrokerURL(tls: tls, host: host, port: port))
    }

    @Test(arguments: ["http://x", "mqtt://", "mqtt://h:0", "mqtt://h:70000", "mqtt://user@h", "mqtt://h:port", "mqtts://[::1"])
    func rejects(_ text: String) {
        #expect(BrokerURL(text) == nil)
    }
}

/// The offline queue, with no broker: nothing is connected, everything queues.
@Suite struct OfflineQueueTests {
    func client(limit: Int) throws -> MQTTClient {
        var s = MQTTSettings(broker: BrokerURL(tls: false, host: "127.0.0.1", port: 1), clientID: "queue-test")
        s.offlineQueueLimit = limit
        return try MQTTClient(settings: s, will: nil, logger: .silent)
    }

    @Test func telemetryIsDroppedBeforeEvents() throws {
        let c = try client(limit: 10)
        for i in 0..<4 { c.publish("e", Array("event \(i)".utf8), qos: 1, retain: false, kind: .event) }
        for i in 0..<10 { c.publish("t", Array("tele \(i)".utf8), qos: 0, retain: false, kind: .telemetry) }
        #expect(c.queuedCount == 10)
        #expect(c.droppedTelemetry == 4)
        #expect(c.droppedEvents == 0)
        // Only events left to drop: the oldest go.
        for i in 4..<20 { c.publish("e", Array("event \(i)".utf8), qos: 1, retain: false, kind: .event) }
        #expect(c.queuedCount == 10)
        #expect(c.droppedTelemetry == 10)
        #expect(c.droppedEvents == 10)
    }

    @Test func statusIsNotQueued() throws {
        let c = try client(limit: 10)
        c.publish("s", [1], qos: 1, retain: true, kind: .status)
        #expect(c.queuedCount == 0)
    }

    @Test func tlsNeedsACA() {
        var s = MQTTSettings(broker: BrokerURL(tls: true, host: "h", port: 8883), clientID: "x")
        s.caFile = nil
        #expect(throws: MQTTError.self) { try MQTTClient(settings: s, will: nil, logger: .silent) }
    }
}
