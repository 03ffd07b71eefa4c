# Scenario 6 (runs last): the command channel on real GPIO, then a signed `sleep` that
# powers the node off. mosquitto runs in the guest on loopback; the coordinator's side is
# `nexus-agent sign` with a key made on the host, and mosquitto_pub. Waking: gpio-pulse
# targets (GPIO5 open-drain with the neighbour's pull-up emulated, GPIO6 push-pull) and a
# poe-relay target (poe1, on a board copy with a 1 s minimum off-time and two cycles an
# hour). Sleep: the
# first drains; the second is the go-ahead: the agent publishes `sleeping`, waits for the
# broker's acknowledgement and takes its power-off path (`reboot -f` here, which ends the
# guest). The power-off script prints what a subscriber had received; the host checks it.
broker_start
mosquitto_sub -h 127.0.0.1 -q 1 -v -t nexusgrid/v1/lab/status -t nexusgrid/v1/lab/event > /tmp/feed.log 2>&1 &
sim_create
sim_live 1 2>/dev/null
D=$(sim_dir)
sim_pull 5 pull-up    # the target's own pull-up on its wake pin
sim_pull 22 pull-up   # the relay board's pull-up
AGENT_CONFIG=/lab/agent-feed.yaml agent_start /tmp/p.log /tmp/p.out --interval 1 \
  --broker mqtt://127.0.0.1:1883 --command-key coordinator=/lab/keys/coordinator.pub
wait_for 15 grep -q "MQTT connected" /tmp/p.log
check agent-connected $? "agent connected to the guest's broker"
wait_for 10 grep -q '"state":"awake"' /tmp/feed.log
check status-awake $? "retained status awake"
grep -q '"wakes":\["pi-n2","pi-n3","pi-n4"\]' /tmp/feed.log
check status-lists-wake-targets $? "capabilities.wakes in the status"

command() { # command VERB ID JSON-FIELDS: signs and publishes
  "$AGENT" sign --key /lab/keys/coordinator.pem --node lab --verb "$1" --payload "{\"id\":\"$2\"$3}" > /tmp/cmd-$2.json &&
    mosquitto_pub -h 127.0.0.1 -q 1 -t "nexusgrid/v1/lab/cmd/$1" -f /tmp/cmd-$2.json
}
result() { # result ID OUTCOME: waits for the command's result
  wait_for 10 grep -q "\"type\":\"command-result\",\"id\":\"$1\",\"outcome\":\"$2\"" /tmp/feed.log
}

# gpio-pulse. The kernel holds GPIO5 open-drain and GPIO6 push-pull for the agent.
$AGENT gpio list --board /lab/boards/pi4b-lab-feed.yaml > /tmp/lines.txt 2>&1
grep -q 'GPIO5 *used by nexus-agent *output open-drain' /tmp/lines.txt
check wake-line-open-drain $? "GPIO5 requested open-drain: $(grep 'GPIO5 ' /tmp/lines.txt)"
grep -q 'GPIO6 *used by nexus-agent *output push-pull' /tmp/lines.txt
check wake-line-push-pull $? "GPIO6 requested push-pull: $(grep 'GPIO6 ' /tmp/lines.txt)"
# Open-drain: released, the target's pull-up holds the line high; the pulse pulls it low.
# (gpio-sim in 6.1 keeps the last driven level when the line turns back into an input,
# so the release itself is checked on GPIO6 below and by the agent's `pulsed` event.)
expect_eq wake-line-released-at-start "$(cat $D/sim_gpio5/value)" 1
command wake w-1 ',"target":"pi-n2"'
wait_for 5 sh -c "[ \"\$(cat $D/sim_gpio5/value)\" = 0 ]"
check open-drain-pulls-low $? "GPIO5 pulled low"
result w-1 ok; check wake-pulse-result $? "w-1 answered ok"
wait_for 5 grep -q '"outcome":"pulsed","detail":"GPIO5 released after 600 ms"' /tmp/feed.log
check wake-pulse-event $? "pulsed event"
# Push-pull: low for the pulse, then high again.
expect_eq push-pull-high-at-start "$(cat $D/sim_gpio6/value)" 1
low_span 6 4000 > /tmp/span6 &
watcher=$!
command wake w-4 ',"target":"pi-n4"'
wait $watcher
expect_span wake-pulse-600ms "$(cat /tmp/span6)" 590 1100
expect_eq push-pull-released-after "$(cat $D/sim_gpio6/value)" 1

# poe-relay: cut (GPIO22 low: active-low coil on), back on no sooner than 1 s.
low_span 22 4000 > /tmp/span22 &
watcher=$!
command wake w-2 ',"target":"pi-n3"'
wait $watcher
expect_span relay-cycle-off-1s "$(cat /tmp/span22)" 990 1600
wait_for 5 grep -q '"target":"pi-n3","method":"poe-relay","outcome":"powered"' /tmp/feed.log
check relay-cycle-powered $? "powered event"
expect_eq relay-on-after-cycle "$(cat $D/sim_gpio22/value)" 1
# A second cycle is allowed, the third within the hour is refused and leaves power on.
command relay r-1 ',"channel":"poe1","action":"cycle"'
result r-1 ok; check second-cycle-ok $? "r-1 answered ok"
sleep 1.5
command relay r-2 ',"channel":"poe1","action":"cycle"'
result r-2 failed; check third-cycle-refused $? "r-2 refused"
grep -q '"id":"r-2","outcome":"failed","detail":"relay poe1: already cut 2 times' /tmp/feed.log
check rate-limit-reported $? "the refusal says why"
expect_eq relay-on-after-refusal "$(cat $D/sim_gpio22/value)" 1
# A target this agent does not wake: refused, nothing moves.
command wake w-3 ',"target":"nope"'
result w-3 failed; check unknown-target-refused $? "w-3 refused"
expect_eq unknown-target-moved-nothing "$(cat $D/sim_gpio6/value)$(cat $D/sim_gpio22/value)" 11

command sleep s-1
wait_for 10 grep -q '"state":"draining"' /tmp/feed.log
check status-draining $? "draining published after the first sleep"
result s-1 ok; check first-sleep-result $? "s-1 answered ok"
agent_alive
check still-up-while-draining $? "no power-off before the go-ahead"
# An unsigned sleep is refused and changes nothing.
mosquitto_pub -h 127.0.0.1 -q 1 -t nexusgrid/v1/lab/cmd/sleep -m '{"id":"forged"}'
wait_for 10 grep -q '"command-rejected"' /tmp/feed.log
check unsigned-refused $? "an unsigned sleep is rejected"

echo "VLAB-SHUTDOWN-ARMED"
command sleep s-2
sleep 30
check guest-ended 1 "the guest was still running 30 s after the go-ahead"
cat /tmp/p.log
