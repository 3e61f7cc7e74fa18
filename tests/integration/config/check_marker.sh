#!/bin/sh
# Stand-in for `ecmta --check-config` in the config tests: refuses a checkout (EC_CONF_DIR) if any
# file holds the line INVALID_CONFIG. If $EC_TEST_SLOW_FLAG names an existing file, it first
# creates $EC_TEST_SLOW_FLAG.started and waits (up to 60 s) so a test can kill the pull mid-way.
dir=${EC_CONF_DIR:?}
if [ -n "$EC_TEST_SLOW_FLAG" ] && [ -e "$EC_TEST_SLOW_FLAG" ]; then
  : > "$EC_TEST_SLOW_FLAG.started"
  i=0
  while [ -e "$EC_TEST_SLOW_FLAG" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
fi
bad=$(grep -rlx --exclude-dir=.git INVALID_CONFIG "$dir" | head -1)
if [ -n "$bad" ]; then
  echo "invalid config: INVALID_CONFIG marker in ${bad#"$dir"/}"
  exit 1
fi
exit 0
