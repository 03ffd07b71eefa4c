// swift-tools-version: 6.0
// The agent and what it shares. Builds with Swift 6.0 (Debian trixie's swiftlang, the
// ARM64 build) and 6.3. No Swift dependencies: see docs/dependencies.md for the figures.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A system library plus the thin C shim in front of it (Sources/C/<name>). The shim
/// links the library itself: Swift never imports the system module, so its module map's
/// `link` is not applied, and libi2c and libsensors ship no pkg-config file.
func cLibrary(_ system: String, shim: String, link: String, pkgConfig: String?, apt: String) -> [Target] {
    [
        .systemLibrary(name: system, path: "Sources/C/\(system)", pkgConfig: pkgConfig,
                       providers: [.apt([apt])]),
        .target(name: shim, dependencies: [.target(name: system)], path: "Sources/C/\(shim)",
                linkerSettings: [.linkedLibrary(link)]),
    ]
}

// Built step by step: one long `+` chain of array expressions makes Swift 6.0's type
// checker take minutes over this manifest.
var systemTargets: [Target] = [.target(name: "CLinux", path: "Sources/C/CLinux")]
systemTargets += cLibrary("CLibi2c", shim: "CI2C", link: "i2c", pkgConfig: nil, apt: "libi2c-dev")
systemTargets += cLibrary("CLibgpiod", shim: "CGpiod", link: "gpiod", pkgConfig: "libgpiod", apt: "libgpiod-dev")
systemTargets += cLibrary("CLibsensors", shim: "CSensors", link: "sensors", pkgConfig: nil, apt: "libsensors-dev")
systemTargets += cLibrary("CLibyaml", shim: "CYAML", link: "yaml", pkgConfig: "yaml-0.1", apt: "libyaml-dev")
systemTargets += cLibrary("CLibmosquitto", shim: "CMosquitto", link: "mosquitto", pkgConfig: "libmosquitto", apt: "libmosquitto-dev")
systemTargets += cLibrary("CLibcrypto", shim: "CCrypto", link: "crypto", pkgConfig: "libcrypto", apt: "libssl-dev")
systemTargets += cLibrary("CLibsystemd", shim: "CSystemd", link: "systemd", pkgConfig: "libsystemd", apt: "libsystemd-dev")

let agentTargets: [Target] = [
            // Hardware access: the only Swift module that calls the hardware C shims.
            .target(name: "NexusHardware", dependencies: ["CI2C", "CGpiod", "CSensors", "CLinux", "CSystemd"],
                    path: "Sources/Hardware/NexusHardware", swiftSettings: swiftSettings),
            // Simulated devices behind the same protocols (the `sim` board, driver tests).
            .target(name: "NexusSimulation", dependencies: ["NexusHardware"],
                    path: "Sources/Hardware/NexusSimulation", swiftSettings: swiftSettings),
            // YAML documents (board and config files) through libyaml.
            .target(name: "NexusYAML", dependencies: ["CYAML"],
                    path: "Sources/Config/NexusYAML", swiftSettings: swiftSettings),
            // Ed25519 through libcrypto.
            .target(name: "NexusCrypto", dependencies: ["CCrypto"],
                    path: "Sources/Protocol/NexusCrypto", swiftSettings: swiftSettings),
            // The feed's topics and payloads, JSON in and out, the signed-command envelope.
            .target(name: "NexusWire", dependencies: ["NexusCrypto"], path: "Sources/Protocol/NexusWire", swiftSettings: swiftSettings),
            // MQTT through libmosquitto, driven by the agent's poll loop.
            .target(name: "NexusMQTT", dependencies: ["CMosquitto", "NexusHardware"],
                    path: "Sources/Protocol/NexusMQTT", swiftSettings: swiftSettings),
            .target(name: "NexusDrivers", dependencies: ["NexusHardware"],
                    path: "Sources/Drivers/NexusDrivers", swiftSettings: swiftSettings),
            .target(name: "NexusBoards",
                    dependencies: ["NexusDrivers", "NexusSimulation", "NexusYAML", "NexusHardware"],
                    path: "Sources/Config/NexusBoards", swiftSettings: swiftSettings),
            .target(name: "NexusAgent",
                    dependencies: ["NexusBoards", "NexusDrivers", "NexusWire", "NexusMQTT", "NexusHardware"],
                    path: "Sources/Agent/NexusAgent", swiftSettings: swiftSettings),
            .executableTarget(name: "nexus-agent",
                              dependencies: ["NexusAgent", "NexusBoards", "NexusDrivers", "NexusWire", "NexusMQTT", "NexusCrypto", "NexusHardware"],
                              path: "Sources/Executables/nexus-agent", swiftSettings: swiftSettings),

            // libFuzzer target for the untrusted-input parsers (tools/fuzz); a replayer otherwise.
            .executableTarget(name: "nexus-fuzz", dependencies: ["NexusWire", "NexusCrypto", "NexusBoards"],
                              path: "Sources/Executables/nexus-fuzz", swiftSettings: swiftSettings),

            .testTarget(name: "NexusHardwareTests", dependencies: ["NexusHardware"],
                        path: "Tests/NexusHardwareTests", swiftSettings: swiftSettings),
            .testTarget(name: "NexusDriversTests", dependencies: ["NexusDrivers", "NexusSimulation", "NexusHardware"],
                        path: "Tests/NexusDriversTests", swiftSettings: swiftSettings),
            .testTarget(name: "NexusBoardsTests", dependencies: ["NexusBoards", "NexusYAML", "NexusDrivers", "NexusHardware"],
                        path: "Tests/NexusBoardsTests", swiftSettings: swiftSettings),
            .testTarget(name: "NexusMQTTTests", dependencies: ["NexusMQTT", "NexusHardware"],
                        path: "Tests/NexusMQTTTests", swiftSettings: swiftSettings),
            .testTarget(name: "NexusWireTests", dependencies: ["NexusWire", "NexusCrypto"],
                        path: "Tests/NexusWireTests", swiftSettings: swiftSettings),
            .testTarget(name: "NexusAgentTests", dependencies: ["NexusAgent", "NexusBoards", "NexusDrivers", "NexusSimulation", "NexusHardware"],
                        path: "Tests/NexusAgentTests", swiftSettings: swiftSettings),
            // Runs the built nexus-agent binary and libsensors against fixture hwmon trees.
            .testTarget(name: "IntegrationTests", dependencies: ["NexusHardware"],
                        path: "Tests/IntegrationTests", swiftSettings: swiftSettings),
]

let package = Package(
    name: "NexusGrid",
    products: [
        .executable(name: "nexus-agent", targets: ["nexus-agent"]),
        // What the coordinator (Coordinator/, its own package) shares with the agent.
        .library(name: "NexusWire", targets: ["NexusWire"]),
        .library(name: "NexusCrypto", targets: ["NexusCrypto"]),
        .library(name: "NexusMQTT", targets: ["NexusMQTT"]),
        .library(name: "NexusBoards", targets: ["NexusBoards"]),
        .library(name: "NexusHardware", targets: ["NexusHardware"]),
        .library(name: "NexusYAML", targets: ["NexusYAML"]),
    ],
    targets: systemTargets + agentTargets,
    swiftLanguageModes: [.v6]
)
