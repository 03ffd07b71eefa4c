public import NexusCrypto

/// The signed-command envelope (docs/commands.md). The signature covers, as UTF-8:
///
///     nexusgrid-cmd-v1 \n <topic> \n <ts> \n <nonce> \n <payload>
///
/// where `payload` is the command's JSON text exactly as carried in the envelope (a
/// string), so that no canonical JSON form is needed on either side.
public struct SignedCommand: Equatable, Sendable {
    public var key: String
    /// Milliseconds since the Unix epoch, when the command was signed.
    public var timestampMs: Int64
    /// 16 random bytes, hex: with the timestamp, what makes a replay detectable.
    public var nonce: String
    public var payload: String
    public var signature: [UInt8]

    public static func signedBytes(topic: String, timestampMs: Int64, nonce: String, payload: String) -> [UInt8] {
        Array("nexusgrid-cmd-v1\n\(topic)\n\(timestampMs)\n\(nonce)\n\(payload)".utf8)
    }

    public static func sign(topic: String, payload: String, key name: String, privateKey: Ed25519.PrivateKey,
                            timestampMs: Int64, nonce: String) -> SignedCommand? {
        guard let sig = privateKey.sign(signedBytes(topic: topic, timestampMs: timestampMs, nonce: nonce, payload: payload)) else {
            return nil
        }
        return SignedCommand(key: name, timestampMs: timestampMs, nonce: nonce, payload: payload, signature: sig)
    }

    /// A new command for `node`: a fresh nonce, an `id` made from it unless the payload
    /// has one, signed now. What `nexus-agent sign` and the coordinator both send.
    public static func issue(node: String, verb: String, payload: [(String, JSONValue)], key name: String,
                             privateKey: Ed25519.PrivateKey, timestampMs: Int64) -> SignedCommand? {
        guard let nonceBytes = Ed25519.randomBytes(16) else { return nil }
        let nonce = nonceBytes.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
        var members = payload
        if !members.contains(where: { $0.0 == "id" }) {
            members.insert(("id", .string("cmd-" + String(nonce.prefix(12)))), at: 0)
        }
        return sign(topic: FeedTopic.command(node, verb), payload: JSONValue.object(members).serialized(), key: name,
                    privateKey: privateKey, timestampMs: timestampMs, nonce: nonce)
    }

    /// The command's own id, from its payload.
    public var id: String? {
        (try? JSONParser.parse(Array(payload.utf8)))?["id"]?.stringValue
    }

    public var json: JSONValue {
        .object([("v", .int(1)), ("key", .string(key)), ("ts", .int(timestampMs)), ("nonce", .string(nonce)),
                 ("payload", .string(payload)), ("sig", .string(Base64.encode(signature)))])
    }

    public static func parse(_ bytes: [UInt8]) throws(CommandRejection) -> SignedCommand {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes, maxBytes: 16 * 1024) } catch { throw .malformed(error.description) }
        guard v["v"]?.intValue == 1 else { throw .malformed("not a version 1 envelope (\"v\": 1)") }
        guard let key = v["key"]?.stringValue, !key.isEmpty else { throw .unsigned("no key name") }
        guard let sigText = v["sig"]?.stringValue else { throw .unsigned("no signature") }
        guard let sig = Base64.decode(sigText), sig.count == 64 else { throw .malformed("signature is not 64 bytes of base64") }
        guard let ts = v["ts"]?.intValue else { throw .malformed("no ts") }
        guard let nonce = v["nonce"]?.stringValue, nonce.utf8.count == 32,
              nonce.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw .malformed("nonce must be 32 lower-case hex digits")
        }
        guard let payload = v["payload"]?.stringValue else { throw .malformed("no payload") }
        return SignedCommand(key: key, timestampMs: ts, nonce: nonce, payload: payload, signature: sig)
    }
}

public enum CommandRejection: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unsigned(String)
    case unknownKey(String)
    case badSignature
    case stale(skewMs: Int64)
    case replayed(nonce: String)
    case badCommand(String)

    public var reason: String {
        switch self {
        case .malformed: "malformed"
        case .unsigned: "unsigned"
        case .unknownKey: "unknown-key"
        case .badSignature: "bad-signature"
        case .stale: "stale"
        case .replayed: "replayed"
        case .badCommand: "bad-command"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let m): "malformed command: \(m)"
        case .unsigned(let m): "unsigned command: \(m)"
        case .unknownKey(let k): "signed with unknown key '\(k)'"
        case .badSignature: "signature does not verify"
        case .stale(let s): "timestamp \(s / 1000) s away from this node's clock"
        case .replayed(let n): "nonce \(n) already used"
        case .badCommand(let m): "bad command: \(m)"
        }
    }
}

/// Verifies envelopes against the configured public keys: signature, a timestamp within
/// the allowed skew, and a nonce not seen within that window. Nonces are remembered
/// only as long as their timestamps are acceptable, so memory stays bounded.
public struct CommandVerifier: Sendable {
    public var keys: [String: Ed25519.PublicKey]
    public var maxSkewMs: Int64
    public var maxNonces: Int
    private var seen: [String: Int64] = [:]

    public init(keys: [String: Ed25519.PublicKey], maxSkewMs: Int64 = 30_000, maxNonces: Int = 10_000) {
        self.keys = keys
        self.maxSkewMs = maxSkewMs
        self.maxNonces = maxNonces
    }

    /// The command's payload, parsed, once everything checks out.
    public mutating func verify(topic: String, message: [UInt8], nowMs: Int64) throws(CommandRejection) -> (SignedCommand, JSONValue) {
        let c = try SignedCommand.parse(message)
        guard let key = keys[c.key] else { throw .unknownKey(c.key) }
        guard key.verify(c.signature, for: SignedCommand.signedBytes(topic: topic, timestampMs: c.timestampMs,
                                                                      nonce: c.nonce, payload: c.payload)) else {
            throw .badSignature
        }
        let skew = c.timestampMs - nowMs
        guard abs(skew) <= maxSkewMs else { throw .stale(skewMs: skew) }
        seen = seen.filter { abs($0.value - nowMs) <= maxSkewMs }
        guard seen[c.nonce] == nil else { throw .replayed(nonce: c.nonce) }
        guard seen.count < maxNonces else { throw .malformed("too many commands within the skew window") }
        seen[c.nonce] = c.timestampMs
        let payload: JSONValue
        do { payload = try JSONParser.parse(Array(c.payload.utf8), maxBytes: 8 * 1024) } catch { throw .badCommand(error.description) }
        guard case .object = payload else { throw .badCommand("payload must be a JSON object") }
        return (c, payload)
    }
}
