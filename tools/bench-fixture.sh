# Sourced by tools/bench-peers and tools/bench-soak, inside their own mount namespace
# (unshare -m): the fixture hwmon tree a Pi 4 with two INA219s on i2c-1 (owned by the
# kernel's ina2xx driver) and its cpu_thermal shows, mounted where libsensors looks, a
# board file for it, and a check that the agent reads it back as it would on the board.
#   bench_fixture WORK AGENT   sets $fx (the tree), $board (the board file) and makes
#                              WORK/ne-sys (the tree as node_exporter's --path.sysfs)
bench_fixture() {
  local work=$1 agent=$2
  fx=$work/fx
  put() { mkdir -p "$(dirname "$fx/$1")"; printf '%s\n' "$2" > "$fx/$1"; }
  put hwmon/hwmon0/name cpu_thermal
  put hwmon/hwmon0/temp1_input 48312
  local n=1 chip
  # address, bus mV x10, current mA, power µW, shunt µV: 5.08 V at 0.76 A, 5.216 V at 2.13 A
  for chip in "0040 5080 760 3859000" "0041 5216 2130 1111000"; do
    set -- $chip
    put "hwmon/hwmon$n/name" ina219
    put "hwmon/hwmon$n/in0_input" "$(( $3 / 10 ))"
    put "hwmon/hwmon$n/in1_input" "$2"
    put "hwmon/hwmon$n/curr1_input" "$3"
    put "hwmon/hwmon$n/power1_input" "$4"
    put "hwmon/hwmon$n/shunt_resistor" 100000
    put "devices/i2c-1/1-$1/name" ina219
    ln -s "$fx/devices/i2c-1/1-$1" "$fx/hwmon/hwmon$n/device"
    ln -s "$fx/bus/i2c" "$fx/devices/i2c-1/1-$1/subsystem"
    n=$((n + 1))
  done
  mkdir -p "$fx/bus/i2c"
  put adapter/i2c-1/name "bcm2835 (i2c@7e804000)"
  mount -t tmpfs nexus-bench /sys/class
  mkdir /sys/class/hwmon /sys/class/i2c-adapter
  mount --bind "$fx/hwmon" /sys/class/hwmon
  mount --bind "$fx/adapter" /sys/class/i2c-adapter
  mkdir -p "$work/ne-sys/class"
  ln -s "$fx/hwmon" "$work/ne-sys/class/hwmon"

  board=$work/board.yaml
  cat > "$board" <<'BOARD'
board: bench
model: Benchmark fixture (Pi 4 layout, two INA219 owned by the kernel driver)
gpio: { chip: pinctrl-bcm2711, line_prefix: GPIO, first_line: 0, last_line: 27 }
i2c: { bus: 1 }
sensors:
  - { name: node, address: 0x40, shunt_ohms: 0.1, max_current_a: 3.2, bus_range_v: 16, gain_mv: 320, source: hwmon }
  - { name: poe, address: 0x41, shunt_ohms: 0.1, max_current_a: 3.2, bus_range_v: 16, gain_mv: 320, source: hwmon }
power: { idle_w: 2.7, max_w: 6.4 }
BOARD
  "$agent" sensors --board "$board" --json --window-ms 0 > "$work/check.json" 2> "$work/check.err" || {
    echo "the agent cannot read the bench fixture:" >&2; cat "$work/check.err" "$work/check.json" >&2; return 1; }
  grep -Eq '"power_w": ?3.859' "$work/check.json" && grep -Eq '"celsius": ?48.312' "$work/check.json" || {
    echo "the bench fixture reads back wrong:" >&2; cat "$work/check.json" >&2; return 1; }
}
