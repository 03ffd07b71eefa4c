# Scenario 2: the same chip bound to the kernel's ina2xx driver, read through libsensors.
load_stub 0x40
ina_set 0x01 0x1388; ina_set 0x02 0x2712; ina_set 0x03 0x04E2; ina_set 0x04 0x1388
echo ina219 0x40 > /sys/bus/i2c/devices/i2c-0/new_device
check driver-bound $? "new_device ina219 0x40"
hw=""
for d in /sys/class/hwmon/hwmon*; do [ "$(cat "$d/name" 2>/dev/null)" = ina219 ] && hw=$d; done
[ -n "$hw" ]; check hwmon-device $? "hwmon device named ina219: $hw"
# The kernel keeps Cal = 4096 and derives its LSBs from the shunt: 0.1 Ω gives the same
# 100 µA / 2 mW as the agent's own calibration, so the same registers mean the same values.
echo 100000 > "$hw/shunt_resistor"
expect_eq kernel-in1-mV "$(cat "$hw/in1_input")" 5000
expect_eq kernel-curr1-mA "$(cat "$hw/curr1_input")" 500

$AGENT sensors --config /lab/agent.yaml --board /lab/boards/pi4b-lab-hwmon.yaml --json > /tmp/s2.json 2> /tmp/s2.err
check sensors-exit $? "nexus-agent sensors exit status"
expect_eq source "$(json_field /tmp/s2.json source)" hwmon
expect_near bus-volts "$(json_field /tmp/s2.json bus_v)" 5.0 0.0005
expect_near shunt-volts "$(json_field /tmp/s2.json shunt_v)" 0.05 0.000001
expect_near current-amps "$(json_field /tmp/s2.json current_a)" 0.5 0.00001
expect_near power-watts "$(json_field /tmp/s2.json power_w)" 2.5 0.0001

# The same limit through the kernel driver: each reading is a libsensors sweep of every
# hwmon attribute, and each ina219 attribute read is an SMBus transfer in the kernel.
$AGENT sensors --config /lab/agent.yaml --board /lab/boards/pi4b-lab-hwmon.yaml --rate 500 > /tmp/rate2.txt 2>&1
check rate-exit $? "sensors --rate 500: $(cat /tmp/rate2.txt)"
expect_contains rate-all-read /tmp/rate2.txt "node (0x40, hwmon): 500 readings in"
echo "VLAB-FIGURE $(uname -m) ina219-hwmon-readings-per-s $(sed -n 's/.* s: \([0-9]*\) readings\/s.*/\1/p' /tmp/rate2.txt)"

# source: auto tries I2C, meets EBUSY, says so and reads hwmon instead.
$AGENT sensors --config /lab/agent.yaml --board /lab/boards/pi4b-lab.yaml --json > /tmp/s2a.json 2> /tmp/s2a.err
check auto-exit $? "auto source exit status"
expect_eq auto-source "$(json_field /tmp/s2a.json source)" hwmon
expect_contains auto-says-why /tmp/s2a.err "kernel driver owns the INA219; reading it through hwmon instead"

# source: i2c reports the conflict clearly.
$AGENT sensors --config /lab/agent.yaml --board /lab/boards/pi4b-lab-i2c.yaml --json > /tmp/s2i.json 2> /tmp/s2i.err
[ $? -eq 1 ]; check i2c-conflict-exit $? "exit status 1"
expect_contains i2c-conflict-errno /tmp/s2i.err "EBUSY"
expect_contains i2c-conflict-hint /tmp/s2i.err "a kernel driver owns this address"
expect_eq i2c-conflict-status "$(json_field /tmp/s2i.json status)" error

echo 0x40 > /sys/bus/i2c/devices/i2c-0/delete_device
