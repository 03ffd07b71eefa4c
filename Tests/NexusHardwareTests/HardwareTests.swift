import Testing
import Foundation
@testable import NexusHardware

@Suite struct ProcTests {
    @Test func cpuTimes() throws {
        let a = try #require(CPUTimes.parse(procStat: "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n"))
        #expect(a.total == 1000)
        #expect(a.busy == 150)
        let b = try #require(CPUTimes.parse(procStat: "cpu  200 0 100 850 50 0 0 0 0 0\n"))
        // 150 busy ticks out of 200.
        #expect(b.utilisation(since: a) == 0.75)
        #expect(a.utilisation(since: a) == nil)
        #expect(CPUTimes.parse(procStat: "intr 1 2 3\n") == nil)
        // The aggregate line wherever it is, not a per-CPU one; tabs count as spaces.
        let c = try #require(CPUTimes.parse(procStat: "cpu0 9 9 9 9\ncpu \t1 2 3 4 5 6 7 8 100 100"))
        #expect(c.total == 36 && c.busy == 27)
        // Too few fields, a field that is not a number, a counter past UInt64: no reading.
        #expect(CPUTimes.parse(procStat: "cpu  1 2 3\n") == nil)
        #expect(CPUTimes.parse(procStat: "cpu  1 2 x 4 5\n") == nil)
        #expect(CPUTimes.parse(procStat: "cpu  1 2 3 99999999999999999999 5\n") == nil)
        #expect(CPUTimes.parse(procStat: "cpu  18446744073709551615 1 0 0\n") == nil)
        #expect(CPUTimes.parse(procStat: "") == nil)
    }

    @Test func meminfo() throws {
        let m = try #require(MemoryInfo.parse(meminfo: "MemTotal:        4000 kB\nMemFree:  100 kB\nMemAvailable:     1000 kB\n"))
        #expect(m.totalKiB == 4000 && m.availableKiB == 1000)
        #expect(m.usedFraction == 0.75)
        #expect(MemoryInfo.parse(meminfo: "MemTotal: 1 kB\n") == nil)
        #expect(MemoryInfo.parse(meminfo: "MemTotal: x kB\nMemAvailable: 1 kB\n") == nil)
        // A prefix is a whole key: MemTotalX is not MemTotal; the last line needs no newline.
        #expect(MemoryInfo.parse(meminfo: "MemTotalX: 5 kB\nMemAvailable: 1 kB") == nil)
        #expect(MemoryInfo.parse(meminfo: "MemAvailable: 1 kB\nMemTotal: 8 kB") == MemoryInfo(totalKiB: 8, availableKiB: 1))
    }

    @Test func loadavg() {
        #expect(LoadAverage.parse(loadavg: "0.52 0.58 0.59 1/467 12345\n") == LoadAverage(one: 0.52, five: 0.58, fifteen: 0.59))
        #expect(LoadAverage.parse(loadavg: "garbage") == nil)
    }

    @Test func readsTheRealProc() throws {
        let p = ProcFS()
        #expect(try p.cpuTimes().total > 0)
        #expect(try p.memory().totalKiB > 0)
        _ = try p.loadAverage()
    }

    @Test func missingProcIsAnErrorWithThePath() {
        do {
            _ = try ProcFS(root: "/nonexistent").cpuTimes()
            Issue.record("no error")
        } catch {
            #expect(error.device == "/nonexistent/stat")
            #expect(error.errno == .noEntry)
        }
    }
}

@Suite struct DeviceErrorTests {
    @Test func missingI2CBus() {
        do {
            _ = try I2CBusDevice(path: "/dev/i2c-250", address: I2CAddress(rawValue: 0x40)!)
            Issue.record("opened a missing bus")
        } catch {
            #expect(error.operation == .open)
            #expect(error.errno == .noEntry)
            #expect(error.description.contains("/dev/i2c-250"))
            #expect(error.description.contains("address 0x40"))
            #expect(error.description.contains("enable I2C"))
        }
    }

    @Test func notAnI2CDevice() {
        // /dev/null opens, but is no I2C adapter: the ioctl fails with a clear error.
        #expect(throws: HardwareError.self) { try I2CBusDevice(path: "/dev/null", address: I2CAddress(rawValue: 0x40)!) }
    }

    @Test func i2cAddressRange() {
        #expect(I2CAddress(rawValue: 0x02) == nil)
        #expect(I2CAddress(rawValue: 0x78) == nil)
        #expect(I2CAddress(rawValue: 0x40)?.description == "0x40")
    }

    @Test func gpioChipByLabelWhenThereIsNone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-empty-dev-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try GPIOChip.open(label: "pinctrl-bcm2711", devDirectory: dir.path)
            Issue.record("found a chip")
        } catch {
            #expect(error.operation == .findChip)
            #expect(error.description.contains("pinctrl-bcm2711"))
            #expect(error.description.contains("no GPIO chips"))
        }
    }

    @Test func missingGPIOChipPath() {
        #expect(throws: HardwareError.self) { try GPIOChip(path: "/dev/gpiochip250") }
    }
}

@Suite struct EventLoopTests {
    @Test func timersFireInOrderAndStop() throws {
        let loop = EventLoop()
        var fired: [String] = []
        let a = try loop.makeTimer { fired.append("a") }
        let b = try loop.makeTimer {
            fired.append("b")
            loop.stop()
        }
        a.arm(after: .milliseconds(5))
        b.arm(after: .milliseconds(40))
        try loop.run()
        #expect(fired == ["a", "b"])
    }

    @Test func periodicTimer() throws {
        let loop = EventLoop()
        var count = 0
        let t = try loop.makeTimer {
            count += 1
            if count == 3 { loop.stop() }
        }
        t.arm(after: .milliseconds(1), every: .milliseconds(5))
        try loop.run()
        #expect(count == 3)
    }

    @Test func watchedDescriptor() throws {
        let loop = EventLoop()
        let n = EventNotifier()
        var seen = 0
        loop.watch(n.fd) {
            n.drain()
            seen += 1
            loop.stop()
        }
        let t = try loop.makeTimer { n.signal() }
        t.arm(after: .milliseconds(2))
        try loop.run()
        #expect(seen == 1)
    }

    @Test func durationArithmetic() {
        let i = Instant(nanoseconds: 5_000_000_000)
        #expect((i + .milliseconds(1500)).nanoseconds == 6_500_000_000)
        #expect((i + .seconds(-10)).nanoseconds == 0)
        #expect((i + .seconds(1)).since(i) == .seconds(1))
        #expect(i.since(i + .seconds(1)) == .zero)
    }
}

@Suite struct LoggerTests {
    @Test func formatsLevelsAndMetadata() {
        final class Box: @unchecked Sendable { var lines: [(Logger.Level, String)] = [] }
        let box = Box()
        let log = Logger(label: "t", minimum: .info) { box.lines.append(($0, $1)) }
        log.debug("hidden")
        log.warning("calibration lost", ["i2c.address": "0x40", "error": "No such device"])
        #expect(box.lines.count == 1)
        #expect(box.lines[0].0 == .warning)
        #expect(box.lines[0].1 == #"t: calibration lost i2c.address=0x40 error="No such device""#)
    }
}

@Suite struct CommandTests {
    @Test func exitStatusAndSignals() throws {
        #expect(try Command.run(["sh", "-c", "exit 3"], timeout: .seconds(10)).get() == .exited(3))
        #expect(try Command.run(["sh", "-c", "kill -KILL $$"], timeout: .seconds(10)).get() == .signalled(9))
    }

    @Test func childGetsTheDefaultSignalMask() throws {
        // Block SIGTERM here, as the agent's loop does; the child must still die of it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        #expect(try Command.run(["sh", "-c", "kill -TERM $$; sleep 5"], timeout: .seconds(10)).get() == .signalled(SIGTERM))
    }

    @Test func noShellInterpolation() throws {
        // The argument reaches the program as one string, `;` and all.
        #expect(try Command.run(["test", "a;exit 0", "=", "a;exit 0"], timeout: .seconds(10)).get() == .exited(0))
    }

    @Test func missingProgramAndTimeout() {
        #expect(throws: HardwareError.self) { try Command.run(["/nonexistent/poweroff"], timeout: .seconds(1)).get() }
        if case .running(let pid) = try? Command.run(["sleep", "5"], timeout: .milliseconds(100)).get() {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        } else {
            Issue.record("expected a running child")
        }
    }
}

@Suite struct WakeOnLANStateTests {
    /// What `ethtool eth0` shows as "Supports Wake-on: pumbg" / "Wake-on: g", in the bits
    /// ETHTOOL_GWOL returns.
    @Test func magicPacketBitFromEthtoolWolinfo() {
        let pumbg: UInt32 = 1 | 2 | 4 | 8 | 32
        #expect(WakeOnLAN.ArmedState(supported: pumbg, armed: 32) == .init(supported: 32, armed: 32))
        #expect(WakeOnLAN.ArmedState(supported: pumbg, armed: 32).magicArmed)
        // "Wake-on: d" (disabled) and "Wake-on: u" (unicast only) do not wake on a magic packet.
        #expect(!WakeOnLAN.ArmedState(supported: pumbg, armed: 0).magicArmed)
        #expect(!WakeOnLAN.ArmedState(supported: pumbg, armed: 2).magicArmed)
        // A NIC that only wakes on link change ("Supports Wake-on: p").
        #expect(!WakeOnLAN.ArmedState(supported: 1, armed: 1).magicSupported)
    }

    @Test func unknownInterfaceIsAClearError() {
        #expect(throws: HardwareError.self) { _ = try WakeOnLAN.armedState(interface: "nexus-nope0") }
        do { _ = try WakeOnLAN.armedState(interface: "nexus-nope0") } catch {
            #expect(error.description.contains("no network interface named nexus-nope0"), "\(error)")
        }
    }
}
