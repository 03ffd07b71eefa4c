internal import CI2C

/// A 7-bit I2C address in the range devices may use (0x03...0x77).
public struct I2CAddress: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init?(rawValue: UInt8) {
        guard (0x03...0x77).contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }
    public var description: String { "0x" + hex(rawValue) }
}

/// One device on an I2C bus, as drivers see it: SMBus word transfers.
/// Words are as SMBus delivers them (little-endian on the wire); drivers of big-endian
/// chips swap.
public protocol I2CDevice: AnyObject {
    var deviceName: String { get }
    var address: I2CAddress { get }
    func readWord(register: UInt8) throws(HardwareError) -> UInt16
    func writeWord(register: UInt8, _ value: UInt16) throws(HardwareError)
}

/// A device on a real bus: `/dev/i2c-N` opened and bound to one address.
public final class I2CBusDevice: I2CDevice {
    public let path: String
    public let address: I2CAddress
    private let fd: CInt
    public var deviceName: String { path }

    /// Opens the bus and selects the address. EBUSY here means a kernel driver has bound
    /// the address: read the chip through hwmon instead.
    public init(path: String, address: I2CAddress) throws(HardwareError) {
        self.path = path
        self.address = address
        let fd = nexus_i2c_open(path)
        guard fd >= 0 else {
            let e = Errno(rawValue: -fd)
            throw HardwareError(.open, device: path, address: address.rawValue, errno: e,
                                hint: Self.openHint(e, path: path))
        }
        self.fd = fd
        switch nexus_i2c_supports_smbus_word(fd) {
        case 1: break
        case 0:
            _ = nexus_i2c_close(fd)
            throw HardwareError(.queryFunctions, device: path, address: address.rawValue,
                                errno: .notSupported, hint: "the adapter cannot do SMBus word transfers")
        default:
            // Some adapters do not answer I2C_FUNCS; try the transfers anyway.
            break
        }
        let r = nexus_i2c_set_address(fd, CUnsignedInt(address.rawValue))
        if r < 0 {
            _ = nexus_i2c_close(fd)
            let e = Errno(rawValue: -r)
            throw HardwareError(.setAddress, device: path, address: address.rawValue, errno: e,
                                hint: e == .busy ? "a kernel driver owns this address (see /sys/bus/i2c/devices); read the chip through hwmon/libsensors instead" : nil)
        }
    }

    deinit { _ = nexus_i2c_close(fd) }

    public func readWord(register: UInt8) throws(HardwareError) -> UInt16 {
        let r = nexus_i2c_read_word(fd, register)
        guard r >= 0 else {
            throw HardwareError(.readWord, device: path, address: address.rawValue, register: register,
                                errno: Errno(rawValue: -r), hint: Self.transferHint(-r))
        }
        return UInt16(truncatingIfNeeded: r)
    }

    public func writeWord(register: UInt8, _ value: UInt16) throws(HardwareError) {
        let r = nexus_i2c_write_word(fd, register, value)
        guard r >= 0 else {
            throw HardwareError(.writeWord, device: path, address: address.rawValue, register: register,
                                errno: Errno(rawValue: -r), hint: Self.transferHint(-r))
        }
    }

    static func openHint(_ e: Errno, path: String) -> String? {
        switch e {
        case .noEntry: "no such bus: enable I2C (dtparam=i2c_arm=on on a Pi) and load i2c-dev"
        case .accessDenied, .notPermitted: "the agent's user needs the i2c group (or a udev rule) for \(path)"
        default: nil
        }
    }

    static func transferHint(_ raw: Int32) -> String? {
        // How bus drivers report a NACK (nothing answered at the address): ENXIO or
        // EREMOTEIO on most adapters, EIO on some, ENODEV on i2c-stub.
        switch Errno(rawValue: raw).name {
        case "ENXIO", "EREMOTEIO", "EIO", "ENODEV": "no acknowledge: check wiring, power and the address straps"
        default: nil
        }
    }
}
