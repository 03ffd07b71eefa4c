internal import CSystemd

/// The sd_notify protocol (libsystemd): how a `Type=notify` service tells systemd it is
/// ready, that it is still alive (the watchdog), and that it is stopping. Outside systemd
/// (no NOTIFY_SOCKET) every call does nothing.
public enum ServiceManager {
    /// Sends one or more `KEY=value` lines; false when there is no service manager to tell.
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        nexus_sd_notify(state) > 0
    }

    /// Like `notify`, with sd_notify's own answer: > 0 sent, 0 no service manager, < 0 a
    /// negative errno (the message did not get through: worth a log line).
    public static func send(_ state: String) -> Int32 {
        nexus_sd_notify(state)
    }

    /// The interval `WatchdogSec=` asks for; pings should come at half of it. nil when
    /// the service has no watchdog.
    public static var watchdogInterval: Duration? {
        let usec = nexus_sd_watchdog_usec()
        return usec > 0 ? .microseconds(Int64(clamping: usec)) : nil
    }
}
