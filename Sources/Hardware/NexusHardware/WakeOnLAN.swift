internal import CLinux

/// A 48-bit hardware address, written AA:BB:CC:DD:EE:FF (or with '-').
public struct MACAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == ":" || $0 == "-" }
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            out.append(b)
        }
        bytes = out
    }

    public var description: String {
        bytes.map { (b: UInt8) -> String in hex(b) }.joined(separator: ":")
    }
}

/// The Wake-on-LAN magic packet and the two ways of sending it.
public enum WakeOnLAN {
    /// 6 × 0xFF, the MAC 16 times, then the SecureOn password (4 or 6 bytes) if any.
    public static func magicPacket(_ mac: MACAddress, password: [UInt8]? = nil) -> [UInt8] {
        var p = [UInt8](repeating: 0xFF, count: 6)
        for _ in 0..<16 { p += mac.bytes }
        if let password { p += password }
        return p
    }

    /// A SecureOn password as etherwake takes it: 6 bytes like a MAC, or 4 as a dotted quad.
    public static func password(_ text: String) -> [UInt8]? {
        if let m = MACAddress(text) { return m.bytes }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard let b = UInt8(p) else { return nil }
            out.append(b)
        }
        return out
    }

    public static let etherType: UInt16 = 0x0842

    /// UDP broadcast to port 9 (no privilege needed), out of `interface` if given.
    public static func sendUDP(_ packet: [UInt8], interface: String?, port: UInt16 = 9) throws(HardwareError) {
        let r = packet.withUnsafeBufferPointer { nexus_send_udp_broadcast(interface, port, $0.baseAddress, $0.count) }
        guard r == 0 else {
            let e = Errno(rawValue: -r)
            throw HardwareError(.send, device: interface ?? "udp broadcast", errno: e,
                                hint: e == .noDevice ? "no network interface named \(interface ?? "")" :
                                      e == .notPermitted ? "binding to an interface needs CAP_NET_RAW on this kernel" : nil)
        }
    }

    /// A raw Ethernet frame of type 0x0842 to the target's MAC, as etherwake sends it.
    public static func sendRaw(_ packet: [UInt8], to mac: MACAddress, interface: String) throws(HardwareError) {
        let r = packet.withUnsafeBufferPointer { nexus_send_ethernet(interface, mac.bytes, etherType, $0.baseAddress, $0.count) }
        guard r == 0 else {
            let e = Errno(rawValue: -r)
            throw HardwareError(.send, device: interface, errno: e,
                                hint: e == .noDevice ? "no network interface named \(interface)" :
                                      e == .notPermitted || e == .accessDenied
                                        ? "raw Ethernet frames need CAP_NET_RAW (AmbientCapabilities=CAP_NET_RAW in the unit, or use UDP without --raw)" : nil)
        }
    }

    /// Whether the NIC will wake on a magic packet, read with ETHTOOL_GWOL.
    public struct ArmedState: Equatable, Sendable {
        public var magicSupported: Bool
        public var magicArmed: Bool

        /// From struct ethtool_wolinfo's `supported` and `wolopts` (WAKE_* bits of
        /// linux/ethtool.h: PHY 1, UCAST 2, MCAST 4, BCAST 8, ARP 16, MAGIC 32, MAGICSECURE 64).
        public init(supported: UInt32, armed: UInt32) {
            magicSupported = supported & WakeOnLAN.wakeMagic != 0
            magicArmed = armed & WakeOnLAN.wakeMagic != 0
        }
    }

    static let wakeMagic: UInt32 = 1 << 5

    public static func armedState(interface: String) throws(HardwareError) -> ArmedState {
        var supported: UInt32 = 0, armed: UInt32 = 0
        let r = nexus_wol_get(interface, &supported, &armed)
        guard r == 0 else {
            let e = Errno(rawValue: -r)
            throw HardwareError(.wakeOnLANState, device: interface, errno: e,
                                hint: e == .noDevice ? "no network interface named \(interface)" :
                                      e == .notPermitted ? "the kernel allows this only with CAP_NET_ADMIN" :
                                      e == .notSupported ? "the driver does not do Wake-on-LAN" : nil)
        }
        return ArmedState(supported: supported, armed: armed)
    }
}
