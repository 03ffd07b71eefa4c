/// `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883).
public struct BrokerURL: Equatable, Sendable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int

    public init(tls: Bool, host: String, port: Int) {
        self.tls = tls
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        let rest: Substring
        if text.hasPrefix("mqtt://") {
            tls = false
            rest = text.dropFirst(7)
        } else if text.hasPrefix("mqtts://") {
            tls = true
            rest = text.dropFirst(8)
        } else {
            return nil
        }
        var hostPart = rest
        if hostPart.hasSuffix("/") { hostPart = hostPart.dropLast() }
        var port = tls ? 8883 : 1883
        if hostPart.hasPrefix("[") {
            // [v6]:port
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = hostPart.lastIndex(of: ":") {
            host = String(hostPart[..<colon])
            guard let p = Int(hostPart[hostPart.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(hostPart)
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"), (1...65535).contains(port) else { return nil }
        self.port = port
    }

    public var description: String {
        (tls ? "mqtts://" : "mqtt://") + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }
}
