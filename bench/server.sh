# Sourced by bench/*/run after they start `vmctl serve --data-dir "$DATA"` at $VMCTL_URL. wait_for_server waits until
# it answers, then exports what a client needs, found as the CLI finds it: VMCTL_DATA_DIR (the CLI reads
# $DATA/admin.token there) and VMCTL_TOKEN (the admin's token, for curl, Python and the Java benches:
# Authorization: Bearer $VMCTL_TOKEN).
wait_for_server() {
  local i
  for i in $(seq 150); do
    if [ -s "$DATA/admin.token" ] \
        && curl -sf -H "Authorization: Bearer $(cat "$DATA/admin.token")" "$VMCTL_URL/api/v1/vms" >/dev/null 2>&1; then
      break
    fi
    sleep 0.2
  done
  export VMCTL_DATA_DIR=$DATA
  VMCTL_TOKEN=$(cat "$DATA/admin.token")
  export VMCTL_TOKEN
}
