#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#endif

/// An errno value, kept as a value so errors can carry it without reading the global later.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's errno now; call right after the failing syscall.
    public static var current: Errno { Errno(rawValue: errno) }

    public static let noEntry = Errno(rawValue: ENOENT)
    public static let busy = Errno(rawValue: EBUSY)
    public static let io = Errno(rawValue: EIO)
    public static let accessDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let noDevice = Errno(rawValue: ENODEV)
    public static let noSuchDeviceOrAddress = Errno(rawValue: ENXIO)
    public static let invalidArgument = Errno(rawValue: EINVAL)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)

    public var name: String {
        switch rawValue {
        case ENOENT: "ENOENT"
        case EBUSY: "EBUSY"
        case EIO: "EIO"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case ENODEV: "ENODEV"
        case ENXIO: "ENXIO"
        case EINVAL: "EINVAL"
        case EINTR: "EINTR"
        case EAGAIN: "EAGAIN"
        case ETIMEDOUT: "ETIMEDOUT"
        case EREMOTEIO: "EREMOTEIO"
        case EOPNOTSUPP: "EOPNOTSUPP"
        default: "errno \(rawValue)"
        }
    }

    public var description: String {
        guard let text = strerror(rawValue) else { return name }
        return "\(String(cString: text)) (\(name))"
    }
}
