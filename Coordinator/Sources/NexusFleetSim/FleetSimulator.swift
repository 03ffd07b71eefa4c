public import NexusPolicy
internal import NexusFleet
internal import NexusBoards

/// One node of a simulated fleet: its power figures (from its board file), how much
/// work it does at full load, and how long it takes to boot.
public struct SimNode: Sendable, Equatable {
    public var name: String
    public var board: String
    public var idleWatts: Double
    public var maxWatts: Double
    public var haltedWatts: Double
    /// Work units at 100 % utilisation (a Pi 4 is 1).
    public var capacity: Double
    public var bootSeconds: Double
    public var wakeMethod: String

    public init(name: String, board: String, idleWatts: Double, maxWatts: Double, haltedWatts: Double,
                capacity: Double, bootSeconds: Double, wakeMethod: String) {
        self.name = name
        self.board = board
        self.idleWatts = idleWatts
        self.maxWatts = maxWatts
        self.haltedWatts = haltedWatts
        self.capacity = capacity
        self.bootSeconds = bootSeconds
        self.wakeMethod = wakeMethod
    }

    /// Boot time by board, from power-on to a Ready node (an assumption, printed with the
    /// results); capacity comes from the board file.
    public static let bootSeconds: [String: Double] = [
        "pi3bplus": 50, "pi4b": 45, "cm4": 45, "pi5": 40, "sim": 45, "sim-pc": 60,
    ]

    /// A node of a known board, with the board file's power figures.
    public static func board(_ board: String, name: String) -> SimNode? {
        guard let b = try? BoardCatalog.load(board) else { return nil }
        return SimNode(name: name, board: board, idleWatts: b.power.idleWatts, maxWatts: b.power.maxWatts,
                       haltedWatts: b.power.haltedWatts, capacity: b.power.capacity, bootSeconds: bootSeconds[board] ?? 60,
                       wakeMethod: b.power.wake.contains(.wol) ? "wol" : "poe-relay")
    }

    func watts(utilisation u: Double) -> Double { idleWatts + (maxWatts - idleWatts) * u }
    /// Watts per work unit added: what the energy-aware placement orders nodes by.
    var marginalWattsPerUnit: Double { (maxWatts - idleWatts) / capacity }
}

/// Watt-hours from power held over intervals (each step's power is constant over it).
public struct EnergyLedger: Sendable, Equatable {
    public private(set) var wattHours = 0.0
    public init() {}
    public mutating func add(watts: Double, seconds: Double) { wattHours += watts * seconds / 3600 }
}

/// How the fleet is run in a simulation.
public enum Strategy: String, Sendable, CaseIterable {
    /// Every node awake all day; the scheduler spreads work (Kubernetes' default).
    case alwaysOn = "always-on"
    /// The same policy code ranking by utilisation only, as cluster-autoscaler does, with
    /// the default spreading placement.
    case utilisationOnly = "utilisation-only"
    /// NexusGrid: the energy ranking, and placement by marginal watts per unit of work
    /// (the extender's prioritize), which leaves the expensive nodes idle to be slept.
    case nexusgrid
}

public struct SimResult: Sendable {
    public var strategy: Strategy
    public var energyWh: Double
    public var perNodeWh: [String: Double]
    /// Demand that found no capacity, integrated (work units × hours).
    public var unmetUnitHours: Double
    /// Time with some demand unmet, in total and the longest stretch (s).
    public var shortSeconds: Double
    public var longestShortSeconds: Double
    /// Sleeps plus wakes, per node.
    public var transitions: [String: Int]
    public var decisions: [Decision]
}

/// Replays a load curve on a fleet through the coordinator's own PowerPolicy, step by
/// step: placement, power per node (awake by its load line, draining at idle, booting at
/// full power, halted at its halted watts), the policy's decisions taking effect.
public struct FleetSimulator: Sendable {
    public var nodes: [SimNode]
    /// Demand in work units, one value per step.
    public var demand: [Double]
    public var stepSeconds: Int
    public var settings: PolicySettings
    /// Moving pods off a node before it sleeps.
    public var drainSeconds = 30.0
    /// Work units per pod, to turn unmet demand into a pending-pod count.
    public var podSize = 0.25
    /// The energy-aware placement fills each node to this before using the next.
    public var packTo = 0.8

    public init(nodes: [SimNode], demand: [Double], stepSeconds: Int, settings: PolicySettings) {
        self.nodes = nodes
        self.demand = demand
        self.stepSeconds = stepSeconds
        self.settings = settings
    }

    enum Phase: Equatable {
        case awake
        case draining(untilS: Double)
        case sleeping
        case booting(untilS: Double)
    }

    /// Work per awake node: spread in proportion to capacity, or packed onto the cheapest
    /// marginal watts first. Returns utilisations and the demand left unserved.
    func place(_ demand: Double, on awake: [SimNode], pack: Bool) -> ([String: Double], Double) {
        let capacity = awake.reduce(0) { $0 + $1.capacity }
        var u: [String: Double] = [:]
        guard capacity > 0 else { return (u, demand) }
        if !pack {
            let share = min(1, demand / capacity)
            for n in awake { u[n.name] = share }
            return (u, max(0, demand - capacity))
        }
        var left = demand
        let order = awake.sorted { ($0.marginalWattsPerUnit, $0.name) < ($1.marginalWattsPerUnit, $1.name) }
        for limit in [packTo, 1.0] {
            for n in order where left > 0 {
                let have = (u[n.name] ?? 0) * n.capacity
                let add = min(left, max(0, limit * n.capacity - have))
                u[n.name] = (have + add) / n.capacity
                left -= add
            }
        }
        for n in awake where u[n.name] == nil { u[n.name] = 0 }
        return (u, max(0, left))
    }

    public func run(_ strategy: Strategy) -> SimResult {
        var s = settings
        s.mode = strategy == .alwaysOn ? .off : .on
        s.ranking = strategy == .nexusgrid ? .energy : .utilisation
        var policy = PowerPolicy(settings: s)
        var phase = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, Phase.awake) })
        var ledgers = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, EnergyLedger()) })
        var transitions = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, 0) })
        var unmetUnitSeconds = 0.0, short = 0.0, streak = 0.0, longest = 0.0
        var decisions: [Decision] = []
        let dt = Double(stepSeconds)
        let pack = strategy == .nexusgrid
        let byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })

        for (i, d) in demand.enumerated() {
            let t = Double(i) * dt
            for (name, p) in phase {
                switch p {
                case .draining(let until) where until <= t: phase[name] = .sleeping
                case .booting(let until) where until <= t: phase[name] = .awake
                default: break
                }
            }
            func awake() -> [SimNode] { nodes.filter { phase[$0.name] == .awake } }
            if strategy != .alwaysOn {
                let (u, unmet) = place(d, on: awake(), pack: pack)
                let records = self.records(phase: phase, utilisation: u, nowMs: Int64(t * 1000))
                let pending = unmet > 1e-9 ? Int((unmet / podSize).rounded(.up)) : 0
                let new = policy.evaluate(records, nowMs: Int64(t * 1000), feedFresh: true, cluster: ClusterFacts(pendingPods: pending))
                for dec in new {
                    guard let n = byName[dec.node] else { continue }
                    switch dec.action {
                    case .sleep:
                        phase[n.name] = .draining(untilS: t + drainSeconds)
                        transitions[n.name, default: 0] += 1
                    case .wake where phase[n.name] == .sleeping:
                        phase[n.name] = .booting(untilS: t + n.bootSeconds)
                        transitions[n.name, default: 0] += 1
                    default: break
                    }
                }
                decisions += new
            }
            let (u, unmet) = place(d, on: awake(), pack: pack)
            for n in nodes {
                let w: Double
                switch phase[n.name] ?? .awake {
                case .awake: w = n.watts(utilisation: u[n.name] ?? 0)
                case .draining: w = n.idleWatts
                case .sleeping: w = n.haltedWatts
                case .booting: w = n.maxWatts
                }
                ledgers[n.name]?.add(watts: w, seconds: dt)
            }
            if unmet > 1e-9 {
                unmetUnitSeconds += unmet * dt
                short += dt
                streak += dt
                longest = max(longest, streak)
            } else {
                streak = 0
            }
        }
        let perNode = ledgers.mapValues(\.wattHours)
        return SimResult(strategy: strategy, energyWh: perNode.values.reduce(0, +), perNodeWh: perNode,
                         unmetUnitHours: unmetUnitSeconds / 3600, shortSeconds: short, longestShortSeconds: longest,
                         transitions: transitions, decisions: decisions)
    }

    /// The fleet as the coordinator would see it from the feed: every awake node can wake
    /// every other (as on a rack with WoL and PoE), models at the board files' figures.
    func records(phase: [String: Phase], utilisation: [String: Double], nowMs: Int64) -> [String: NodeRecord] {
        var out: [String: NodeRecord] = [:]
        for n in nodes {
            var r = NodeRecord(name: n.name)
            r.board = n.board
            r.lastSeenMs = nowMs
            r.wakeMethod = n.wakeMethod
            r.energy = EnergyModel(priorIdleWatts: n.idleWatts, priorMaxWatts: n.maxWatts)
            r.capacity = n.capacity
            switch phase[n.name] ?? .awake {
            case .awake:
                r.state = "awake"
                r.online = true
                r.utilisation = utilisation[n.name] ?? 0
                r.watts = n.watts(utilisation: r.utilisation ?? 0)
                for other in nodes where other.name != n.name { r.wakes[other.name] = other.wakeMethod }
            case .draining:
                r.state = "draining"
                r.online = true
            case .sleeping, .booting:
                r.state = "sleeping"
            }
            out[n.name] = r
        }
        return out
    }
}

/// A working day on a small office or homelab cluster, as a fraction of the fleet's
/// capacity: quiet nights with a backup at 02:00, a morning ramp, CI bursts, a lunch
/// dip, an evening tail; smooth noise from a seeded generator, so a run is repeatable.
public enum LoadCurve {
    public static func officeDay(capacity: Double, stepSeconds: Int, hours: Double = 24, seed: UInt64 = 1) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let steps = Int(hours * 3600) / stepSeconds
        var noise = 0.0
        return (0..<steps).map { i in
            let h = (Double(i * stepSeconds) / 3600).truncatingRemainder(dividingBy: 24)
            var f: Double
            switch h {
            case ..<6: f = 0.06
            case ..<8: f = 0.06 + (h - 6) / 2 * 0.29
            case ..<12: f = 0.38
            case ..<13: f = 0.24
            case ..<17: f = 0.42
            case ..<20: f = 0.42 - (h - 17) / 3 * 0.32
            default: f = 0.08
            }
            if (2.0..<2.5).contains(h) { f += 0.25 }              // nightly backup
            for start in [10.0, 14.5, 16.0] where (start..<start + 0.25).contains(h) { f += 0.25 } // CI bursts
            noise = 0.97 * noise + 0.03 * (rng.nextUnit() * 2 - 1) * 0.6
            return max(0, min(1, f + noise)) * capacity
        }
    }
}

/// A small, fast, seeded generator (SplitMix64): repeatable runs, no Foundation.
public struct SplitMix64: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
