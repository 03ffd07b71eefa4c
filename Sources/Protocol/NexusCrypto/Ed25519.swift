internal import CCrypto

/// Ed25519 (RFC 8032) through OpenSSL's libcrypto.
public enum Ed25519 {
    public struct PublicKey: Equatable, Hashable, Sendable {
        public let bytes: [UInt8]
        public init?(_ bytes: [UInt8]) {
            guard bytes.count == 32 else { return nil }
            self.bytes = bytes
        }

        /// A PEM file as `openssl pkey -pubout` writes it.
        public init?(pemFile path: String) {
            var out = [UInt8](repeating: 0, count: 32)
            guard nexus_ed25519_load_public_pem(path, &out) == 0 else { return nil }
            bytes = out
        }

        public func verify(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            guard signature.count == 64 else { return false }
            return message.withUnsafeBufferPointer { m in
                nexus_ed25519_verify(bytes, m.baseAddress, m.count, signature) == 1
            }
        }
    }

    public struct PrivateKey: Sendable {
        let seed: [UInt8]
        public init?(seed: [UInt8]) {
            guard seed.count == 32 else { return nil }
            self.seed = seed
        }

        /// A PEM file from `openssl genpkey -algorithm ed25519`.
        public init?(pemFile path: String) {
            var out = [UInt8](repeating: 0, count: 32)
            guard nexus_ed25519_load_private_pem(path, &out) == 0 else { return nil }
            seed = out
        }

        public var publicKey: PublicKey? {
            var out = [UInt8](repeating: 0, count: 32)
            guard nexus_ed25519_public_key(seed, &out) == 0 else { return nil }
            return PublicKey(out)
        }

        public func sign(_ message: [UInt8]) -> [UInt8]? {
            var sig = [UInt8](repeating: 0, count: 64)
            let rc = message.withUnsafeBufferPointer { m in nexus_ed25519_sign(seed, m.baseAddress, m.count, &sig) }
            return rc == 0 ? sig : nil
        }
    }

    public static func randomBytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        return nexus_random_bytes(&out, count) == 0 ? out : nil
    }
}
