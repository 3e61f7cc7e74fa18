#!/bin/sh
# A validator that stops mid-pull so a test can kill -9 the pull at that point: it creates
# $EC_TEST_SLOW_FLAG.started and waits (up to 60 s) while $EC_TEST_SLOW_FLAG exists, then passes.
# Only the kill -9 test uses it; every other pull is checked by the real ecmta --check-config.
if [ -n "$EC_TEST_SLOW_FLAG" ] && [ -e "$EC_TEST_SLOW_FLAG" ]; then
  : > "$EC_TEST_SLOW_FLAG.started"
  i=0
  while [ -e "$EC_TEST_SLOW_FLAG" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
fi
exit 0
