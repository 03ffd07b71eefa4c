import Testing
import NexusCrypto
@testable import NexusWire

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}

@Suite struct Ed25519Tests {
    // RFC 8032 §7.1, TESTs 1-3: secret key, public key, message, signature.
    static let vectors: [(String, String, String, String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test(arguments: vectors)
    func rfc8032(secret: String, publicKey: String, message: String, signature: String) throws {
        let sk = try #require(Ed25519.PrivateKey(seed: hexBytes(secret)))
        let pk = try #require(Ed25519.PublicKey(hexBytes(publicKey)))
        #expect(sk.publicKey == pk)
        #expect(sk.sign(hexBytes(message)) == hexBytes(signature))
        #expect(pk.verify(hexBytes(signature), for: hexBytes(message)))
        // One flipped bit in the message or the signature: no longer valid.
        #expect(!pk.verify(hexBytes(signature), for: hexBytes(message) + [0]))
        var bad = hexBytes(signature)
        bad[10] ^= 1
        #expect(!pk.verify(bad, for: hexBytes(message)))
    }
}

@Suite struct Base64Tests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func rfc4648(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func rejectsGarbage() {
        #expect(Base64.decode("Zm9") == nil)
        #expect(Base64.decode("Zm9v!A==") == nil)
        #expect(Base64.decode("Z=9v") == nil)
    }
}

@Suite struct JSONParserTests {
    @Test func parsesWhatTheWriterWrites() throws {
        let v = JSONValue.object([("a", .array([.int(-1), .number(2.5), .bool(true), .null])), ("s", .string("é\"\n\u{1F600}"))])
        #expect(try JSONParser.parse(Array(v.serialized().utf8)) == v)
        #expect(try JSONParser.parse(Array(v.serialized(pretty: true).utf8)) == v)
    }

    @Test func escapes() throws {
        #expect(try JSONParser.parse(Array(#""\u00e9\ud83d\ude00\/""#.utf8)) == .string("é\u{1F600}/"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "\"\u{01}\"", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "tru", "[1] 2", "\"\\x\""])
    func rejects(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func boundsDepthAndSize() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8), maxDepth: 16) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([UInt8](repeating: 0x20, count: 100), maxBytes: 10) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) } // invalid UTF-8
    }

    /// Strings without escapes take a shorter path than those with them; both must agree,
    /// and both must refuse invalid UTF-8 (a lone continuation byte, an overlong form).
    @Test func stringsWithAndWithoutEscapes() throws {
        #expect(try JSONParser.parse(Array(#""plain é 😀""#.utf8)) == .string("plain é 😀"))
        #expect(try JSONParser.parse(Array(#""a\nb é""#.utf8)) == .string("a\nb é"))
        #expect(try JSONParser.parse(Array(#"{"k":"","e":"\"x"}"#.utf8)) == .object([("k", .string("")), ("e", .string("\"x"))]))
        for bad: [UInt8] in [[0x22, 0x41, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22], [0x22, 0x41, 0x0A, 0x22]] {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(bad) }
        }
    }

    @Test func integersKeepInt64AndOverflowToDouble() throws {
        #expect(try JSONParser.parse(Array("9223372036854775807".utf8)) == .int(.max))
        #expect(try JSONParser.parse(Array("-9223372036854775808".utf8)) == .int(.min))
        #expect(try JSONParser.parse(Array("-0".utf8)) == .int(0))
        #expect(try JSONParser.parse(Array("9223372036854775808".utf8)) == .number(9223372036854775808.0))
        #expect(try JSONParser.parse(Array("-9223372036854775809".utf8)) == .number(-9223372036854775809.0))
        #expect(try JSONParser.parse(Array("[1, 2.5e3 , -7]".utf8)) == .array([.int(1), .number(2500), .int(-7)]))
    }
}

@Suite struct CommandVerifierTests {
    let sk = Ed25519.PrivateKey(seed: hexBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))!
    let topic = "nexusgrid/v1/n1/cmd/identify"
    let now: Int64 = 1_800_000_000_000
    let nonceA = "00112233445566778899aabbccddeeff"

    var verifier: CommandVerifier { CommandVerifier(keys: ["coordinator": sk.publicKey!], maxSkewMs: 30_000) }

    func envelope(topic: String? = nil, ts: Int64? = nil, nonce: String? = nil, payload: String = #"{"id":"c1"}"#,
                  key: String = "coordinator", signTopic: String? = nil) -> [UInt8] {
        let c = SignedCommand.sign(topic: signTopic ?? topic ?? self.topic, payload: payload, key: key, privateKey: sk,
                                   timestampMs: ts ?? now, nonce: nonce ?? nonceA)!
        return Array(c.json.serialized().utf8)
    }

    @Test func acceptsAGoodCommandOnce() throws {
        var v = verifier
        let (c, payload) = try v.verify(topic: topic, message: envelope(), nowMs: now + 500)
        #expect(c.key == "coordinator")
        #expect(payload["id"]?.stringValue == "c1")
        #expect(throws: CommandRejection.replayed(nonce: nonceA)) { try v.verify(topic: topic, message: envelope(), nowMs: now + 600) }
    }

    @Test func rejections() {
        var v = verifier
        #expect(throws: CommandRejection.self) { try v.verify(topic: topic, message: Array("not json".utf8), nowMs: now) }
        // Signed for another topic (another node or verb): the signature fails here.
        #expect(throws: CommandRejection.badSignature) {
            try v.verify(topic: topic, message: envelope(signTopic: "nexusgrid/v1/n2/cmd/identify"), nowMs: now)
        }
        #expect(throws: CommandRejection.unknownKey("stranger")) { try v.verify(topic: topic, message: envelope(key: "stranger"), nowMs: now) }
        #expect(throws: CommandRejection.stale(skewMs: -31_000)) { try v.verify(topic: topic, message: envelope(ts: now - 31_000), nowMs: now) }
        #expect(throws: CommandRejection.stale(skewMs: 40_000)) { try v.verify(topic: topic, message: envelope(ts: now + 40_000), nowMs: now) }
        let unsigned = Array(#"{"v":1,"ts":1800000000000,"nonce":"00112233445566778899aabbccddeeff","payload":"{}"}"#.utf8)
        #expect(throws: CommandRejection.self) { try v.verify(topic: topic, message: unsigned, nowMs: now) }
        #expect(throws: CommandRejection.badCommand("payload must be a JSON object")) {
            try v.verify(topic: topic, message: envelope(nonce: "ffeeddccbbaa99887766554433221100", payload: "[1]"), nowMs: now)
        }
    }

    @Test func tamperedPayloadFails() throws {
        var v = verifier
        var text = String(decoding: envelope(), as: UTF8.self)
        text = text.replacingOccurrences(of: "c1", with: "c2")
        #expect(throws: CommandRejection.badSignature) { try v.verify(topic: topic, message: Array(text.utf8), nowMs: now) }
    }

    @Test func nonceMemoryIsBoundedByTheWindow() throws {
        var v = verifier
        _ = try v.verify(topic: topic, message: envelope(), nowMs: now)
        // Long after the window, the old nonce is forgotten, but its timestamp is stale anyway.
        #expect(throws: CommandRejection.stale(skewMs: -100_000)) { try v.verify(topic: topic, message: envelope(), nowMs: now + 100_000) }
    }
}
