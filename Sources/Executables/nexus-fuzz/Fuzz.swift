// Fuzz target for the parsers that take untrusted input: the signed-command envelope
// (through the verifier, as the agent runs it), the agent config and board files.
// Built by tools/fuzz with -sanitize=fuzzer,address -D FUZZING; without FUZZING it is a
// replayer that runs files (a corpus, a crash) through the same code.
import NexusBoards
import NexusCrypto
import NexusWire
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var verifier: CommandVerifier = {
    // RFC 8032 test 1's key: the fuzzer may find valid signatures only by luck, but the
    // parsing and checks in front of verification are all reached.
    let seed: [UInt8] = [0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
                         0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60]
    let key = Ed25519.PrivateKey(seed: seed)?.publicKey
    return CommandVerifier(keys: key.map { ["coordinator": $0] } ?? [:])
}()

func fuzzOne(_ bytes: [UInt8]) {
    guard let selector = bytes.first else { return }
    let rest = Array(bytes.dropFirst())
    switch selector % 4 {
    case 0:
        _ = try? verifier.verify(topic: "nexusgrid/v1/n1/cmd/relay", message: rest, nowMs: 1_800_000_000_000)
    case 1:
        _ = try? JSONParser.parse(rest)
    case 2:
        _ = try? AgentConfig.parse(text: String(decoding: rest, as: UTF8.self), file: "fuzz.yaml")
    default:
        _ = try? BoardLoader.load(text: String(decoding: rest, as: UTF8.self), file: "fuzz.yaml")
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

// SwiftPM links an executable's entry point under its own name; hand it to libFuzzer.
@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerEntry))
    }
}
#else
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let f = fopen(path, "rb") else { continue }
            var bytes: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while case let n = fread(&buf, 1, buf.count, f), n > 0 { bytes += buf[0..<n] }
            fclose(f)
            fuzzOne(bytes)
        }
    }
}
#endif
