# Scenario 1: the INA219 over /dev/i2c-0 (i2c-stub at 0x40), read by the agent directly.
load_stub 0x40
check stub-loaded $? "insmod i2c-stub chip_addr=0x40"
# A known load: 5.000 V on the bus, 50.00 mV across the 0.1 Ω shunt (0.5 A). The registers a
# real INA219 would hold with Cal = 4096 (Current_LSB 100 µA, Power_LSB 2 mW), by hand:
#   shunt   5000 steps of 10 µV                 = 0x1388
#   bus     1250 steps of 4 mV << 3, CNVR set   = 0x2712
#   current 5000 × 4096 / 4096                  = 0x1388  (0.5 A)
#   power   5000 × 1250 / 5000 = 1250           = 0x04E2  (2.5 W)
preset() { ina_set 0x01 0x1388; ina_set 0x02 0x2712; ina_set 0x03 0x04E2; ina_set 0x04 0x1388; }
preset
B=/lab/boards/pi4b-lab-i2c.yaml
$AGENT sensors --config /lab/agent.yaml --board $B --json > /tmp/s1.json 2> /tmp/s1.err
check sensors-exit $? "nexus-agent sensors exit status"
expect_eq source "$(json_field /tmp/s1.json source)" i2c
expect_near bus-volts "$(json_field /tmp/s1.json bus_v)" 5.0 0.0005
expect_near shunt-volts "$(json_field /tmp/s1.json shunt_v)" 0.05 0.000001
expect_near current-amps "$(json_field /tmp/s1.json current_a)" 0.5 0.00001
expect_near power-watts "$(json_field /tmp/s1.json power_w)" 2.5 0.0001
# The agent wrote configuration (16 V, PGA /8, 12-bit: 0x199F) and calibration (4096).
expect_eq calibration-register "$(ina_get 0x05)" 0x1000
expect_eq configuration-register "$(ina_get 0x00)" 0x199f

# The sampling limit (docs/benchmarks.md): readings back to back through i2c-dev, each
# five SMBus word reads. A figure, and a check that the values held throughout.
$AGENT sensors --config /lab/agent.yaml --board $B --rate 2000 > /tmp/rate1.txt 2>&1
check rate-exit $? "sensors --rate 2000: $(cat /tmp/rate1.txt)"
expect_contains rate-all-read /tmp/rate1.txt "node (0x40, i2c): 2000 readings in"
echo "VLAB-FIGURE $(uname -m) ina219-i2c-readings-per-s $(sed -n 's/.* s: \([0-9]*\) readings\/s.*/\1/p' /tmp/rate1.txt)"
echo "VLAB-FIGURE $(uname -m) ina219-i2c-us-per-transfer $(sed -n 's/.*(\([0-9.]*\) µs per SMBus transfer).*/\1/p' /tmp/rate1.txt)"

# Math overflow (OVF, bit 0 of the bus register): current and power are not numbers.
ina_set 0x02 0x2713
$AGENT sensors --config /lab/agent.yaml --board $B --json > /tmp/s1o.json 2>/dev/null
expect_eq overflow-status "$(json_field /tmp/s1o.json status)" overflow
expect_eq overflow-current "$(json_field /tmp/s1o.json current_a)" null
expect_eq overflow-power "$(json_field /tmp/s1o.json power_w)" null
expect_near overflow-bus-still-read "$(json_field /tmp/s1o.json bus_v)" 5.0 0.0005
ina_set 0x02 0x2712

# A running agent finds the calibration reset to 0 (brown-out) and writes it again.
agent_start /tmp/s1run.log /tmp/s1run.out --board $B --interval 0.3
wait_for 10 grep -q '"status":"ok"' /tmp/s1run.out
check running-agent-reads $? "first sample"
ina_set 0x05 0x0000
wait_for 10 grep -q '"recalibrated":true' /tmp/s1run.out
check recalibrated-reported $? "a sample says recalibrated"
expect_eq calibration-rewritten "$(ina_get 0x05)" 0x1000
expect_contains calibration-lost-logged /tmp/s1run.log "INA219 calibration lost, rewriting"
agent_stop TERM
check agent-exit $? "SIGTERM exit status"
