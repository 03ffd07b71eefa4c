import ArgumentParser
import Hummingbird
import NexusCoordinator
import NexusHardware
import NexusMQTT

@main
struct NexusCoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus-coordinator",
        abstract: "Keeps a live model of the NexusGrid fleet from its MQTT feed and serves placement hints.",
        discussion: "HTTP: the Kubernetes scheduler extender at /scheduler/filter and /scheduler/prioritize, "
            + "the fleet at /v1/nodes and per-node hints at /v1/hints (docs/coordinator.md). "
            + "Every answer comes from memory; the feed runs on its own thread.")

    @Option(help: "The fleet's broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT].")
    var broker: String

    @Option(help: "HOST:PORT to serve HTTP on.")
    var listen: String = "127.0.0.1:9480"

    @Option(help: "mqtts: the broker's CA (pinned).")
    var ca: String?

    @Option(help: "mqtts: this coordinator's client certificate.")
    var cert: String?

    @Option(help: "mqtts: the certificate's private key.")
    var key: String?

    @Option(help: "MQTT client id.")
    var clientId: String = "nexus-coordinator"

    func run() async throws {
        guard let url = BrokerURL(broker) else {
            throw ValidationError("--broker '\(broker)' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--listen '\(listen)' is not HOST:PORT")
        }
        let host = String(listen[..<colon])
        var settings = MQTTSettings(broker: url, clientID: clientId)
        settings.caFile = ca
        settings.certFile = cert
        settings.keyFile = key
        if url.tls, ca == nil { throw ValidationError("mqtts:// needs --ca: the broker's CA is pinned") }
        let logger = NexusHardware.Logger(label: "nexus-coordinator")
        let store = FleetStore()
        let feed = FeedThread(settings: settings, store: store, logger: logger)
        do { try feed.start() } catch { throw ValidationError("MQTT: \(error)") }
        let app = Application(router: HTTPAPI.router(store: store, now: { SystemClock.wallMilliseconds }),
                              configuration: .init(address: .hostname(host, port: port), serverName: "nexus-coordinator"))
        logger.info("serving", ["listen": listen, "broker": url.description])
        try await app.runService()
    }
}
