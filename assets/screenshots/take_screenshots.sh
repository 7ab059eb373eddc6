#!/bin/bash
set -u
export DISPLAY=:99
OUT=/tmp/demo/final; mkdir -p $OUT
rm -f /tmp/demo/demo2.db*
export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d)
/tmp/demo/bin/likeness --db /tmp/demo/demo2.db > /tmp/demo/app2.log 2>&1 &
APP=$!
echo $APP > /tmp/demo/app2.pid
sleep 4
WID=$(xdotool search --name Likeness | head -1)
xdotool windowmove $WID 0 0 windowsize $WID 1280 800; sleep 1; xdotool windowfocus --sync $WID 2>/dev/null; sleep 0.5
c() { xdotool mousemove $1 $2; sleep 0.3; xdotool click 1; sleep ${3:-0.5}; }
k() { xdotool key --window $WID "$@"; }
shot() { sleep ${2:-1}; import -window root $OUT/$1.png; }
c 430 97; xdotool type --delay 10 "/tmp/demo/photos"; k Return; sleep 1.5
c 29 165 0.1; sleep 2.0; shot scanning 0
sleep 8; shot library
k ctrl+2; shot people_unnamed 2
c 73 122 2
c 160 160 1.5; c 264 160 1
c 160 68; xdotool type --delay 20 "Eileen Collins"; k Return; sleep 1.5; shot person
k ctrl+2; shot people 2
k ctrl+4; shot verify 3
c 317 44 1
c 290 95; xdotool type --delay 5 "/tmp/demo/photos/camera_03.jpg"
c 300 118; xdotool type --delay 5 "/tmp/demo/photos/together_01.jpg"
c 42 141 4; shot verify_photos
k ctrl+5; sleep 1; c 23 111; c 23 134 2; shot photos
k ctrl+6; sleep 1; c 39 228 3; shot settings
k ctrl+3; shot review 2
