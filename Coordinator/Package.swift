// swift-tools-version: 6.2
// nexus-coordinator: the fleet model, placement hints for the orchestrator and the power
// policy. Its own package because it uses the server ecosystem (SwiftNIO through
// hummingbird), which the agent cannot afford; it shares the agent's wire types, MQTT
// wrapper and board files through the root package.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "NexusCoordinator",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "nexus-coordinator", targets: ["nexus-coordinator"]),
        .executable(name: "nexus-fleetsim", targets: ["nexus-fleetsim"]),
        .executable(name: "nexusctl", targets: ["nexusctl"]),
        .executable(name: "nexus-coordinator-bench", targets: ["nexus-coordinator-bench"]),
    ],
    dependencies: [
        .package(name: "NexusGrid", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // The live model of the fleet, fed by the agents' status, telemetry and events;
        // the energy model learned from telemetry. No I/O.
        .target(name: "NexusFleet",
                dependencies: [.product(name: "NexusWire", package: "NexusGrid"),
                               .product(name: "NexusBoards", package: "NexusGrid")],
                swiftSettings: swiftSettings),
        // The Kubernetes scheduler extender's wire format (k8s.io/kube-scheduler/extender/v1)
        // and its filter and prioritize rules over a fleet snapshot.
        .target(name: "NexusExtender", dependencies: ["NexusFleet"], swiftSettings: swiftSettings),
        // The Kubernetes API: kubeconfig or in-cluster credentials, nodes read and patched,
        // and the labels and taints NexusGrid keeps on them (only under nexusgrid.io/).
        .target(name: "NexusKube",
                dependencies: ["NexusFleet",
                               .product(name: "NexusWire", package: "NexusGrid"),
                               .product(name: "NexusYAML", package: "NexusGrid"),
                               .product(name: "AsyncHTTPClient", package: "async-http-client")],
                swiftSettings: swiftSettings),
        // When to put a node to sleep and when to wake one, with the safety rules; values
        // in, decisions out, so every rule is tested without a cluster.
        .target(name: "NexusPolicy", dependencies: ["NexusFleet"], swiftSettings: swiftSettings),
        // SQLite (GRDB): the fleet's inventory with its learned energy models, the
        // decisions and an energy history, so that a restart loses nothing.
        .target(name: "NexusStore",
                dependencies: ["NexusFleet", "NexusPolicy", .product(name: "GRDB", package: "GRDB.swift")],
                swiftSettings: swiftSettings),
        // The fleet simulator: a day of load on a mixed fleet through the same policy code,
        // always-on vs utilisation-only vs energy-aware. No I/O.
        .target(name: "NexusFleetSim",
                dependencies: ["NexusPolicy", "NexusFleet", .product(name: "NexusBoards", package: "NexusGrid")],
                swiftSettings: swiftSettings),
        // The service: the MQTT feed on its own thread, the HTTP API, the lifecycle.
        .target(name: "NexusCoordinator",
                dependencies: ["NexusFleet", "NexusExtender", "NexusPolicy",
                               .product(name: "NexusMQTT", package: "NexusGrid"),
                               .product(name: "NexusWire", package: "NexusGrid"),
                               .product(name: "NexusCrypto", package: "NexusGrid"),
                               .product(name: "NexusYAML", package: "NexusGrid"),
                               .product(name: "NexusHardware", package: "NexusGrid"),
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: swiftSettings),
        .executableTarget(name: "nexus-coordinator",
                          dependencies: ["NexusCoordinator", "NexusKube", "NexusPolicy", "NexusStore", "NexusFleet",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log")],
                          swiftSettings: swiftSettings),
        // nexusctl's side: the coordinator's API, signed commands, tables for a terminal.
        .target(name: "NexusControl",
                dependencies: [.product(name: "NexusWire", package: "NexusGrid"),
                               .product(name: "NexusCrypto", package: "NexusGrid"),
                               .product(name: "AsyncHTTPClient", package: "async-http-client")],
                swiftSettings: swiftSettings),
        .executableTarget(name: "nexusctl",
                          dependencies: ["NexusControl", .product(name: "NexusWire", package: "NexusGrid"),
                                         .product(name: "NexusCrypto", package: "NexusGrid"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: swiftSettings),
        // Figures for docs/benchmarks.md (tools/bench): ingest, policy, SQLite, extender latency.
        .executableTarget(name: "nexus-coordinator-bench",
                          dependencies: ["NexusCoordinator", "NexusFleet", "NexusPolicy", "NexusStore",
                                         .product(name: "Hummingbird", package: "hummingbird"),
                                         .product(name: "Logging", package: "swift-log"),
                                         .product(name: "AsyncHTTPClient", package: "async-http-client")],
                          swiftSettings: swiftSettings),
        .executableTarget(name: "nexus-fleetsim",
                          dependencies: ["NexusFleetSim", "NexusPolicy", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: swiftSettings),
        .testTarget(name: "NexusControlTests", dependencies: ["NexusControl", .product(name: "NexusWire", package: "NexusGrid")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "NexusFleetSimTests", dependencies: ["NexusFleetSim", "NexusPolicy"], swiftSettings: swiftSettings),
        .testTarget(name: "NexusFleetTests", dependencies: ["NexusFleet", .product(name: "NexusWire", package: "NexusGrid")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "NexusStoreTests", dependencies: ["NexusStore", "NexusFleet", "NexusPolicy"], swiftSettings: swiftSettings),
        .testTarget(name: "NexusPolicyTests", dependencies: ["NexusPolicy", "NexusFleet"], swiftSettings: swiftSettings),
        .testTarget(name: "NexusKubeTests",
                    dependencies: ["NexusKube", "NexusFleet", .product(name: "NexusWire", package: "NexusGrid"),
                                   .product(name: "Hummingbird", package: "hummingbird")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "NexusExtenderTests", dependencies: ["NexusExtender", "NexusFleet"], swiftSettings: swiftSettings),
        // The built nexus-coordinator against a real mosquitto and real simulated agents
        // (the root package's nexus-agent, built first by tools/test).
        .testTarget(name: "CoordinatorIntegrationTests", swiftSettings: swiftSettings),
        .testTarget(name: "NexusCoordinatorTests",
                    dependencies: ["NexusCoordinator", "NexusFleet", "NexusPolicy",
                                   .product(name: "HummingbirdTesting", package: "hummingbird")],
                    swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
