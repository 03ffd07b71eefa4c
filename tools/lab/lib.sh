# Helpers for lab scenarios (busy-box sh). Each check prints one line the host parses:
#   VLAB-CHECK <scenario> <check> PASS|FAIL <detail>
# and each scenario is framed by VLAB-SCENARIO-BEGIN/END so the host knows which ran.

AGENT=/lab/bin/nexus-agent
STUB_KO=/lab/i2c-stub.ko
SIM=/sys/kernel/config/gpio-sim/lab
SCENARIO=none

run_scenario() {
  SCENARIO=$(basename "$1" .sh)
  echo "VLAB-SCENARIO-BEGIN $SCENARIO"
  # Each scenario runs in a subshell so that one failing command cannot stop the rest.
  ( . "$1" )
  echo "VLAB-SCENARIO-END $SCENARIO"
}

check() { # check NAME STATUS(0=pass) DETAIL...
  name=$1; status=$2; shift 2
  if [ "$status" -eq 0 ]; then echo "VLAB-CHECK $SCENARIO $name PASS $*"; else echo "VLAB-CHECK $SCENARIO $name FAIL $*"; fi
}

expect_eq() { # expect_eq NAME ACTUAL EXPECTED
  [ "$2" = "$3" ]; check "$1" $? "got '$2' expected '$3'"
}

# |actual - expected| <= tolerance, as decimals
expect_near() { # expect_near NAME ACTUAL EXPECTED TOLERANCE
  awk -v a="$2" -v e="$3" -v t="$4" 'BEGIN { if (a == "" || a == "null") exit 1; d = a - e; if (d < 0) d = -d; exit !(d <= t) }'
  check "$1" $? "got '$2' expected $3 ± $4"
}

expect_contains() { # expect_contains NAME FILE TEXT
  grep -qF -- "$3" "$2"; s=$?
  check "$1" $s "'$3' in $(basename "$2")"
  [ $s -eq 0 ] || { echo "--- $2:"; tail -20 "$2"; echo "---"; }
}

# The value of a JSON key in the agent's one-key-per-line (pretty) or compact output:
# json_field FILE KEY [NTH]
json_field() {
  grep -o "\"$2\": *[^,}]*" "$1" | sed -n "${3:-1}p" | sed 's/^[^:]*: *//; s/"//g'
}

# SMBus words are little-endian, the INA219 big-endian: write the chip's value swapped.
ina_set() { # ina_set REG VALUE(hex, chip order)
  v=$(( $2 ))
  i2cset -y 0 0x40 "$1" $(( ((v & 0xFF) << 8) | (v >> 8) )) w
}
ina_get() { # prints the chip-order value of REG as 0xNNNN
  w=$(i2cget -y 0 0x40 "$1" w) || return 1
  printf '0x%04x\n' $(( ((w & 0xFF) << 8) | ((w >> 8) & 0xFF) ))
}

load_stub() { # load_stub ADDR
  rmmod i2c_stub 2>/dev/null
  insmod "$STUB_KO" chip_addr="$1"
}

# gpio-sim bank labelled like a Pi 4's pinctrl, 28 lines named GPIO0...GPIO27.
sim_create() {
  [ -d "$SIM" ] && return 0
  mkdir "$SIM" "$SIM/bank0"
  echo 28 > "$SIM/bank0/num_lines"
  echo pinctrl-bcm2711 > "$SIM/bank0/label"
  i=0
  while [ $i -lt 28 ]; do
    mkdir "$SIM/bank0/line$i"
    echo "GPIO$i" > "$SIM/bank0/line$i/name"
    i=$((i + 1))
  done
}
sim_live() { echo "$1" > "$SIM/live"; }
sim_dir() { # the sysfs directory with sim_gpioN/{value,pull}
  d=$(ls -d /sys/devices/platform/$(cat "$SIM/dev_name")/gpiochip* 2>/dev/null | head -1)
  echo "$d"
}
sim_value() { cat "$(sim_dir)/sim_gpio$1/value"; }
sim_pull() { echo "$2" > "$(sim_dir)/sim_gpio$1/pull"; }

# Milliseconds since boot, from /proc/uptime (10 ms resolution).
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

wait_for() { # wait_for SECONDS COMMAND...: polls every 100 ms
  limit=$(( $1 * 10 )); shift
  n=0
  while [ $n -lt $limit ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
    n=$((n + 1))
  done
  return 1
}

# Start the agent in the background: agent_start LOG SAMPLES_OUT ARGS...
agent_start() {
  log=$1; out=$2; shift 2
  "$AGENT" run --config "${AGENT_CONFIG:-/lab/agent.yaml}" --print-samples "$@" > "$out" 2> "$log" &
  AGENT_PID=$!
}
agent_alive() { kill -0 "$AGENT_PID" 2>/dev/null; }
agent_stop() { # agent_stop SIGNAL: returns the exit status
  kill -"$1" "$AGENT_PID" 2>/dev/null
  wait "$AGENT_PID"
}
last_sample() { tail -1 "$1" | sed 's/,/,\n/g' > /tmp/last.json; echo /tmp/last.json; }
# Samples gpio-sim line OFFSET (of the bank in $D) every ~10 ms for MS milliseconds:
# prints "<high samples> <samples> <transitions>".
watch_line() { # watch_line OFFSET MS
  end=$(( $(now_ms) + $2 )); hi=0; n=0; tr=0; last=x
  while [ "$(now_ms)" -lt $end ]; do
    v=$(cat "$D/sim_gpio$1/value")
    n=$((n + 1)); [ "$v" = 1 ] && hi=$((hi + 1))
    [ "$last" != x ] && [ "$v" != "$last" ] && tr=$((tr + 1))
    last=$v
    usleep 10000
  done
  echo "$hi $n $tr"
}
# duty_check NAME "hi n tr" LOW HIGH MIN_TRANSITIONS: the share of high samples is in
# LOW..HIGH and the line changed at least MIN_TRANSITIONS times.
duty_check() {
  set -- "$1" $2 "$3" "$4" "$5"
  awk -v h="$2" -v n="$3" -v t="$4" -v lo="$5" -v hi="$6" -v mt="$7" 'BEGIN { d = h / n; exit !(n > 0 && d >= lo && d <= hi && t >= mt) }'
  check "$1" $? "lit $2 of $3 samples, $4 transitions (want duty $5..$6, >= $7 transitions)"
}

# How long line OFFSET stayed low, bracketed: samples for MS milliseconds and prints
# "LOWER UPPER" in ms, or "none" if the line did not both fall and rise. LOWER runs from
# the first low sample to the last (the line was low at least that long), UPPER from the
# last high sample before the fall to the first one after (at most that long): each
# timestamp is taken on the side of its read that keeps the bound true, however late
# TCG schedules the sampler. Reads and clock are shell builtins, so samples are ~10 ms
# apart. Start it in the background before the action.
lab_ms() { read -r up _ < /proc/uptime; T=$(( ${up%.*}${up#*.} * 10 )); }
low_span() { # low_span OFFSET MS
  f="$D/sim_gpio$1/value"
  lab_ms; end=$((T + $2)); last=x; hi_t0=""; fell=""; low_t0=""
  while lab_ms; [ "$T" -lt "$end" ]; do
    t0=$T; read -r v < "$f"; lab_ms; t1=$T
    if [ "$v" = 1 ]; then
      [ -n "$fell" ] && { echo "$((low_t0 - fell)) $((t1 - hi_t0))"; return; }
      hi_t0=$t0
    elif [ -n "$fell" ] || [ "$last" = 1 ]; then
      [ -z "$fell" ] && fell=$t1
      low_t0=$t0
    fi
    last=$v
    usleep 10000
  done
  echo none
}
# expect_span NAME "LOWER UPPER" MIN MAX: the span cannot have been shorter than MIN
# (UPPER >= MIN) or longer than MAX (LOWER <= MAX). /proc/uptime counts in 10 ms steps,
# so a MIN derived from a guarantee is written 10 ms below it.
expect_span() {
  [ "$2" = none ] && { check "$1" 1 "the line did not fall and rise again"; return; }
  set -- "$1" $2 "$3" "$4"
  [ "$3" -ge "$4" ] && [ "$2" -le "$5" ]
  check "$1" $? "low for $2..$3 ms (want a span within $4..$5)"
}
# mosquitto on the guest's 127.0.0.1:1883 (tools/vlab writes its config), once per boot.
broker_start() {
  ip link set lo up
  pidof mosquitto > /dev/null || mosquitto -c /lab/mosquitto.conf -d
  wait_for 10 sh -c 'mosquitto_pub -h 127.0.0.1 -t lab/ping -m x 2>/dev/null'
  check broker-started $? "mosquitto on 127.0.0.1:1883"
}
