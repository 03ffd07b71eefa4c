public import NexusWire

/// Plain-text tables for a terminal: columns padded to their widest cell, numbers to the
/// right. Values from the feed are shown as text only (control characters replaced), so
/// a node's name cannot move the cursor or clear the screen.
public enum Tables {
    public static func render(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let all = [header] + rows.map { $0.map(printable) }
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            header.indices.map { i in
                let cell = i < row.count ? row[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingSuffixSpaces()
        }.joined(separator: "\n") + "\n"
    }

    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }

    static func number(_ v: JSONValue?, _ places: Int, _ unit: String = "") -> String {
        guard let d = v?.doubleValue else { return "-" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let r = (d * scale).rounded() / scale
        var text = "\(r)"
        if places == 0 { text = "\(Int(r))" } else {
            // Always `places` decimals: 3.5 -> 3.50.
            let parts = text.split(separator: ".", maxSplits: 1)
            let frac = parts.count > 1 ? String(parts[1]) : ""
            text = String(parts[0]) + "." + (frac + String(repeating: "0", count: places)).prefix(places)
        }
        return text + unit
    }

    static func age(_ seconds: Double?) -> String {
        guard let s = seconds else { return "-" }
        if s < 90 { return "\(Int(s.rounded())) s ago" }
        if s < 5400 { return "\(Int((s / 60).rounded())) min ago" }
        return "\(Int((s / 3600).rounded())) h ago"
    }

    /// `nexusctl status`: one row per node from /v1/nodes.
    public static func status(_ answer: JSONValue) -> String {
        let nodes = answer["nodes"]?.arrayValue ?? []
        let rows: [[String]] = nodes.map { n in
            let wake = n["wake"]
            var method = wake?["method"]?.stringValue ?? "none"
            if let via = wake?["via"]?.stringValue { method += " via \(via)" }
            if wake?["armed"]?.boolValue == false { method += " (not armed)" }
            let state = n["state"]?.stringValue ?? "?"
            // A node that is off has no current reading: its last one would mislead.
            guard !["sleeping", "offline"].contains(state) else {
                return [n["name"]?.stringValue ?? "?", state, "-", "-", "-", method, age(n["age_s"]?.doubleValue)]
            }
            let load = n["utilisation"]?.doubleValue.map { "\(Int(($0 * 100).rounded())) %" } ?? "-"
            return [n["name"]?.stringValue ?? "?", state, number(n["watts"], 2, " W"),
                    number(n["max_celsius"], 1), load, method, age(n["age_s"]?.doubleValue)]
        }
        var out = render(["NODE", "STATE", "WATTS", "°C", "LOAD", "WAKE", "LAST SEEN"], rows, rightAligned: [2, 3, 4, 6])
        if answer["feed"]?["connected"]?.boolValue == false { out += "(the coordinator's feed is disconnected: values may be old)\n" }
        return out
    }

    /// `nexusctl hints`: the scheduler's view from /v1/hints.
    public static func hints(_ answer: JSONValue) -> String {
        let rows: [[String]] = (answer["hints"]?.arrayValue ?? []).map { h in
            [h["node"]?.stringValue ?? "?", h["schedulable"]?.boolValue == true ? "yes" : "no",
             number(h["score"], 0), number(h["marginal_watts_per_work"], 2), h["reason"]?.stringValue ?? ""]
        }
        return render(["NODE", "SCHEDULABLE", "SCORE", "W PER WORK", "WHY NOT"], rows, rightAligned: [2, 3])
    }

    /// The latest decisions from /v1/decisions, newest first.
    public static func decisions(_ answer: JSONValue, limit: Int) -> String {
        var out = "policy \(answer["mode"]?.stringValue ?? "?")"
        if let h = answer["holding"]?.stringValue { out += ": \(printable(h))" }
        out += "\n"
        for d in (answer["decisions"]?.arrayValue ?? []).prefix(limit) {
            let acted = d["acted"]?.boolValue == true ? "" : " (not acted on)"
            out += "  \(clock(d["at_ms"]?.intValue)) \(d["action"]?.stringValue ?? "?") \(printable(d["node"]?.stringValue ?? "?"))\(acted): "
                + printable(d["reason"]?.stringValue ?? "") + "\n"
        }
        return out
    }

    /// HH:MM:SS (UTC) of a wall-clock millisecond time.
    public static func clock(_ ms: Int64?) -> String {
        guard let ms else { return "--:--:--" }
        let s = (ms / 1000) % 86_400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
    }
}

extension String {
    func trimmingSuffixSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
