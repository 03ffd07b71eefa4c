internal import AsyncHTTPClient
internal import NIOCore
public import NexusWire
public import NexusCrypto

/// What can go wrong talking to the coordinator, each with the exit code a script sees
/// (docs/nexusctl.md).
public enum ControlError: Error, CustomStringConvertible, Sendable {
    /// Nothing answered at the address (exit 2).
    case unreachable(url: String, detail: String)
    /// The coordinator answered with an error (exit 3): a bad signature, an unknown
    /// node, a sleep the safety rules refuse.
    case refused(status: Int, message: String)
    /// The agent refused or failed the command (exit 4).
    case failed(String)
    /// No outcome within the time given (exit 5).
    case timedOut(String)
    /// Something local: the key file, an answer that is not JSON (exit 1).
    case local(String)

    public var exitCode: Int32 {
        switch self {
        case .unreachable: 2
        case .refused: 3
        case .failed: 4
        case .timedOut: 5
        case .local: 1
        }
    }

    public var description: String {
        switch self {
        case .unreachable(let url, let detail): "cannot reach the coordinator at \(url): \(detail)"
        case .refused(let status, let message): "the coordinator refused (HTTP \(status)): \(message)"
        case .failed(let m): m
        case .timedOut(let m): m
        case .local(let m): m
        }
    }
}

/// The coordinator's JSON API, for nexusctl.
public struct CoordinatorClient: Sendable {
    public let baseURL: String
    public let timeoutS: Int64

    public init(baseURL: String, timeoutS: Int64 = 10) {
        var u = baseURL
        while u.hasSuffix("/") { u.removeLast() }
        self.baseURL = u
        self.timeoutS = timeoutS
    }

    public func get(_ path: String) async throws(ControlError) -> JSONValue {
        try await request("GET", path, body: nil).1
    }

    /// POSTs `body`; the answer's status and JSON.
    public func post(_ path: String, body: [UInt8]) async throws(ControlError) -> (Int, JSONValue) {
        try await request("POST", path, body: body)
    }

    func request(_ method: String, _ path: String, body: [UInt8]?) async throws(ControlError) -> (Int, JSONValue) {
        var req = HTTPClientRequest(url: baseURL + path)
        req.method = .init(rawValue: method)
        if let body {
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await HTTPClient.shared.execute(req, timeout: .seconds(timeoutS))
            status = Int(response.status.code)
            bytes = Array(buffer: try await response.body.collect(upTo: 8 * 1024 * 1024))
        } catch {
            throw .unreachable(url: baseURL, detail: "\(error)")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes, maxBytes: 8 * 1024 * 1024, maxDepth: 32) } catch {
            throw .local("\(method) \(path): the answer is not JSON (HTTP \(status)); is \(baseURL) a NexusGrid coordinator?")
        }
        if body == nil, status != 200 {
            throw .refused(status: status, message: json["error"]?.stringValue ?? "\(method) \(path)")
        }
        return (status, json)
    }

    /// Signs `verb` for `node` with the coordinator's key and hands it to the coordinator.
    /// Returns the coordinator's answer (the command's `id`, and for wake the route).
    public func command(_ verb: String, node: String, payload: [(String, JSONValue)], key: Ed25519.PrivateKey,
                        keyName: String, nowMs: Int64) async throws(ControlError) -> JSONValue {
        guard let c = SignedCommand.issue(node: node, verb: verb, payload: payload, key: keyName, privateKey: key, timestampMs: nowMs) else {
            throw .local("could not sign the command (no randomness?)")
        }
        let (status, answer) = try await post("/v1/nodes/\(node)/commands/\(verb)", body: Array(c.json.serialized().utf8))
        guard status == 202 else {
            throw .refused(status: status, message: answer["error"]?.stringValue ?? "HTTP \(status)")
        }
        return answer
    }
}
