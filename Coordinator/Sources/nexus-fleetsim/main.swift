import ArgumentParser
import NexusFleetSim
import NexusPolicy

/// Prints the fleet simulator's comparison (docs/coordinator.md, "Evaluation").
@main
struct FleetSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus-fleetsim",
        abstract: "Replays a day of load on a simulated mixed fleet through the coordinator's power policy.",
        discussion: """
            Prints, side by side, the energy used by an always-on fleet, by a utilisation-only policy like \
            cluster-autoscaler's (no power model, spreading placement) and by NexusGrid's (energy ranking and \
            packing by marginal watts), the time demand waited for capacity and the transitions per node. \
            Power figures come from the board files; capacities and boot times are the assumptions printed \
            with the results.
            """)

    @Option(help: "The fleet: BOARD:COUNT,... (boards: pi4b, pi5, cm4, pi3bplus, sim-pc). The first node is the control plane (never slept).")
    var fleet = "pi5:4,pi4b:4,sim-pc:2"

    @Option(help: "Hours to simulate.")
    var hours: Double = 24

    @Option(help: "Seconds per step (the policy runs every step).")
    var step: Int = 10

    @Option(help: "Seed of the load curve's noise.")
    var seed: UInt64 = 1

    @Option(help: "Never fewer awake nodes than this.")
    var minAwake: Int = 2

    @Option(help: "Also print every decision of this strategy (always-on, utilisation-only, nexusgrid), with its time and reason.")
    var decisions: String?

    func run() throws {
        var nodes: [SimNode] = []
        for item in fleet.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let count = Int(parts[1]), count > 0 else {
                throw ValidationError("--fleet '\(item)' is not BOARD:COUNT")
            }
            for i in 1...count {
                guard let n = SimNode.board(String(parts[0]), name: "\(parts[0])-\(i)") else {
                    throw ValidationError("--fleet: no board '\(parts[0])' (built in: \(SimNode.bootSeconds.keys.sorted().joined(separator: ", ")), or a board file path)")
                }
                nodes.append(n)
            }
        }
        guard (1...3600).contains(step), hours > 0, hours <= 24 * 14 else { throw ValidationError("--step 1-3600 s, --hours up to two weeks") }
        let capacity = nodes.reduce(0) { $0 + $1.capacity }
        var settings = PolicySettings()
        settings.minAwake = minAwake
        settings.protected = [nodes[0].name]
        let sim = FleetSimulator(nodes: nodes, demand: LoadCurve.officeDay(capacity: capacity, stepSeconds: step, hours: hours, seed: seed),
                                 stepSeconds: step, settings: settings)
        let results = Strategy.allCases.map { sim.run($0) }
        print(FleetReport.render(sim, results, hours: hours, seed: seed))
        if let decisions {
            guard let r = results.first(where: { $0.strategy.rawValue == decisions }) else {
                throw ValidationError("--decisions: no strategy '\(decisions)'")
            }
            for d in r.decisions {
                let s = d.atMs / 1000
                let clock = "\(s / 3600 < 10 ? "0" : "")\(s / 3600):\(s / 60 % 60 < 10 ? "0" : "")\(s / 60 % 60):\(s % 60 < 10 ? "0" : "")\(s % 60)"
                print("\(clock) \(d.action.rawValue) \(d.node): \(d.reason)")
            }
        }
    }
}
