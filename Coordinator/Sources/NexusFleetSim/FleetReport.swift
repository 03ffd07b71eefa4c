/// The simulator's comparison as text.
public enum FleetReport {
    static func fixed(_ v: Double, _ places: Int) -> String {
        var p = 1.0
        for _ in 0..<places { p *= 10 }
        let r = (v * p).rounded() / p
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < places { s += String(repeating: "0", count: places - decimals) }
        } else if places > 0 {
            s += "." + String(repeating: "0", count: places)
        }
        return s
    }

    static func pad(_ s: String, _ width: Int, right: Bool = true) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    public static func render(_ sim: FleetSimulator, _ results: [SimResult], hours: Double, seed: UInt64) -> String {
        let capacity = sim.nodes.reduce(0) { $0 + $1.capacity }
        var boards: [(String, Int)] = []
        for n in sim.nodes {
            if let i = boards.firstIndex(where: { $0.0 == n.board }) { boards[i].1 += 1 } else { boards.append((n.board, 1)) }
        }
        let mean = sim.demand.reduce(0, +) / Double(max(sim.demand.count, 1)) / capacity
        var out = "NexusGrid fleet simulation: \(fixed(hours, 1)) h, \(sim.nodes.count) nodes ("
            + boards.map { "\($0.1)× \($0.0)" }.joined(separator: ", ") + "), step \(sim.stepSeconds) s, seed \(seed)\n"
        out += "Load: office day, mean \(Int((mean * 100).rounded())) % of capacity (\(fixed(capacity, 1)) work units; a Pi 4 is 1)\n"
        out += "Assumed: capacity and boot time per board "
            + Set(sim.nodes.map(\.board)).sorted().map { b in
                let n = sim.nodes.first { $0.board == b }!
                return "\(b) \(fixed(n.capacity, 1))/\(Int(n.bootSeconds)) s"
            }.joined(separator: ", ")
            + "; booting at max watts, draining \(Int(sim.drainSeconds)) s at idle; \(sim.nodes[0].name) is the control plane\n\n"
        let base = results.first { $0.strategy == .alwaysOn }?.energyWh
        out += pad("strategy", 18, right: false) + pad("energy kWh", 11) + pad("saved", 8) + pad("short of capacity", 19)
            + pad("longest wait", 14) + pad("unmet unit·h", 14) + pad("transitions", 13) + "\n"
        for r in results {
            let saved = base.map { $0 > 0 ? fixed((1 - r.energyWh / $0) * 100, 1) + " %" : "-" } ?? "-"
            out += pad(r.strategy.rawValue, 18, right: false) + pad(fixed(r.energyWh / 1000, 3), 11) + pad(saved, 8)
                + pad("\(Int(r.shortSeconds / 60)) min", 19) + pad("\(Int(r.longestShortSeconds)) s", 14)
                + pad(fixed(r.unmetUnitHours, 3), 14) + pad("\(r.transitions.values.reduce(0, +))", 13) + "\n"
        }
        out += "\ntransitions per node (sleeps + wakes):\n"
        for r in results where r.strategy != .alwaysOn {
            out += "  " + pad(r.strategy.rawValue, 17, right: false)
                + sim.nodes.map { "\($0.name) \(r.transitions[$0.name] ?? 0)" }.joined(separator: ", ") + "\n"
        }
        return out
    }
}
